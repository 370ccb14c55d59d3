"""Keep benchmarks/bench_vs_sklearn.py running: a --quick run, checked end to end."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_vs_sklearn.py"

QUICK_ROWS = [
    "W1 float64 fit",
    "W2 float64 fit",
    "W3 float64 fit",
    "W3 float64 predict_proba",
    "W3 float32 fit",
    "W3 float32 predict_proba",
    "W4 float64 fit",
    "W4 float64 predict_proba",
    "W4 float32 fit",
    "W4 float32 predict_proba",
]


@pytest.fixture
def bench_vs_sklearn(monkeypatch):
    # benchmarks/ is not a package: load the script from its path.
    spec = importlib.util.spec_from_file_location("bench_vs_sklearn", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_consistent_results(bench_vs_sklearn, tmp_path, capsys):
    out = tmp_path / "out.json"

    assert bench_vs_sklearn.main(["--quick", "--json", str(out)]) == 0

    table = capsys.readouterr().out
    results = json.loads(out.read_text())
    rows = results["results"]
    assert [row["name"] for row in rows] == QUICK_ROWS
    for row in rows:
        assert row["name"] in table
        assert row["ours_seconds"] > 0
        assert row["sklearn_seconds"] > 0
        assert math.isfinite(row["ratio"]) and row["ratio"] > 0
        assert row["ours_peak_memory_bytes"] > 0
        assert row["sklearn_peak_memory_bytes"] > 0
        if row["task"] == "fit" and row["dtype"] == "float64":
            assert row["losses_agree"] is True, row
    assert results["environment"]["threads"] == 1
    assert results["environment"]["quick"] is True

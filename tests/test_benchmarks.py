"""Keep the benchmark scripts running: --quick runs, checked end to end."""

import json
import math

import pytest

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
def bench_vs_sklearn(load_benchmark):
    return load_benchmark("bench_vs_sklearn")


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
        assert row["matmul_flops"] > 0
        for estimator in ("ours", "sklearn"):
            fraction = row[f"{estimator}_fraction_of_gemm_peak"]
            assert fraction == pytest.approx(
                row["matmul_flops"]
                / row[f"{estimator}_seconds"]
                / row["gemm_peak_flops_per_second"]
            )
        if row["task"] == "fit" and row["dtype"] == "float64":
            assert row["losses_agree"] is True, row
    environment = results["environment"]
    assert environment["threads"] == 1
    assert environment["quick"] is True
    assert set(environment["gemm_peak_flops_per_second"]) == {"float64", "float32"}
    assert all(rate > 0 for rate in environment["gemm_peak_flops_per_second"].values())


def test_matmul_flops_count_each_product_once(bench_vs_sklearn):
    # 10 samples through 2 -> 3 -> 1: forward 10 * (2*3 + 3*1) multiply-adds,
    # the same again for the weight gradients, and 10 * 3*1 for the delta sent
    # back to the hidden layer (none to the input).
    assert bench_vs_sklearn.forward_flops((2, 3, 1), 10) == 2 * 10 * 9
    assert bench_vs_sklearn.epoch_flops((2, 3, 1), 10) == 2 * 10 * (9 + 9 + 3)


@pytest.fixture
def profile_step(bench_vs_sklearn, load_benchmark):
    # The script imports bench_vs_sklearn, which the fixture above has loaded.
    return load_benchmark("profile_step")


def test_profile_step_parts_add_up_to_the_fit(profile_step, tmp_path, capsys):
    out = tmp_path / "profile.json"

    argv = ["--quick", "--workloads", "W1,W2", "--json", str(out)]
    assert profile_step.main(argv) == 0

    table = capsys.readouterr().out
    results = json.loads(out.read_text())
    assert results["unit"] == "us/epoch"
    rows = results["results"]
    assert [(row["workload"], row["dtype"]) for row in rows] == [
        ("W1", "float64"),
        ("W2", "float64"),
    ]
    for row in rows:
        assert "limit (scikit-learn fit / our products + adam)" in table
        assert row["batches_per_epoch"] == row["n_samples"] / row["batch_size"]
        for estimator in ("ours", "sklearn"):
            parts = row[estimator]
            assert f"{row['workload']} {row['dtype']} {estimator}" in table
            assert len(parts["fit_times"]) == results["environment"]["repeats"]
            # Timed directly: positive. Differences of timings (gradient_rest,
            # loop) are only finite: noise may take them below zero.
            for part in ("fit", "products", "gradient", "adam"):
                assert math.isfinite(parts[part]) and parts[part] > 0, part
            assert parts["gradient_rest"] == pytest.approx(
                parts["gradient"] - parts["products"]
            )
            assert math.isfinite(parts["loop"])
            total = sum(parts[part] or 0.0 for part in profile_step.PARTS)
            assert total == pytest.approx(parts["fit"])
        assert row["ours"]["norm"] > 0
        assert row["sklearn"]["norm"] is None
        assert row["ours"]["products"] == row["sklearn"]["products"]
        assert row["limit"] == pytest.approx(
            row["sklearn"]["fit"] / (row["ours"]["products"] + row["ours"]["adam"])
        )
    assert results["environment"]["quick"] is True
    assert results["environment"]["repeats"] == 5

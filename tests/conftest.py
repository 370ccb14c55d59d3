"""Shared test configuration: the hypothesis settings profiles, shared data.

Two profiles are registered for the property-based tests:

``ci`` (the default)
    A bounded number of examples per test, derandomized so that every run
    tries the same examples, no per-example deadline (timings on a loaded
    machine say nothing about correctness) and no example database written
    to disk. The property tests take seconds.

``dev``
    Many more examples, random ones, with the example database kept in
    ``.hypothesis/`` so that a failure found once is replayed first next
    time. For a thorough local run.

Choose one with the ``HYPOTHESIS_PROFILE`` environment variable::

    HYPOTHESIS_PROFILE=dev python -m pytest tests/test_properties.py

(hypothesis' own ``--hypothesis-profile=dev`` pytest option works too).
"""

import importlib.util
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.register_profile("dev", max_examples=1000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def iris():
    """Iris, standardised: a small, well-posed 3-class problem."""
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture
def load_benchmark(monkeypatch):
    """Load a script of ``benchmarks/`` (not a package) as a module, by name.

    The module is registered in ``sys.modules`` for the test only, so that a
    script importing another one (``from bench_vs_sklearn import ...``) finds
    it once that one is loaded.
    """
    directory = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name):
        spec = importlib.util.spec_from_file_location(name, directory / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
        return module

    return load

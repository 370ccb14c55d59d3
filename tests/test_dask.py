"""Searches and restarts on a real dask.distributed cluster, against the local run."""

import importlib.util
import json
import math
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import joblib
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_adam_mlp import AdamMLPClassifier

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)

# The variables that dask's Nanny sets to 1 before it starts a worker process
# (distributed.nanny.pre-spawn-environ), unless the environment already sets them.
BLAS_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@contextmanager
def _local_cluster(n_workers, environment):
    with pytest.MonkeyPatch.context() as patch:
        # Also undoes the Nanny's writing of its variables into this process.
        for name in BLAS_VARIABLES:
            if name in environment:
                patch.setenv(name, environment[name])
            else:
                patch.delenv(name, raising=False)
        with (
            distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client


@pytest.fixture(scope="module")
def client():
    with _local_cluster(n_workers=2, environment={}) as client:
        yield client


@pytest.fixture(scope="module")
def data():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _estimator(**params):
    return AdamMLPClassifier(
        max_iter=30, learning_rate_init=0.01, random_state=0, **params
    )


def _calls_run(task_stream):
    """Count the joblib calls in the tasks that the cluster ran."""
    calls = [re.match(r"batch_of_.*_(\d+)_calls-", task["key"]) for task in task_stream]
    assert all(calls), [task["key"] for task in task_stream]
    return sum(int(match[1]) for match in calls)


def test_grid_search_on_the_cluster_equals_the_local_run(client, data):
    X, y = data
    grid = {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-1]}
    local = GridSearchCV(_estimator(), grid, cv=3, n_jobs=1).fit(X, y)

    with (
        distributed.get_task_stream(client) as task_stream,
        joblib.parallel_config(backend="dask"),
    ):
        remote = GridSearchCV(_estimator(), grid, cv=3, n_jobs=-1).fit(X, y)

    assert _calls_run(task_stream.data) == 4 * 3
    assert remote.best_params_ == local.best_params_
    for key, values in local.cv_results_.items():
        if "test_score" in key:
            assert_array_equal(remote.cv_results_[key], values, err_msg=key)


def test_cross_validate_on_the_cluster_equals_the_local_run(client, data):
    X, y = data
    local = cross_validate(_estimator(), X, y, cv=3, n_jobs=1, return_estimator=True)

    with (
        distributed.get_task_stream(client) as task_stream,
        joblib.parallel_config(backend="dask"),
    ):
        remote = cross_validate(
            _estimator(), X, y, cv=3, n_jobs=-1, return_estimator=True
        )

    assert _calls_run(task_stream.data) == 3
    assert_array_equal(remote["test_score"], local["test_score"])
    # The models fitted on the workers are the local ones, bit for bit.
    for remote_model, local_model in zip(
        remote["estimator"], local["estimator"], strict=True
    ):
        assert_array_equal(remote_model._params, local_model._params)


def test_restarts_on_the_cluster_equal_the_local_fit(client, data):
    X, y = data
    local = _estimator(n_init=3, n_jobs=1).fit(X, y)

    with (
        distributed.get_task_stream(client) as task_stream,
        joblib.parallel_config(backend="dask"),
    ):
        remote = _estimator(n_init=3, n_jobs=2).fit(X, y)

    assert _calls_run(task_stream.data) == 3
    assert_array_equal(remote.restart_losses_, local.restart_losses_)
    assert remote.best_restart_ == local.best_restart_
    for remote_coef, local_coef in zip(remote.coefs_, local.coefs_, strict=True):
        assert_array_equal(remote_coef, local_coef)


def _blas_threads():
    """Threads of each BLAS library loaded by the package, where this runs."""
    from threadpoolctl import threadpool_info

    import sklearn_adam_mlp  # noqa: F401 (loads numpy's and scipy's BLAS)

    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    assert blas, "no BLAS library found"
    return [info["num_threads"] for info in blas]


def _blas_threads_in_a_task_on_each_worker(client):
    workers = sorted(client.scheduler_info()["workers"])
    futures = [
        client.submit(_blas_threads, workers=[worker], pure=False) for worker in workers
    ]
    return dict(zip(workers, client.gather(futures), strict=True))


def test_each_worker_uses_one_blas_thread(client):
    threads = _blas_threads_in_a_task_on_each_worker(client)

    assert len(threads) == 2
    assert all(set(counts) == {1} for counts in threads.values()), threads


class LimitBLASThreads(distributed.WorkerPlugin):
    """The worker plugin of docs/scaling.rst."""

    def __init__(self, n_threads=1):
        self.n_threads = n_threads

    def setup(self, worker):
        import sklearn_adam_mlp  # noqa: F401 (loads the BLAS libraries to limit)

        threadpool_limits(limits=self.n_threads, user_api="blas")


def test_a_worker_plugin_limits_blas_threads_set_in_the_environment():
    # Variables set in the environment win over the Nanny's defaults.
    environment = dict.fromkeys(BLAS_VARIABLES, "2")
    with _local_cluster(n_workers=1, environment=environment) as client:
        client.register_plugin(LimitBLASThreads(1))
        threads = _blas_threads_in_a_task_on_each_worker(client)

    assert len(threads) == 1
    assert all(set(counts) == {1} for counts in threads.values()), threads


def test_benchmark_quick_run_on_the_cluster(client, tmp_path, monkeypatch, capsys):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_dask_search.py"
    spec = importlib.util.spec_from_file_location("bench_dask_search", path)
    benchmark = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, benchmark)
    spec.loader.exec_module(benchmark)
    output = tmp_path / "results.json"

    status = benchmark.main(
        ["--quick", "--scheduler", client.scheduler.address, "--output", str(output)]
    )

    assert status == 0
    report = json.loads(output.read_text())
    assert report["n_workers"] == 2
    [row] = report["results"]
    assert row["workload"] == "small" and row["n_fits"] == 12 and row["agree"]
    for ratio in (row["dask_ratio"], row["loky_ratio"]):
        assert math.isfinite(ratio) and ratio > 0
    assert "dask ratio" in capsys.readouterr().out

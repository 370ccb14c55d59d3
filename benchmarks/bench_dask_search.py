"""Time a grid search over AdamMLPClassifier on a dask cluster against ``n_jobs=1``.

The same ``GridSearchCV`` (digits, standardised, ``cv=3``) runs three ways, with
the repeats interleaved (local, dask, loky, local, dask, loky, ...) so that a slow
patch of a shared machine hits all alike:

- ``local``: ``n_jobs=1`` in this process;
- ``dask``: ``n_jobs=-1`` inside ``joblib.parallel_config(backend="dask")`` on a
  ``dask.distributed`` cluster: a ``LocalCluster`` of ``--workers`` worker
  processes with one thread each, or the scheduler at ``--scheduler``;
- ``loky``: ``n_jobs=--workers`` with joblib's default process pool, the way to
  use the cores of one machine without a cluster, for reference.

Every process uses one BLAS thread (this one through threadpoolctl, dask's workers
by the variables their Nanny sets, loky's by its own limit), so that the workers
do not fight over the cores. Each way runs once untimed first, so that worker
start-up and imports are not counted; the cluster's start-up time is reported on
its own, and so is the machine's one-minute load average before and after: on a
shared machine, other processes' load eats into the speed-up.

Run it from the repository root::

    python benchmarks/bench_dask_search.py                 # 1-2 minutes on 2 cores
    python benchmarks/bench_dask_search.py --quick         # a few seconds
    python benchmarks/bench_dask_search.py --repeats 7 --output results.json
    python benchmarks/bench_dask_search.py --scheduler tcp://host:8786

Workloads (``--quick`` runs ``small`` once, with fewer epochs):

- small: hidden (16,) or (32,) x alpha 1e-4 or 1e-2, 5 epochs: 12 fits of a few
  milliseconds each, where scheduling costs more than the fits.
- large: hidden (64,), (128,) or (256,) x alpha 1e-4 or 1e-2, 40 epochs: 18 fits of
  a few hundred milliseconds each.

How to read the table: the times are MEDIAN seconds of one whole search over the
repeats; ``dask ratio`` = local time / dask time (above 1 the cluster is faster:
2.0 means twice as fast), ``loky ratio`` likewise. ``agree`` says whether the three
searches found the same ``best_params_`` and identical ``mean_test_score``.

The exit status is 0, or 1 if any search disagrees with the local one.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings

import dask
import distributed
import joblib
import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import sklearn_adam_mlp
from sklearn_adam_mlp import AdamMLPClassifier

WORKLOADS = {
    "small": {
        "grid": {"hidden_layer_sizes": [(16,), (32,)], "alpha": [1e-4, 1e-2]},
        "max_iter": 5,
    },
    "large": {
        "grid": {"hidden_layer_sizes": [(64,), (128,), (256,)], "alpha": [1e-4, 1e-2]},
        "max_iter": 40,
    },
}
QUICK_MAX_ITER = 2
WAYS = ("local", "dask", "loky")


def _search(X, y, workload, *, way, n_workers, max_iter):
    """Run one grid search; return (seconds, search)."""
    estimator = AdamMLPClassifier(max_iter=max_iter, random_state=0)
    n_jobs = {"local": 1, "dask": -1, "loky": n_workers}[way]
    search = GridSearchCV(estimator, workload["grid"], cv=3, n_jobs=n_jobs)
    backend = "dask" if way == "dask" else "loky"
    with joblib.parallel_config(backend=backend), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, search


def _agree(search, reference):
    return search.best_params_ == reference.best_params_ and np.array_equal(
        search.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"]
    )


def run(workload_names, *, repeats, n_workers, max_iter=None):
    """Time every workload in every way; return one result dict per workload."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    results = []
    for name in workload_names:
        workload = WORKLOADS[name]
        epochs = max_iter or workload["max_iter"]
        times = {way: [] for way in WAYS}
        searches = {}
        for repeat in range(repeats + 1):  # the first round warms up, untimed
            for way in WAYS:
                seconds, searches[way] = _search(
                    X, y, workload, way=way, n_workers=n_workers, max_iter=epochs
                )
                if repeat:
                    times[way].append(seconds)
        medians = {way: statistics.median(times[way]) for way in WAYS}
        results.append(
            {
                "workload": name,
                "n_fits": 3 * len(searches["local"].cv_results_["params"]),
                "max_iter": epochs,
                "median_seconds": medians,
                "seconds": times,
                "dask_ratio": medians["local"] / medians["dask"],
                "loky_ratio": medians["local"] / medians["loky"],
                "agree": all(
                    _agree(searches[way], searches["local"]) for way in WAYS[1:]
                ),
            }
        )
    return results


def _table(results):
    header = (
        f"{'workload':<9}{'fits':>5}{'epochs':>7}{'local s':>9}{'dask s':>8}"
        f"{'loky s':>8}{'dask ratio':>11}{'loky ratio':>11}  agree"
    )
    lines = [header, "-" * len(header)]
    for row in results:
        median = row["median_seconds"]
        lines.append(
            f"{row['workload']:<9}{row['n_fits']:>5}{row['max_iter']:>7}"
            f"{median['local']:>9.3f}{median['dask']:>8.3f}{median['loky']:>8.3f}"
            f"{row['dask_ratio']:>11.2f}{row['loky_ratio']:>11.2f}  "
            f"{'yes' if row['agree'] else 'NO'}"
        )
    return "\n".join(lines)


def _machine():
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "dask": dask.__version__,
        "distributed": distributed.__version__,
        "sklearn_adam_mlp": sklearn_adam_mlp.__version__,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small workload, once")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats")
    parser.add_argument(
        "--workers", type=int, default=2, help="LocalCluster worker processes"
    )
    parser.add_argument(
        "--scheduler", help="address of a running scheduler, instead of a LocalCluster"
    )
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help="comma-separated names"
    )
    parser.add_argument("--output", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    names = ["small"] if args.quick else args.workloads.split(",")
    repeats = 1 if args.quick else args.repeats

    start = time.perf_counter()
    if args.scheduler:
        client = distributed.Client(args.scheduler)
        cluster = None
    else:
        cluster = distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = distributed.Client(cluster)
    cluster_start = time.perf_counter() - start
    load_before = os.getloadavg()[0]
    try:
        n_workers = len(client.scheduler_info()["workers"])
        with threadpool_limits(limits=1, user_api="blas"):
            results = run(
                names,
                repeats=repeats,
                n_workers=n_workers,
                max_iter=QUICK_MAX_ITER if args.quick else None,
            )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    load_after = os.getloadavg()[0]
    print(
        f"{n_workers} dask workers; cluster start {cluster_start:.2f} s; "
        f"{os.cpu_count()} CPUs, load average {load_before:.2f} before, "
        f"{load_after:.2f} after"
    )
    print(f"medians of {repeats} interleaved repeats")
    print(_table(results))
    if args.output:
        report = {
            "machine": _machine(),
            "scheduler": args.scheduler or f"LocalCluster({args.workers} processes)",
            "n_workers": n_workers,
            "cluster_start_seconds": cluster_start,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "repeats": repeats,
            "results": results,
        }
        with open(args.output, "w") as file:
            json.dump(report, file, indent=2)
    return 0 if all(row["agree"] for row in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Split one training epoch into its parts, for our estimator and scikit-learn's.

``bench_vs_sklearn.py`` says how fast each estimator is; this script says where
the time of an epoch goes, so that a reader can see what bounds the speed ratio.
Both estimators are fitted on the workloads of ``bench_vs_sklearn.py`` (same data
and settings, the fits interleaved), then the parts of one step are timed on one
real batch with the fitted models.

Run it from the repository root::

    python benchmarks/profile_step.py                   # everything, minutes
    python benchmarks/profile_step.py --quick           # the shrunk workloads
    python benchmarks/profile_step.py --workloads W1,W2 --repeats 3
    python benchmarks/profile_step.py --threads 2 --json profile.json

Every number is in MICROSECONDS PER EPOCH:

- ``fit``: the MEDIAN over the repeats of a whole ``fit`` divided by its epochs;
  it also carries the once-per-fit work (validation, initialisation).
- ``products``: the epoch's matrix products alone (forward, weight gradients,
  deltas sent back) replayed with the training shapes; the same for both.
- ``gradient_rest``: the loss and gradient of a batch (our
  ``Network.loss_gradient``, scikit-learn's ``_backprop``) minus its products:
  activations and their derivatives, the output loss, column sums, the L2 term.
- ``adam``: the Adam update (``adam_step``, scikit-learn's
  ``_optimizer.update_params``).
- ``norm``: the gradient norm we record each step (``global_norm``);
  scikit-learn computes none (``-``).
- ``loop``: ``fit`` minus all of the above: shuffling, gathering the batch's
  rows, checks, bookkeeping, the Python of the loop.

Each part of a step is the BEST of the repeats (each repeat makes enough calls to
last ~50 ms), an estimate of its floor, timed on one full batch and scaled by
``n_samples / batch_size`` batches per epoch, as ``matmul_seconds_per_epoch``
scales the products: a smaller last batch counts as a fraction of a batch. So
``loop`` also takes what the real loop loses to the median and to colder caches.
``gradient_rest`` and ``loop`` are differences of timings, printed as measured: a
small negative value is noise, not a bug. ``n/a`` marks a part that the installed
scikit-learn's internals (which change across versions) did not let us time.

How to read the table: each part shows its share of ``fit``. The products and the
Adam update are fixed by the promise to compute scikit-learn's numbers with the
same BLAS calls; the rest is overhead an implementation controls. Hence the line
under the table for each workload::

    limit (scikit-learn fit / our products + adam) = X

the best ratio (scikit-learn time / our time) that any implementation making the
same products and the same bit-identical Adam passes could reach; then the ratio
of the fits, and the rate of the products as a share of the GEMM peak measured at
the start (see ``bench_vs_sklearn.py``).
"""

import argparse
import copy
import inspect
import json
import math
import statistics
import sys
from functools import partial

import numpy as np
from bench_vs_sklearn import (
    ESTIMATORS,
    GEMM_PEAK_SIZE,
    WORKLOADS,
    _positive_int,
    _workload_names,
    align_columns,
    build_workloads,
    environment,
    epoch_flops,
    fit,
    gemm_peak,
    matmul_seconds_per_epoch,
    time_call,
)
from threadpoolctl import threadpool_limits

from sklearn_adam_mlp._adam import AdamState, adam_step, global_norm

PARTS = ("products", "gradient_rest", "adam", "norm", "loop")
MIN_TIMED_SECONDS = 0.05  # of each timed repeat of a part
ADAM = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}


def best_seconds_per_call(function, repeats, *, setup=None):
    """Best over ``repeats`` of the mean seconds of a call to ``function()``.

    Each repeat makes enough calls to last about ``MIN_TIMED_SECONDS``;
    ``setup()``, when given, runs untimed before each repeat.
    """
    calls = max(1, int(MIN_TIMED_SECONDS / time_call(function)[0]))

    def many():
        for _ in range(calls):
            function()

    best = math.inf
    for _ in range(repeats):
        if setup is not None:
            setup()
        best = min(best, time_call(many)[0])
    return best / calls


def ours_batch_seconds(estimator, X, Y, repeats):
    """Seconds of our loss-and-gradient, Adam update and norm on one batch."""
    network, params = estimator._network, estimator._params
    buffers = network.allocate(X.shape[0], params.dtype)
    gradient = np.empty_like(params)
    loss_gradient = partial(
        network.loss_gradient,
        params,
        X,
        Y,
        alpha=estimator.alpha,
        gradient=gradient,
        buffers=buffers,
    )
    seconds = {"gradient": best_seconds_per_call(loss_gradient, repeats)}
    seconds["norm"] = best_seconds_per_call(partial(global_norm, gradient), repeats)
    # With overwrite_gradient the gradient is scratch: each call steps along the
    # previous update, of the order of the learning rate, so the values stay small.
    params_copy, gradient_copy = params.copy(), gradient.copy()
    state = AdamState(params.size, params.dtype)
    step = partial(adam_step, params_copy, gradient_copy, state, **ADAM)
    seconds["adam"] = best_seconds_per_call(
        partial(step, overwrite_gradient=True), repeats
    )
    if not (np.isfinite(params_copy).all() and np.isfinite(state.second_moment).all()):
        raise RuntimeError("the timed Adam updates made non-finite values")
    return seconds


def sklearn_batch_seconds(mlp, X, Y, repeats):
    """Seconds of scikit-learn's ``_backprop`` and Adam update on one batch.

    A part is None when the installed scikit-learn lacks the internal it needs.
    """
    n_layers = len(mlp.coefs_) + 1
    lists = {
        "activations": [X] + [None] * (n_layers - 1),
        "deltas": [None] * (n_layers - 1),
        "coef_grads": [np.zeros_like(coef) for coef in mlp.coefs_],
        "intercept_grads": [np.zeros_like(b) for b in mlp.intercepts_],
    }
    seconds = {"gradient": None, "adam": None, "norm": None}
    try:
        # scikit-learn 1.7 added sample_weight to the signature.
        if "sample_weight" in inspect.signature(mlp._backprop).parameters:
            lists["sample_weight"] = None
        backprop = partial(mlp._backprop, X=X, y=Y, **lists)
        seconds["gradient"] = best_seconds_per_call(backprop, repeats)
    except (AttributeError, TypeError) as error:
        print(f"scikit-learn _backprop: n/a ({error})", file=sys.stderr)
    try:
        optimizer = mlp._optimizer
        params = mlp.coefs_ + mlp.intercepts_
        grads = lists["coef_grads"] + lists["intercept_grads"]

        def reset():
            # From the fitted moments each repeat: a moment whose gradient is
            # exactly 0 (a dead unit) decays and would turn subnormal, and slow.
            mlp._optimizer = copy.deepcopy(optimizer)

        seconds["adam"] = best_seconds_per_call(
            lambda: mlp._optimizer.update_params(params, grads), repeats, setup=reset
        )
        if not all(np.isfinite(param).all() for param in params):
            raise RuntimeError("the timed Adam updates made non-finite values")
    except (AttributeError, TypeError) as error:
        print(f"scikit-learn update_params: n/a ({error})", file=sys.stderr)
    return seconds


def breakdown(fit_seconds, products, batch_seconds, batches_per_epoch):
    """Microseconds per epoch of each part; None for a part not timed.

    ``products`` and ``batch_seconds`` are seconds of one batch. ``loop`` is
    None unless the gradient and the Adam update were both timed; a ``norm`` of
    None (scikit-learn computes none) counts as no time.
    """

    def per_epoch(seconds):
        return None if seconds is None else 1e6 * seconds * batches_per_epoch

    parts = {"fit": 1e6 * fit_seconds, "products": per_epoch(products)}
    gradient = batch_seconds["gradient"]
    parts["gradient"] = per_epoch(gradient)
    parts["gradient_rest"] = (
        None if gradient is None else per_epoch(gradient - products)
    )
    parts["adam"] = per_epoch(batch_seconds["adam"])
    parts["norm"] = per_epoch(batch_seconds["norm"])
    if parts["gradient"] is None or parts["adam"] is None:
        parts["loop"] = None
    else:
        known = [parts[part] or 0.0 for part in PARTS[:-1]]
        parts["loop"] = parts["fit"] - sum(known)
    return parts


def profile(workload, repeats, peak):
    """Time interleaved fits, then the parts of one step; return the result row."""
    fit_seconds = {name: [] for name in ESTIMATORS}
    fitted = {}
    for _ in range(repeats):
        for name in ESTIMATORS:
            seconds, fitted[name] = time_call(partial(fit, name, workload))
            fit_seconds[name].append(seconds / workload.epochs)
    n_samples = workload.X.shape[0]
    batch_size = min(workload.params["batch_size"], n_samples)
    X = workload.X[:batch_size]
    # The targets as both estimators make them: a boolean indicator matrix.
    Y = fitted["ours"]._label_binarizer.transform(workload.y[:batch_size]).astype(bool)
    layer_units = fitted["ours"]._network.layer_units
    products = matmul_seconds_per_epoch(
        layer_units, batch_size, batch_size, workload.dtype, repeats
    )
    batch_seconds = {
        "ours": ours_batch_seconds(fitted["ours"], X, Y, repeats),
        "sklearn": sklearn_batch_seconds(fitted["sklearn"], X, Y, repeats),
    }
    row = {
        "workload": workload.name,
        "dtype": workload.dtype,
        "n_samples": n_samples,
        "batch_size": batch_size,
        "batches_per_epoch": n_samples / batch_size,
        "epochs": workload.epochs,
    }
    for name in ESTIMATORS:
        row[name] = breakdown(
            statistics.median(fit_seconds[name]),
            products,
            batch_seconds[name],
            row["batches_per_epoch"],
        )
        row[name]["fit_times"] = [1e6 * seconds for seconds in fit_seconds[name]]
    ours, theirs = row["ours"], row["sklearn"]
    row["ratio"] = theirs["fit"] / ours["fit"]
    row["limit"] = theirs["fit"] / (ours["products"] + ours["adam"])
    products_rate = epoch_flops(layer_units, n_samples) / (1e-6 * ours["products"])
    row["products_fraction_of_gemm_peak"] = products_rate / peak
    return row


def _microseconds(value):
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def format_table(rows):
    """One line per workload and estimator, then each workload's limit."""
    header = ("workload", "fit", *PARTS)
    lines = [header]
    for row in rows:
        for name in ESTIMATORS:
            parts = row[name]
            cells = [f"{row['workload']} {row['dtype']} {name}"]
            cells.append(_microseconds(parts["fit"]))
            for part in PARTS:
                value = parts[part]
                if value is None:
                    cells.append("-" if part == "norm" else "n/a")
                else:
                    share = 100 * value / parts["fit"]
                    cells.append(f"{_microseconds(value)} ({share:.0f}%)")
            lines.append(cells)
    formatted = align_columns(lines)
    formatted.append("")
    for row in rows:
        formatted.append(
            f"{row['workload']} {row['dtype']}: limit (scikit-learn fit / our "
            f"products + adam) = {row['limit']:.2f}; ratio of the fits "
            f"{row['ratio']:.2f}; products at "
            f"{100 * row['products_fraction_of_gemm_peak']:.0f}% of GEMM peak"
        )
    return "\n".join(formatted)


def _parser():
    parser = argparse.ArgumentParser(
        description="Where the time of one epoch goes, in microseconds per epoch."
    )
    parser.add_argument(
        "--repeats", type=_positive_int, default=5, help="fits and part timings"
    )
    parser.add_argument(
        "--threads", type=_positive_int, default=1, help="BLAS threads (default: 1)"
    )
    parser.add_argument(
        "--workloads",
        type=_workload_names,
        default=list(WORKLOADS),
        metavar="W1,W2,...",
        help=f"workloads to run (default: {','.join(WORKLOADS)})",
    )
    parser.add_argument("--quick", action="store_true", help="use the shrunk workloads")
    parser.add_argument(
        "--json", metavar="PATH", default=None, help="also write the results here"
    )
    return parser


def main(argv=None):
    """Profile the workloads, print the table and return 0."""
    args = _parser().parse_args(argv)
    workloads = build_workloads(args.workloads, quick=args.quick)
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        size = GEMM_PEAK_SIZE // (4 if args.quick else 1)
        peaks = {
            dtype: gemm_peak(dtype, size=size)
            for dtype in dict.fromkeys(workload.dtype for workload in workloads)
        }
        env = environment(args.threads, args.repeats, args.quick, peaks)
        for workload in workloads:
            print(f"profiling {workload.name} {workload.dtype} ...", file=sys.stderr)
            rows.append(profile(workload, args.repeats, peaks[workload.dtype]))
    print(
        f"sklearn_adam_mlp {env['sklearn_adam_mlp']} vs scikit-learn "
        f"{env['scikit-learn']} | {args.threads} BLAS thread(s) | microseconds "
        f"per epoch: fit median of {args.repeats}, parts best of {args.repeats}"
    )
    print(format_table(rows))
    if args.json is not None:
        with open(args.json, "w") as file:
            results = {"environment": env, "unit": "us/epoch", "results": rows}
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

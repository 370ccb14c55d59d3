"""Time AdamMLPClassifier against scikit-learn's ``MLPClassifier(solver="adam")``.

Both estimators are fitted on the same data with the same settings and the same
``random_state``, in one process, with the repeats interleaved (ours, scikit-learn,
ours, scikit-learn, ...) so that a slow patch of a shared machine hits both alike.

Run it from the repository root::

    python benchmarks/bench_vs_sklearn.py                      # everything, ~minutes
    python benchmarks/bench_vs_sklearn.py --quick              # a few seconds
    python benchmarks/bench_vs_sklearn.py --workloads W1,W3 --repeats 5
    python benchmarks/bench_vs_sklearn.py --threads 4 --json results.json

Workloads (``--quick`` shrinks each one, see ``WORKLOADS``):

- W1  breast cancer, standardised, hidden (3,), logistic, full batch, 500 epochs.
- W2  digits, standardised, hidden (100,), relu, batch 200, 50 epochs.
- W3  ``make_classification`` 20000 x 100, 10 classes, standardised,
  hidden (256, 128), relu, batch 256, 10 epochs; float64 and float32.
- W4  ``make_classification`` 100000 x 200, 2 classes, standardised,
  hidden (512, 512), relu, batch 512, 3 epochs; float64 and float32.
- W3 and W4 also time ``predict_proba`` on the training data with the fitted models.

Every fit uses ``tol=0`` and ``n_iter_no_change=max_iter``, so both estimators run
exactly the stated number of epochs (the script checks ``n_iter_``), and the other
settings at their defaults (``shuffle=True``, ``alpha=1e-4``, ...).

How to read the table:

- ``ours`` and ``sklearn`` are MEDIAN seconds over the repeats: seconds per epoch for
  a fit row, seconds per call for a ``predict_proba`` row.
- ``ratio`` = scikit-learn time / our time. Above 1 we are faster (2.0: scikit-learn
  takes twice as long); below 1 we are slower. Differences of a few percent are noise
  on a shared machine; rerun with more ``--repeats`` before reading anything into them.
- ``%peak`` columns: the matrix-product work of the row (two flops per multiply-add:
  per epoch, the forward products, the weight gradients and the deltas sent back to
  every hidden layer; per ``predict_proba`` call, the forward products) divided by
  the median time, as a percentage of the GEMM peak measured at the start (the best
  rate of a square ``matmul`` in the row's dtype, with the same BLAS threads). It is
  an upper bound on what the products alone allow: 100% would mean no time at all
  outside them, at the best rate the BLAS reaches.
- ``limit`` (fit rows): scikit-learn's time divided by the time of the epoch's matrix
  products alone, replayed with the training shapes (one batch's products, times the
  number of batches). No implementation of the same math with the same BLAS calls
  can reach a higher ratio.
- ``ours loss`` / ``sklearn loss`` are ``loss_curve_[-1]`` of the fits; ``agree``
  says whether their relative difference is below 1e-6 (float64) or 1e-3 (float32).
  A timing comparison is only meaningful when both computed the same thing.
- ``MiB`` columns are the peak memory traced by ``tracemalloc`` (numpy allocations
  included) during one extra, untimed fit or call of each, so that tracing does not
  slow the timed runs. The training data, allocated beforehand, is not counted.

The exit status is 0, or 1 if the final losses of any fit row disagree.
"""

import argparse
import json
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise

import numpy as np
import scipy
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

import sklearn_adam_mlp
from sklearn_adam_mlp import AdamMLPClassifier

ESTIMATORS = {
    "ours": AdamMLPClassifier,
    "sklearn": partial(MLPClassifier, solver="adam"),
}
LOSS_RTOL = {"float64": 1e-6, "float32": 1e-3}
RANDOM_STATE = 0
QUICK_SAMPLES = 2000
GEMM_PEAK_SIZE = 2048  # of the square matmul that measures the peak (512 --quick)


@dataclass(frozen=True)
class WorkloadSpec:
    """How to build one workload, at full size and with ``--quick``."""

    load: Callable[[bool], tuple]  # quick -> (X, y)
    standardise: bool
    hidden_layer_sizes: tuple
    activation: str
    batch_size: int | None  # None: the whole training set in one batch
    epochs: int
    quick_epochs: int
    dtypes: tuple = ("float64",)
    time_predict: bool = False


def _classification(*, n_samples, n_features, n_informative, n_classes):
    def load(quick):
        return make_classification(
            n_samples=QUICK_SAMPLES if quick else n_samples,
            n_features=n_features,
            n_informative=n_informative,
            n_classes=n_classes,
            random_state=0,
        )

    return load


WORKLOADS = {
    "W1": WorkloadSpec(
        load=lambda quick: load_breast_cancer(return_X_y=True),
        standardise=True,
        hidden_layer_sizes=(3,),
        activation="logistic",
        batch_size=None,
        epochs=500,
        quick_epochs=20,
    ),
    "W2": WorkloadSpec(
        load=lambda quick: load_digits(return_X_y=True),
        standardise=True,
        hidden_layer_sizes=(100,),
        activation="relu",
        batch_size=200,
        epochs=50,
        quick_epochs=5,
    ),
    "W3": WorkloadSpec(
        load=_classification(
            n_samples=20000, n_features=100, n_informative=50, n_classes=10
        ),
        standardise=True,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        batch_size=256,
        epochs=10,
        quick_epochs=1,
        dtypes=("float64", "float32"),
        time_predict=True,
    ),
    "W4": WorkloadSpec(
        load=_classification(
            n_samples=100000, n_features=200, n_informative=100, n_classes=2
        ),
        # Its redundant features have standard deviations up to ~40. Unscaled, the
        # first epoch saturates the output, and scikit-learn's loss, clipped at
        # float32 epsilon, then differs from the exact one by ~1e-3 even though
        # the weights agree: standardise, as anyone would for an MLP.
        standardise=True,
        hidden_layer_sizes=(512, 512),
        activation="relu",
        batch_size=512,
        epochs=3,
        quick_epochs=1,
        dtypes=("float64", "float32"),
        time_predict=True,
    ),
}


@dataclass
class Workload:
    """One row of data and estimator settings, shared by both estimators."""

    name: str
    dtype: str
    X: np.ndarray
    y: np.ndarray
    params: dict
    time_predict: bool

    @property
    def epochs(self):
        return self.params["max_iter"]

    @property
    def layer_units(self):
        n_classes = len(np.unique(self.y))
        n_outputs = 1 if n_classes == 2 else n_classes
        return (self.X.shape[1], *self.params["hidden_layer_sizes"], n_outputs)


def forward_flops(layer_units, n_samples):
    """Flops of the forward matrix products, two per multiply-add."""
    return 2 * n_samples * sum(a * b for a, b in pairwise(layer_units))


def epoch_flops(layer_units, n_samples):
    """Flops of the matrix products of one training epoch, two per multiply-add.

    Each layer's product is done three times (forward, weight gradient, delta sent
    back), except that no delta is sent back to the input.
    """
    return 3 * forward_flops(layer_units, n_samples) - 2 * n_samples * (
        layer_units[0] * layer_units[1]
    )


@dataclass
class Row:
    """The measurements of one line of the table."""

    workload: str
    dtype: str
    task: str  # "fit" or "predict_proba"
    n_samples: int
    n_features: int
    unit: str
    flops: float  # matrix-product flops per unit (epoch or call)
    gemm_peak: float  # measured GEMM flops per second in this dtype
    matmul_seconds: float | None = None  # the products alone, per epoch (fit)
    times: dict = field(default_factory=dict)  # estimator -> seconds per repeat
    peak_memory_bytes: dict = field(default_factory=dict)
    final_loss: dict = field(default_factory=dict)
    loss_rtol: float | None = None

    @property
    def name(self):
        return f"{self.workload} {self.dtype} {self.task}"

    def median(self, estimator):
        return statistics.median(self.times[estimator])

    @property
    def ratio(self):
        return self.median("sklearn") / self.median("ours")

    def fraction_of_gemm_peak(self, estimator):
        return self.flops / self.median(estimator) / self.gemm_peak

    @property
    def limit(self):
        if self.matmul_seconds is None:
            return None
        return self.median("sklearn") / self.matmul_seconds

    @property
    def loss_relative_difference(self):
        if not self.final_loss:
            return None
        ours, theirs = self.final_loss["ours"], self.final_loss["sklearn"]
        return abs(ours - theirs) / abs(theirs)

    @property
    def losses_agree(self):
        if not self.final_loss:
            return None
        return bool(self.loss_relative_difference < self.loss_rtol)

    def as_dict(self):
        return {
            "name": self.name,
            "workload": self.workload,
            "dtype": self.dtype,
            "task": self.task,
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "unit": self.unit,
            "ours_seconds": self.median("ours"),
            "sklearn_seconds": self.median("sklearn"),
            "ratio": self.ratio,
            "matmul_flops": self.flops,
            "gemm_peak_flops_per_second": self.gemm_peak,
            "ours_fraction_of_gemm_peak": self.fraction_of_gemm_peak("ours"),
            "sklearn_fraction_of_gemm_peak": self.fraction_of_gemm_peak("sklearn"),
            "matmul_only_seconds": self.matmul_seconds,
            "limit_ratio": self.limit,
            "ours_times": self.times["ours"],
            "sklearn_times": self.times["sklearn"],
            "ours_final_loss": self.final_loss.get("ours"),
            "sklearn_final_loss": self.final_loss.get("sklearn"),
            "loss_relative_difference": self.loss_relative_difference,
            "loss_rtol": self.loss_rtol,
            "losses_agree": self.losses_agree,
            "ours_peak_memory_bytes": self.peak_memory_bytes["ours"],
            "sklearn_peak_memory_bytes": self.peak_memory_bytes["sklearn"],
        }


def build_workloads(names, *, quick):
    """Load, standardise and cast the data of the named workloads (untimed)."""
    workloads = []
    for name in names:
        spec = WORKLOADS[name]
        X, y = spec.load(quick)
        if spec.standardise:
            X = StandardScaler().fit_transform(X)
        epochs = spec.quick_epochs if quick else spec.epochs
        params = {
            "hidden_layer_sizes": spec.hidden_layer_sizes,
            "activation": spec.activation,
            "batch_size": X.shape[0] if spec.batch_size is None else spec.batch_size,
            "max_iter": epochs,
            "tol": 0.0,
            # With tol=0 a plateau could still end a run early; this cannot.
            "n_iter_no_change": epochs,
            "random_state": RANDOM_STATE,
        }
        for dtype in spec.dtypes:
            workloads.append(
                Workload(
                    name=name,
                    dtype=dtype,
                    X=np.ascontiguousarray(X, dtype=dtype),
                    y=y,
                    params=params,
                    time_predict=spec.time_predict,
                )
            )
    return workloads


def fit(estimator_name, workload):
    """Fit one estimator on a workload and check it ran every epoch."""
    estimator = ESTIMATORS[estimator_name](**workload.params)
    with warnings.catch_warnings():
        # tol=0 never converges, by design.
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(workload.X, workload.y)
    if estimator.n_iter_ != workload.epochs:
        raise RuntimeError(
            f"{estimator_name} ran {estimator.n_iter_} epochs on {workload.name} "
            f"instead of {workload.epochs}; the per-epoch times would be wrong."
        )
    return estimator


def time_call(function):
    """Return the wall-clock seconds of ``function()`` and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def matmul_seconds_per_epoch(layer_units, n_samples, batch_size, dtype, repeats=5):
    """Seconds per epoch of the training matrix products alone, best of repeats.

    One batch's products as the training loop makes them (forward, weight
    gradients, deltas sent back; one output column sends its delta back by a
    broadcast product), timed and scaled to ``n_samples / batch_size`` batches.
    """
    rng = np.random.default_rng(0)
    activations, deltas = (
        [rng.standard_normal((batch_size, n)).astype(dtype) for n in layer_units]
        for _ in range(2)
    )
    weights = [
        (rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype)
        for a, b in pairwise(layer_units)
    ]
    gradients = [np.empty_like(weight) for weight in weights]

    def one_batch():
        for layer, weight in enumerate(weights):
            np.matmul(activations[layer], weight, out=activations[layer + 1])
        for layer in reversed(range(len(weights))):
            delta = deltas[layer + 1]
            np.matmul(activations[layer].T, delta, out=gradients[layer])
            if layer > 0 and delta.shape[1] == 1:
                np.multiply(delta, weights[layer].T, out=deltas[layer])
            elif layer > 0:
                np.matmul(delta, weights[layer].T, out=deltas[layer])

    one_batch()
    calls = max(1, int(0.05 / time_call(one_batch)[0]))
    best = min(
        time_call(lambda: [one_batch() for _ in range(calls)])[0]
        for _ in range(repeats)
    )
    return best / calls * n_samples / batch_size


def gemm_peak(dtype, *, size, repeats=7):
    """Best flops per second of ``size x size`` square ``matmul`` calls."""
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((size, size)).astype(dtype) for _ in range(2))
    out = np.empty((size, size), dtype=dtype)
    np.matmul(A, B, out=out)  # warm up the BLAS
    best = min(time_call(partial(np.matmul, A, B, out=out))[0] for _ in range(repeats))
    return 2 * size**3 / best


def peak_memory(function):
    """Return the peak bytes traced by ``tracemalloc`` while ``function()`` runs."""
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def benchmark_fit(workload, repeats, gemm_peak):
    """Time interleaved fits, then measure memory; return the row and the models."""
    n_samples = workload.X.shape[0]
    row = Row(
        workload=workload.name,
        dtype=workload.dtype,
        task="fit",
        n_samples=n_samples,
        n_features=workload.X.shape[1],
        unit="s/epoch",
        flops=epoch_flops(workload.layer_units, n_samples),
        gemm_peak=gemm_peak,
        matmul_seconds=matmul_seconds_per_epoch(
            workload.layer_units,
            n_samples,
            workload.params["batch_size"],
            workload.dtype,
        ),
        times={name: [] for name in ESTIMATORS},
        loss_rtol=LOSS_RTOL[workload.dtype],
    )
    fitted = {}
    for _ in range(repeats):
        for name in ESTIMATORS:
            seconds, fitted[name] = time_call(partial(fit, name, workload))
            row.times[name].append(seconds / workload.epochs)
    for name in ESTIMATORS:
        row.final_loss[name] = float(fitted[name].loss_curve_[-1])
        row.peak_memory_bytes[name] = peak_memory(partial(fit, name, workload))
    return row, fitted


def benchmark_predict_proba(workload, fitted, repeats, gemm_peak):
    """Time interleaved ``predict_proba`` calls on the training data."""
    n_samples = workload.X.shape[0]
    row = Row(
        workload=workload.name,
        dtype=workload.dtype,
        task="predict_proba",
        n_samples=n_samples,
        n_features=workload.X.shape[1],
        unit="s/call",
        flops=forward_flops(workload.layer_units, n_samples),
        gemm_peak=gemm_peak,
        times={name: [] for name in ESTIMATORS},
    )
    for _ in range(repeats):
        for name, estimator in fitted.items():
            seconds, _ = time_call(partial(estimator.predict_proba, workload.X))
            row.times[name].append(seconds)
    for name, estimator in fitted.items():
        row.peak_memory_bytes[name] = peak_memory(
            partial(estimator.predict_proba, workload.X)
        )
    return row


def run(workloads, repeats, gemm_peaks):
    """Benchmark every workload; ``predict_proba`` rows follow their fit rows."""
    rows = []
    for workload in workloads:
        print(f"running {workload.name} {workload.dtype} ...", file=sys.stderr)
        gemm_peak = gemm_peaks[workload.dtype]
        row, fitted = benchmark_fit(workload, repeats, gemm_peak)
        rows.append(row)
        if workload.time_predict:
            rows.append(benchmark_predict_proba(workload, fitted, repeats, gemm_peak))
    return rows


def environment(threads, repeats, quick, gemm_peaks):
    """Versions, threads and platform, for the JSON file."""
    blas = [
        {key: info.get(key) for key in ("internal_api", "version", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "sklearn_adam_mlp": sklearn_adam_mlp.__version__,
        "threads": threads,
        "blas": blas,
        "repeats": repeats,
        "quick": quick,
        "gemm_peak_flops_per_second": gemm_peaks,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
    }


def format_table(rows):
    """Format the rows as a plain text table with aligned columns."""

    def optional(value, spec):
        return "-" if value is None else format(value, spec)

    header = (
        "workload",
        "n_samples",
        "unit",
        "ours",
        "sklearn",
        "ratio",
        "limit",
        "ours %peak",
        "sklearn %peak",
        "ours loss",
        "sklearn loss",
        "rel diff",
        "agree",
        "ours MiB",
        "sklearn MiB",
    )
    lines = [header]
    for row in rows:
        agree = row.losses_agree
        lines.append(
            (
                row.name,
                str(row.n_samples),
                row.unit,
                f"{row.median('ours'):.4g}",
                f"{row.median('sklearn'):.4g}",
                f"{row.ratio:.2f}",
                optional(row.limit, ".2f"),
                f"{100 * row.fraction_of_gemm_peak('ours'):.1f}",
                f"{100 * row.fraction_of_gemm_peak('sklearn'):.1f}",
                optional(row.final_loss.get("ours"), ".8g"),
                optional(row.final_loss.get("sklearn"), ".8g"),
                optional(row.loss_relative_difference, ".1e"),
                "-" if agree is None else ("yes" if agree else "NO"),
                f"{row.peak_memory_bytes['ours'] / 2**20:.1f}",
                f"{row.peak_memory_bytes['sklearn'] / 2**20:.1f}",
            )
        )
    return "\n".join(align_columns(lines))


def align_columns(lines):
    """Text lines from rows of cells, the header first, then a rule.

    The first column is left-aligned, the others right-aligned.
    """
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    formatted = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    formatted.insert(1, "-" * len(formatted[0]))
    return formatted


def _workload_names(text):
    names = [name.strip().upper() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(WORKLOADS))
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected names from {', '.join(WORKLOADS)} separated by commas, "
            f"got {text!r}"
        )
    return list(dict.fromkeys(names))


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _parser():
    parser = argparse.ArgumentParser(
        description=(
            "Time AdamMLPClassifier against MLPClassifier(solver='adam'); "
            "ratio = scikit-learn time / our time (above 1: we are faster)."
        )
    )
    parser.add_argument(
        "--repeats",
        type=_positive_int,
        default=None,
        help="timed fits of each estimator per workload (default: 3, 1 with --quick)",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="BLAS threads for both estimators (default: 1)",
    )
    parser.add_argument(
        "--workloads",
        type=_workload_names,
        default=list(WORKLOADS),
        metavar="W1,W2,...",
        help=f"workloads to run (default: {','.join(WORKLOADS)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shrink every workload so the whole script runs in a few seconds",
    )
    parser.add_argument(
        "--json", metavar="PATH", default=None, help="also write the results here"
    )
    return parser


def main(argv=None):
    """Run the benchmark; return 0, or 1 if the losses of a fit row disagree."""
    args = _parser().parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    workloads = build_workloads(args.workloads, quick=args.quick)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        gemm_peaks = {
            dtype: gemm_peak(dtype, size=GEMM_PEAK_SIZE // (4 if args.quick else 1))
            for dtype in dict.fromkeys(workload.dtype for workload in workloads)
        }
        env = environment(args.threads, repeats, args.quick, gemm_peaks)
        rows = run(workloads, repeats, gemm_peaks)

    peaks = ", ".join(f"{dtype} {rate / 1e9:.0f}" for dtype, rate in gemm_peaks.items())
    print(
        f"sklearn_adam_mlp {env['sklearn_adam_mlp']} vs scikit-learn "
        f"{env['scikit-learn']} | numpy {env['numpy']} | {args.threads} BLAS "
        f"thread(s) | median of {repeats} | ratio = sklearn time / our time | "
        f"GEMM peak GFLOP/s: {peaks}"
    )
    print(format_table(rows))
    if args.json is not None:
        with open(args.json, "w") as file:
            json.dump(
                {
                    "environment": env,
                    "results": [row.as_dict() for row in rows],
                },
                file,
                indent=2,
            )
    disagreeing = [row.name for row in rows if row.losses_agree is False]
    if disagreeing:
        print(f"final losses disagree: {', '.join(disagreeing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Is Adam stuck in a local minimum? The case study, measured.

The original question: one hidden layer of 3 logistic units on a binary target,
Adam with a learning rate of 0.001 and 50 full-batch iterations; the cost stalls
after about 15 iterations and the training accuracy lands anywhere between 45%
and 70% from run to run. Its code had five bugs (``tests/test_case_study.py``
fails if any one of them is put back into the package's math). This script
asks the question again with a correct Adam, on scikit-learn's breast-cancer
data (569 samples, 30 features), standardised, with
``AdamMLPClassifier((3,), activation="logistic", learning_rate_init=0.001)``
and full-batch gradient steps (``batch_size=569``) as in the original, over
20 seeds (``random_state`` 0 to 19):

- ``original``: ``max_iter=50``, the original budget;
- ``long``: ``max_iter=20000`` and ``tol=1e-6``, long enough for every run to
  stop by the tolerance rule;
- both again with ``n_init=5`` (each run keeps the best of 5 initialisations).
  The long one uses the first 5 seeds only (``--long-restart-seeds``): it fits
  25 long runs.

Each study is a :func:`sklearn_adam_mlp.restart_study`. Run it from the
repository root::

    python benchmarks/case_study.py                       # 1.5 min on one core
    python benchmarks/case_study.py --output case_study.json
    python benchmarks/case_study.py --n-jobs 2            # runs in parallel
    python benchmarks/case_study.py --batch-size auto     # mini-batches of 200
    python benchmarks/case_study.py --quick               # seconds, fewer seeds

How to read the table: ``epochs`` is the range of ``n_iter_``; ``training
accuracy`` and ``final loss`` (the training cost at the final parameters) are
over the seeds, ``std`` being the population standard deviation; ``converged``
counts the runs that stopped by the tolerance rule rather than ``max_iter``;
``minima`` the groups of converged runs with agreeing final loss (see
``restart_study``). The lines below the table list the groups. A spread among
runs that did not converge is "not converged yet", not local minima.
"""

import argparse
import json
import platform
import sys
import time

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import sklearn_adam_mlp
from sklearn_adam_mlp import AdamMLPClassifier, restart_study

MODEL = {
    "hidden_layer_sizes": (3,),
    "activation": "logistic",
    "learning_rate_init": 0.001,
}
SETTINGS = {
    "original": {"max_iter": 50},
    "long": {"max_iter": 20000, "tol": 1e-6},
}
QUICK_SETTINGS = {
    "original": {"max_iter": 50},
    "long": {"max_iter": 200, "tol": 1e-5},
}
N_INIT = 5


def load_data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def summarise(study):
    """Numbers of one restart study, as plain Python values."""

    def spread(column):
        values = study[column].to_numpy(dtype=float)
        return {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
        }

    minima = []
    for label, runs in study.dropna(subset=["minimum"]).groupby("minimum"):
        minima.append(
            {
                "minimum": int(label),
                "seeds": [int(seed) for seed in runs["seed"]],
                "final_loss_min": float(runs["final_loss"].min()),
                "final_loss_max": float(runs["final_loss"].max()),
                "train_accuracy_mean": float(runs["train_accuracy"].mean()),
                "gradient_norm_max": float(runs["gradient_norm"].max()),
            }
        )
    return {
        "n_seeds": len(study),
        "n_iter_min": int(study["n_iter"].min()),
        "n_iter_max": int(study["n_iter"].max()),
        "train_accuracy": spread("train_accuracy"),
        "final_loss": spread("final_loss"),
        "gradient_norm": spread("gradient_norm"),
        "n_converged": int(study["converged"].sum()),
        "n_stalled": int(study["stalled"].sum()),
        "n_minima": len(minima),
        "minima": minima,
    }


def run(*, n_seeds, long_restart_seeds, batch_size, quick, n_jobs):
    X, y = load_data()
    settings = QUICK_SETTINGS if quick else SETTINGS
    if batch_size == "full":
        batch_size = X.shape[0]
    plan = [
        ("original", 1, n_seeds),
        ("long", 1, n_seeds),
        ("original", N_INIT, n_seeds),
        ("long", N_INIT, long_restart_seeds),
    ]
    results = []
    for setting, n_init, seeds in plan:
        model = AdamMLPClassifier(
            **MODEL, batch_size=batch_size, n_init=n_init, **settings[setting]
        )
        start = time.perf_counter()
        study = restart_study(model, X, y, seeds=range(seeds), n_jobs=n_jobs)
        seconds = time.perf_counter() - start
        runs = study.drop(columns="loss_curve").astype({"minimum": object})
        runs["minimum"] = runs["minimum"].where(runs["minimum"].notna(), None)
        results.append(
            {
                "setting": setting,
                "n_init": n_init,
                "parameters": {**settings[setting], "n_init": n_init},
                "seconds": seconds,
                "summary": summarise(study),
                "runs": runs.to_dict(orient="records"),
            }
        )
    return results


def format_report(results, n_samples, batch_size):
    lines = [
        f"breast cancer ({n_samples} samples), standardised; "
        f"AdamMLPClassifier({MODEL}, batch_size={batch_size!r})",
        "",
        f"{'setting':<9} {'n_init':>6} {'seeds':>5} {'epochs':>11}  "
        f"{'training accuracy: mean std min max':>35}  "
        f"{'final loss: mean std min max':>35}  {'converged':>9} {'minima':>6}",
    ]
    for result in results:
        summary = result["summary"]
        accuracy, loss = summary["train_accuracy"], summary["final_loss"]
        epochs = f"{summary['n_iter_min']}-{summary['n_iter_max']}"
        lines.append(
            f"{result['setting']:<9} {result['n_init']:>6} "
            f"{summary['n_seeds']:>5} {epochs:>11}  "
            f"{accuracy['mean']:>8.4f} {accuracy['std']:>8.4f} "
            f"{accuracy['min']:>8.4f} {accuracy['max']:>8.4f}  "
            f"{loss['mean']:>8.4f} {loss['std']:>8.4f} "
            f"{loss['min']:>8.4f} {loss['max']:>8.4f}  "
            f"{summary['n_converged']:>4}/{summary['n_seeds']:<4} "
            f"{summary['n_minima']:>6}"
        )
    lines.append("")
    for result in results:
        for minimum in result["summary"]["minima"]:
            lines.append(
                f"{result['setting']}, n_init={result['n_init']}: minimum "
                f"{minimum['minimum']}: {len(minimum['seeds'])} run(s) (seeds "
                f"{minimum['seeds']}), final loss {minimum['final_loss_min']:.5f}"
                f" to {minimum['final_loss_max']:.5f}, training accuracy "
                f"{minimum['train_accuracy_mean']:.4f}, gradient norm at most "
                f"{minimum['gradient_norm_max']:.2g}"
            )
    lines.append("")
    lines.append(
        "seconds per study: "
        + ", ".join(
            f"{result['setting']} n_init={result['n_init']}: {result['seconds']:.1f}"
            for result in results
        )
    )
    return "\n".join(lines)


def environment(args):
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "sklearn_adam_mlp": sklearn_adam_mlp.__version__,
        "machine": platform.machine(),
        "threads": 1,
        "quick": args.quick,
        "n_jobs": args.n_jobs,
        "batch_size": args.batch_size,
    }


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _batch_size(text):
    if text in ("full", "auto"):
        return text
    return _positive_int(text)


def _parser():
    parser = argparse.ArgumentParser(
        description="Measure the case study: restarts of a 3-unit logistic "
        "network on breast cancer, short and long runs, with and without n_init."
    )
    parser.add_argument(
        "--n-seeds", type=_positive_int, default=20, help="seeds per study (20)"
    )
    parser.add_argument(
        "--long-restart-seeds",
        type=_positive_int,
        default=5,
        help=f"seeds of the long study with n_init={N_INIT} (5)",
    )
    parser.add_argument(
        "--batch-size",
        type=_batch_size,
        default="full",
        help="'full' (the default: full-batch steps, as in the original), "
        "'auto' (min(200, n_samples)) or a number of samples",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 seeds per study, long run of 200 epochs at tol=1e-5",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="runs fitted in parallel (1)"
    )
    parser.add_argument("--output", help="write the numbers to this JSON file")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    n_seeds, long_restart_seeds = args.n_seeds, args.long_restart_seeds
    if args.quick:
        n_seeds, long_restart_seeds = min(n_seeds, 2), min(long_restart_seeds, 2)
    # Tiny matrices: one BLAS thread is fastest, and keeps the timings honest.
    with threadpool_limits(1):
        results = run(
            n_seeds=n_seeds,
            long_restart_seeds=long_restart_seeds,
            batch_size=args.batch_size,
            quick=args.quick,
            n_jobs=args.n_jobs,
        )
    n_samples = load_data()[0].shape[0]
    batch_size = n_samples if args.batch_size == "full" else args.batch_size
    print(format_report(results, n_samples, batch_size))
    if args.output:
        settings = QUICK_SETTINGS if args.quick else SETTINGS
        document = {
            "data": {"name": "load_breast_cancer", "standardised": True},
            "model": {**MODEL, "batch_size": batch_size},
            "settings": settings,
            "studies": results,
            "environment": environment(args),
        }
        with open(args.output, "w") as file:
            json.dump(document, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

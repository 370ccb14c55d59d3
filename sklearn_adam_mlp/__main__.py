"""Command line: ``python -m sklearn_adam_mlp``.

With no arguments, fits :class:`AdamMLPClassifier` and scikit-learn's
``MLPClassifier(solver='adam')`` with the same settings on the same split of a
data set shipped with scikit-learn, and prints them side by side.
"""

import argparse
import sys
import time
import warnings

from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from . import AdamMLPClassifier, __version__

DATASETS = {
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
}


def _hidden_layer_sizes(text):
    try:
        sizes = tuple(int(n) for n in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas, got {text!r}"
        )
    return sizes


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_adam_mlp",
        description=(
            "Fit AdamMLPClassifier and scikit-learn's MLPClassifier(solver='adam') "
            "with the same settings on a data set shipped with scikit-learn, "
            "and compare them."
        ),
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), default="digits", help="data set"
    )
    parser.add_argument(
        "--hidden",
        type=_hidden_layer_sizes,
        default=(100,),
        metavar="N[,N...]",
        help="hidden layer sizes, for example 64,32 (default: 100)",
    )
    parser.add_argument("--max-iter", type=int, default=200, help="maximum epochs")
    parser.add_argument(
        "--learning-rate", type=float, default=0.001, help="learning_rate_init"
    )
    parser.add_argument("--random-state", type=int, default=0, help="seed")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads for both fits (default: 1, for a fair timing)",
    )
    return parser


def compare(
    dataset, *, hidden_layer_sizes, max_iter, learning_rate, random_state, threads=1
):
    """Fit both classifiers on one split of ``dataset`` and return their figures.

    Parameters
    ----------
    dataset : str
        A key of ``DATASETS``.

    hidden_layer_sizes : tuple of int
        Hidden layer sizes of both classifiers.

    max_iter : int
        Maximum number of epochs.

    learning_rate : float
        Adam's step size, ``learning_rate_init``.

    random_state : int
        Seed of the split and of both classifiers.

    threads : int, default=1
        Number of BLAS threads during the fits.

    Returns
    -------
    rows : list of dict
        One dict per classifier with its name, train and test accuracy, test
        log-loss, epochs and fit time in seconds.
    """
    X, y = DATASETS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    params = dict(
        hidden_layer_sizes=hidden_layer_sizes,
        max_iter=max_iter,
        learning_rate_init=learning_rate,
        random_state=random_state,
    )
    rows = []
    for name, classifier in [
        ("AdamMLPClassifier", AdamMLPClassifier(**params)),
        ("MLPClassifier(adam)", MLPClassifier(solver="adam", **params)),
    ]:
        model = make_pipeline(StandardScaler(), classifier)
        start = time.perf_counter()
        with warnings.catch_warnings(), threadpool_limits(threads):
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "model": name,
                "train accuracy": model.score(X_train, y_train),
                "test accuracy": model.score(X_test, y_test),
                "test log-loss": log_loss(y_test, model.predict_proba(X_test)),
                "epochs": classifier.n_iter_,
                "fit seconds": seconds,
            }
        )
    return rows


def main(argv=None):
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 on success.
    """
    args = _parser().parse_args(argv)
    rows = compare(
        args.dataset,
        hidden_layer_sizes=args.hidden,
        max_iter=args.max_iter,
        learning_rate=args.learning_rate,
        random_state=args.random_state,
        threads=args.threads,
    )
    print(
        f"{args.dataset}: hidden layers {args.hidden}, up to {args.max_iter} "
        f"epochs, learning_rate_init={args.learning_rate}, "
        f"random_state={args.random_state}, {args.threads} BLAS thread(s)"
    )
    header = f"{'model':<20} {'train acc':>9} {'test acc':>9} {'log-loss':>9}"
    print(header + f" {'epochs':>6} {'fit s':>7}")
    for row in rows:
        print(
            f"{row['model']:<20} {row['train accuracy']:>9.4f} "
            f"{row['test accuracy']:>9.4f} {row['test log-loss']:>9.4f} "
            f"{row['epochs']:>6d} {row['fit seconds']:>7.3f}"
        )
    ours, theirs = rows
    ratio = theirs["fit seconds"] / ours["fit seconds"]
    print(f"speed: AdamMLPClassifier fits {ratio:.2f}x as fast as MLPClassifier(adam)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

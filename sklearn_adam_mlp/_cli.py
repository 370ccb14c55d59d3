"""The command line: ``python -m sklearn_adam_mlp [compare|fit|predict|study]``.

``compare`` (the default command) fits :class:`AdamMLPClassifier` and
scikit-learn's ``MLPClassifier(solver='adam')`` side by side on a data set
shipped with scikit-learn. ``fit`` trains a pipeline on a CSV file and saves
it, ``predict`` applies a saved model to a CSV file, and ``study`` runs a
restart study. A mistake a person makes (a missing file, an unknown column, a
bad parameter value) prints one ``error: ...`` line and exits with status 2.
"""

import argparse
import ast
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from sklearn import datasets
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import classification_report, log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from ._classifier import AdamMLPClassifier
from ._diagnostics import plot_restart_study, restart_study
from ._persistence import UntrustedTypesError, load_model, model_format, save_model
from ._version import __version__

DATASETS = {
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
}

# A numeric target with more distinct values than this is taken for a
# regression target: a classifier would learn one class per value.
MAX_NUMERIC_CLASSES = 50

# The restart study's default setting: the case study's network.
CASE_STUDY_PARAMS = {
    "hidden_layer_sizes": (3,),
    "activation": "logistic",
    "learning_rate_init": 0.001,
}


class CommandError(Exception):
    """A mistake in a command or its files, reported as one line, status 2."""


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are :class:`CommandError`."""

    def error(self, message):
        """Raise the usage error instead of printing the usage and exiting."""
        raise CommandError(f"{message} (see '{self.prog} --help')")


def main(argv=None):
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.
        Without a command (no arguments, or options only), the ``compare``
        command runs.

    Returns
    -------
    int
        0 on success, 2 after a usage or input error (printed on one line
        on stderr), 130 when interrupted (Ctrl-C). ``--help`` and
        ``--version`` exit through :class:`SystemExit` with status 0, as
        :mod:`argparse` does.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (
        argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")
    ):
        argv = ["compare", *argv]
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except CommandError as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``... | head``): stop quietly, and keep Python
        # from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# Argument types


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


def _parameter(text):
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # not a Python literal: the text itself, such as tanh
    return name.strip(), value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a fraction between 0 and 1, got {text!r}"
        )
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser():
    """Build the parser of every command.

    Returns
    -------
    argparse.ArgumentParser
        Each command's namespace has a ``run`` attribute, the function that
        runs it.
    """
    prog = (
        "sklearn-adam-mlp"
        if Path(sys.argv[0]).name == "sklearn-adam-mlp"
        else "python -m sklearn_adam_mlp"
    )
    parser = _ArgumentParser(
        prog=prog,
        description=(
            "AdamMLPClassifier from the command line. Without a command, runs "
            "'compare'. 'COMMAND --help' describes each command."
        ),
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_compare(commands)
    _add_fit(commands)
    _add_predict(commands)
    _add_study(commands)
    return parser


def _add_estimator_options(parser, *, hidden_default):
    parser.add_argument(
        "--hidden",
        type=_hidden_layer_sizes,
        metavar="N[,N...]",
        help=f"hidden layer sizes, for example 64,32 (default: {hidden_default})",
    )
    parser.add_argument(
        "--max-iter",
        type=_positive_int,
        metavar="N",
        help="maximum epochs (default: 200)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        metavar="RATE",
        help="learning_rate_init, Adam's step size (default: 0.001)",
    )
    parser.add_argument(
        "--param",
        type=_parameter,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=(
            "any AdamMLPClassifier parameter, repeatable; VALUE is read as a "
            "Python literal, else as text: --param activation=tanh "
            "--param alpha=1e-3 --param early_stopping=True. Overrides the "
            "options above."
        ),
    )


def _add_data_arguments(parser, *, required):
    parser.add_argument(
        "data",
        metavar="DATA.csv",
        nargs=None if required else "?",
        help="CSV file with a header row" + ("" if required else " (optional)"),
    )
    parser.add_argument(
        "--target",
        metavar="COLUMN",
        required=required,
        help="the column to predict; every other column is a feature",
    )


def _add_compare(commands):
    parser = commands.add_parser(
        "compare",
        help="compare with MLPClassifier on a data set shipped with scikit-learn "
        "(the default command)",
        description=(
            "Fit AdamMLPClassifier and scikit-learn's MLPClassifier(solver='adam') "
            "with the same settings on the same split of a data set shipped with "
            "scikit-learn, each after a StandardScaler, and print accuracy, "
            "log-loss, epochs, fit time and the speed ratio."
        ),
    )
    parser.add_argument(
        "--dataset",
        choices=sorted(DATASETS),
        default="digits",
        help="data set (default: digits)",
    )
    parser.add_argument(
        "--hidden",
        type=_hidden_layer_sizes,
        default=(100,),
        metavar="N[,N...]",
        help="hidden layer sizes, for example 64,32 (default: 100)",
    )
    parser.add_argument(
        "--max-iter",
        type=_positive_int,
        default=200,
        metavar="N",
        help="maximum epochs (default: 200)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=0.001,
        metavar="RATE",
        help="learning_rate_init (default: 0.001)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of the split and of both classifiers (default: 0)",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        metavar="N",
        help="BLAS threads for both fits (default: 1, for a fair timing)",
    )
    parser.set_defaults(run=run_compare)


def _add_fit(commands):
    parser = commands.add_parser(
        "fit",
        help="train a pipeline on a CSV file and save it",
        description=(
            "Read a CSV file, hold out a stratified test split, and fit a "
            "pipeline: numeric columns are imputed with their median and "
            "standardised, other columns (text, booleans) are imputed with their "
            "most frequent value and one-hot encoded (unseen values are "
            "ignored), then AdamMLPClassifier. Rows without a target value are "
            "dropped. Prints the classification report on the held-out split and "
            "the stratified 5-fold cross-validated accuracy on all rows (fewer "
            "folds when the rarest class has fewer than 5 rows), then saves the "
            "pipeline fitted on the training split."
        ),
    )
    _add_data_arguments(parser, required=True)
    parser.add_argument(
        "--save",
        required=True,
        metavar="MODEL",
        help=(
            "where to save the fitted pipeline: .skops (secure), or .joblib / .pkl "
            "(a pickle, which runs code when loaded)"
        ),
    )
    parser.add_argument(
        "--test-size",
        type=_fraction,
        default=0.25,
        metavar="FRACTION",
        help="fraction of the rows held out (default: 0.25)",
    )
    parser.add_argument(
        "--n-init",
        type=_positive_int,
        metavar="N",
        help="independent initialisations, the best kept (n_init; default: 1)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of the split, the folds and the weights (default: 0)",
    )
    _add_estimator_options(parser, hidden_default=100)
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar during training (scikit-learn >= 1.9 with rich "
        "shows one)",
    )
    parser.set_defaults(run=run_fit)


def _add_predict(commands):
    parser = commands.add_parser(
        "predict",
        help="predict the rows of a CSV file with a saved model",
        description=(
            "Load a model saved by 'fit' and write one prediction per row of "
            "DATA.csv, as CSV. Columns the model was not trained on, such as the "
            "target, are ignored. A .skops file is refused when it holds types "
            "other than this package's and scikit-learn's pipeline pieces."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="a file saved by 'fit'")
    parser.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    parser.add_argument(
        "--proba",
        action="store_true",
        help="add the probability of each class, in columns proba_<class>",
    )
    parser.add_argument(
        "--output", metavar="OUT.csv", help="write there instead of stdout"
    )
    parser.set_defaults(run=run_predict)


def _add_study(commands):
    parser = commands.add_parser(
        "study",
        help="restart study: the spread of final loss and accuracy across seeds",
        description=(
            "Fit the same network from many seeds and print the distribution of "
            "final training loss and training accuracy, the number of runs that "
            "converged and of distinct minima reached: once with one "
            "initialisation per seed, once keeping the best of --n-init. Without "
            "DATA.csv, the case study's setting: breast cancer data (shipped with "
            "scikit-learn) standardised, 3 logistic hidden units, learning rate "
            "0.001. With DATA.csv, the columns are prepared as in 'fit'."
        ),
    )
    _add_data_arguments(parser, required=False)
    parser.add_argument(
        "--seeds",
        type=_positive_int,
        metavar="N",
        default=20,
        help="number of seeds (default: 20)",
    )
    parser.add_argument(
        "--n-init",
        type=_positive_int,
        default=5,
        metavar="N",
        help="initialisations per seed in the second study (default: 5)",
    )
    parser.add_argument(
        "--plot", metavar="PNG", help="write the loss curves of both studies there"
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        metavar="N",
        help="parallel fits (joblib's n_jobs; default: 1)",
    )
    _add_estimator_options(parser, hidden_default="3 without DATA.csv, else 100")
    parser.set_defaults(run=run_study)


# Shared helpers


@contextmanager
def _reported_warnings():
    """Print the warnings raised inside on stderr, one line per category.

    Several fits (cross-validation, restarts) often warn alike: a category
    is shown once, by its first message, with how many more there were.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    messages = {}
    for caught_warning in caught:
        messages.setdefault(caught_warning.category, []).append(
            str(caught_warning.message)
        )
    for texts in messages.values():
        if len(texts) == 1:
            more = ""
        elif len(set(texts)) == 1:
            more = f" ({len(texts)} times)"
        else:
            more = f" (and {len(texts) - 1} more like it)"
        print(f"warning: {texts[0]}{more}", file=sys.stderr)


# --- Progress bar ------------------------------------------------------------
# The one place where the command line attaches scikit-learn's callbacks
# (sklearn.callback, scikit-learn >= 1.9) to the estimator it trains.
@contextmanager
def progress_bar(estimator, *, quiet):
    """Show ``sklearn.callback.ProgressBar`` while fitting ``estimator``.

    Parameters
    ----------
    estimator : estimator instance
        The outermost estimator fitted, the pipeline of ``fit``. The bar is
        attached only when it has ``set_callbacks`` (scikit-learn >= 1.9)
        and ``rich`` is installed; the pipeline passes it on to the
        classifier, whose restarts show under it.

    quiet : bool
        Attach nothing.

    Yields
    ------
    None
        The bar is detached on exit, so a saved model holds no callback.
    """
    if quiet or not hasattr(estimator, "set_callbacks"):
        yield
        return
    try:
        from sklearn.callback import ProgressBar

        bar = ProgressBar()
    except ImportError:  # rich, an optional extra, is missing
        yield
        return
    estimator.set_callbacks(bar)
    try:
        with warnings.catch_warnings():
            # The pipeline's preprocessing steps have no progress to show.
            warnings.filterwarnings("ignore", message=".*does not support callbacks")
            yield
    finally:
        estimator.set_callbacks()


# -----------------------------------------------------------------------------


def _numeric_columns(frame):
    return [
        column
        for column in frame.columns
        if pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    ]


def read_csv(path):
    """Read a CSV file for the commands.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    frame : pandas.DataFrame
        Numeric columns as pandas reads them; every other column (text,
        booleans) as Python objects, which scikit-learn's imputer and encoder
        take on every supported version of scikit-learn and pandas.

    Raises
    ------
    CommandError
        When the file is missing, empty, has no rows or is not CSV text.
    """
    if not Path(path).is_file():
        raise CommandError(f"no such file: {path!r}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path!r} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {path!r} as CSV: {error}") from None
    if len(frame) == 0:
        raise CommandError(f"{path!r} has a header but no rows")
    other = [c for c in frame.columns if c not in _numeric_columns(frame)]
    frame[other] = frame[other].astype(object)
    return frame


def _features_and_target(frame, target, path):
    if target not in frame.columns:
        names = ", ".join(map(str, frame.columns[:20]))
        more = ", ..." if len(frame.columns) > 20 else ""
        raise CommandError(
            f"no column {target!r} in {path!r}; its columns are: {names}{more}"
        )
    missing = frame[target].isna()
    if missing.any():
        print(
            f"note: dropped {missing.sum()} rows without a value of {target!r}",
            file=sys.stderr,
        )
        frame = frame[~missing]
    X, y = frame.drop(columns=target), frame[target]
    if pd.api.types.is_float_dtype(y) and (y == y.round()).all():
        y = y.astype(int)  # integer labels read as floats because of missing ones
    if X.shape[1] == 0:
        raise CommandError(f"{path!r} has no column besides the target {target!r}")
    counts = y.value_counts()
    if len(counts) < 2:
        raise CommandError(
            f"column {target!r} holds a single class ({counts.index[0]!r}) in "
            f"{len(y)} rows with a value; a classifier needs two or more"
        )
    if len(counts) > MAX_NUMERIC_CLASSES and target in _numeric_columns(frame):
        raise CommandError(
            f"column {target!r} has {len(counts)} distinct numeric values: it looks "
            "like a regression target, and AdamMLPClassifier is a classifier "
            f"(at most {MAX_NUMERIC_CLASSES} classes for a numeric target)"
        )
    if counts.iloc[-1] < 2:
        raise CommandError(
            f"class {counts.index[-1]!r} of column {target!r} has a single row; "
            "every class needs at least 2 (to train and to test)"
        )
    return X, y.to_numpy()


def make_preprocessor(X):
    """Build the command line's column preparation for the columns of ``X``.

    Parameters
    ----------
    X : pandas.DataFrame
        Features, as :func:`read_csv` returns them.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Numeric columns: median imputation, then standardisation. Other
        columns (text, booleans): most frequent imputation, then one-hot
        encoding that ignores values unseen in training.
    """
    numeric = _numeric_columns(X)
    categorical = [c for c in X.columns if c not in numeric]
    transformers = []
    if numeric:
        transformers.append(
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            )
        )
    if categorical:
        transformers.append(
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            )
        )
    return ColumnTransformer(transformers)


def make_model(X, classifier):
    """Build the command line's pipeline for the columns of ``X``.

    Parameters
    ----------
    X : pandas.DataFrame
        Features, as :func:`read_csv` returns them.

    classifier : AdamMLPClassifier
        The final step.

    Returns
    -------
    sklearn.pipeline.Pipeline
        :func:`make_preprocessor`, then ``classifier``.
    """
    return Pipeline([("preprocess", make_preprocessor(X)), ("classifier", classifier)])


def _classifier(args, base):
    params = dict(base)
    options = {
        "hidden_layer_sizes": args.hidden,
        "max_iter": args.max_iter,
        "learning_rate_init": args.learning_rate,
    }
    params.update({name: v for name, v in options.items() if v is not None})
    params.update(args.param)
    classifier = AdamMLPClassifier()
    valid = classifier.get_params()
    unknown = [name for name in params if name not in valid]
    if unknown:
        raise CommandError(
            f"AdamMLPClassifier has no parameter {unknown[0]!r}; its parameters "
            f"are: {', '.join(sorted(valid))}"
        )
    return classifier.set_params(**params)


@contextmanager
def _estimator_errors():
    """Report an estimator's ``ValueError`` (an invalid value) as one line."""
    try:
        yield
    except ValueError as error:
        raise CommandError(str(error)) from None


# Commands


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


def run_compare(args):
    """Run ``compare``: print both classifiers side by side.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of ``compare``.

    Returns
    -------
    int
        0.
    """
    with _estimator_errors():
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


def run_fit(args):
    """Run ``fit``: train, report, cross-validate and save a pipeline.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of ``fit``.

    Returns
    -------
    int
        0.
    """
    params = {"random_state": args.random_state}
    if args.n_init is not None:
        params["n_init"] = args.n_init
    classifier = _classifier(args, params)
    try:
        model_format(args.save)
    except ValueError as error:
        raise CommandError(f"--save: {error}") from None
    if not Path(args.save).resolve().parent.is_dir():
        raise CommandError(f"--save: no such directory for {args.save!r}")
    frame = read_csv(args.data)
    X, y = _features_and_target(frame, args.target, args.data)
    model = make_model(X, classifier)
    with _estimator_errors():
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=args.test_size, stratify=y, random_state=args.random_state
        )
    counts = pd.Series(y).value_counts()
    n_numeric = len(_numeric_columns(X))
    print(
        f"{args.data}: {len(X)} rows, {X.shape[1]} feature columns ({n_numeric} "
        f"numeric, {X.shape[1] - n_numeric} categorical), target {args.target!r} "
        f"with {len(counts)} classes"
    )
    print(classifier)
    # Stratified folds need every class in every fold: fewer folds when the
    # rarest class has fewer than 5 rows (it has at least 2).
    rarest, rarest_count = counts.index[-1], int(counts.iloc[-1])
    n_splits = min(5, rarest_count)
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=args.random_state)
    with _reported_warnings(), _estimator_errors():
        with progress_bar(model, quiet=args.quiet):
            model.fit(X_train, y_train)
        print(
            f"trained on {len(X_train)} rows: {classifier.n_iter_} epochs, "
            f"final training loss {classifier.loss_:.4g}"
        )
        report = classification_report(y_test, model.predict(X_test), zero_division=0)
        print(f"\nheld-out split, {len(X_test)} rows:\n{report}")
        scores = cross_val_score(model, X, y, cv=folds)
    why = (
        ""
        if n_splits == 5
        else f"; {n_splits} folds as the rarest class, {rarest!r}, has "
        f"{rarest_count} rows"
    )
    print(
        f"{n_splits}-fold cross-validated accuracy (stratified, all {len(X)} rows"
        f"{why}): {scores.mean():.4f} +/- {scores.std():.4f}"
    )
    with _reported_warnings():
        try:
            save_model(model, args.save)
        except (ValueError, OSError) as error:
            raise CommandError(f"cannot save the model: {error}") from None
    print(
        f"saved the pipeline fitted on the {len(X_train)} training rows to {args.save}"
    )
    return 0


def run_predict(args):
    """Run ``predict``: write the predictions of a saved model as CSV.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of ``predict``.

    Returns
    -------
    int
        0.
    """
    with _reported_warnings():
        try:
            model = load_model(args.model)
        except (FileNotFoundError, UntrustedTypesError) as error:
            raise CommandError(str(error)) from None
        except ValueError as error:
            raise CommandError(f"cannot load {args.model!r}: {error}") from None
    frame = read_csv(args.data)
    columns = getattr(model, "feature_names_in_", None)
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise CommandError(
                f"{args.data!r} lacks columns the model was trained on: "
                + ", ".join(map(str, missing))
            )
        frame = frame[list(columns)]
    with _estimator_errors():
        output = pd.DataFrame({"prediction": model.predict(frame)})
        if args.proba:
            probabilities = model.predict_proba(frame)
            for label, column in zip(model.classes_, probabilities.T, strict=True):
                output[f"proba_{label}"] = column
    if args.output is None:
        output.to_csv(sys.stdout, index=False)
    else:
        output.to_csv(args.output, index=False)
        print(f"wrote {len(output)} predictions to {args.output}")
    return 0


def _study_data(args):
    if args.data is None:
        if args.target is not None:
            raise CommandError("--target needs DATA.csv")
        X, y = datasets.load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        return X, y, CASE_STUDY_PARAMS, "breast cancer data, standardised"
    if args.target is None:
        raise CommandError("DATA.csv needs --target COLUMN")
    X, y = _features_and_target(read_csv(args.data), args.target, args.data)
    with _estimator_errors():
        X = make_preprocessor(X).fit_transform(X)
    return X, y, {}, f"{args.data}, target {args.target!r}, columns prepared as by fit"


def summarize_study(study):
    """Summarise a restart study in one row.

    Parameters
    ----------
    study : pandas.DataFrame
        The result of :func:`sklearn_adam_mlp.restart_study`.

    Returns
    -------
    dict
        Keyed by ``(quantity, statistic)``: the mean, standard deviation,
        minimum and maximum of the final training loss and of the training
        accuracy, the number of runs that converged (``'k/n'``), and the
        number of distinct minima the converged runs reached.
    """
    summary = {}
    for name, column in [
        ("final training loss", "final_loss"),
        ("training accuracy", "train_accuracy"),
    ]:
        values = study[column]
        summary[name, "mean"] = values.mean()
        summary[name, "std"] = values.std(ddof=0)
        summary[name, "min"] = values.min()
        summary[name, "max"] = values.max()
    summary["runs", "converged"] = f"{int(study['converged'].sum())}/{len(study)}"
    summary["runs", "minima"] = study["minimum"].nunique()
    return summary


def run_study(args):
    """Run ``study``: the restart study with and without ``n_init``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of ``study``.

    Returns
    -------
    int
        0.
    """
    pyplot = None if args.plot is None else _pyplot(args.plot)
    X, y, base, description = _study_data(args)
    classifier = _classifier(args, base)
    print(f"restart study on {description} ({X.shape[0]} rows), {args.seeds} seeds:")
    print(classifier)
    studies = {}
    with _reported_warnings(), _estimator_errors():
        for n_init in (1, args.n_init):
            # No progress bar: one per fit of each seed would be noise.
            estimator = clone(classifier).set_params(n_init=n_init)
            studies[f"n_init={n_init}"] = restart_study(
                estimator, X, y, n_seeds=args.seeds, n_jobs=args.n_jobs
            )
    table = pd.DataFrame.from_dict(
        {label: summarize_study(study) for label, study in studies.items()},
        orient="index",
    )
    print(table.to_string(float_format="{:.4f}".format))
    unfinished = sum(int((~study["converged"]).sum()) for study in studies.values())
    if unfinished:
        print(
            f"{unfinished} of {args.seeds * len(studies)} runs stopped at max_iter="
            f"{classifier.max_iter} before converging: raise --max-iter before "
            "reading the number of minima"
        )
    if pyplot is not None:
        figure, axes = pyplot.subplots(
            1, len(studies), figsize=(6 * len(studies), 4), sharey=True
        )
        for ax, (label, study) in zip(axes, studies.items(), strict=True):
            plot_restart_study(study, ax=ax)
            ax.set_title(f"{len(study)} seeds, {label}")
        figure.tight_layout()
        figure.savefig(args.plot)
        pyplot.close(figure)
        print(f"wrote the loss curves to {args.plot}")
    return 0


def _pyplot(path):
    """Check that a figure can be written at ``path``; return pyplot (Agg)."""
    if not Path(path).resolve().parent.is_dir():
        raise CommandError(f"--plot: no such directory for {path!r}")
    if Path(path).suffix.lower() != ".png":
        raise CommandError(f"--plot: expected a .png file, got {path!r}")
    try:
        import matplotlib
    except ImportError:
        raise CommandError(
            "--plot needs matplotlib: pip install 'sklearn-adam-mlp[plot]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot

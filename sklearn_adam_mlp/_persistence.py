"""Saving and loading fitted models: skops by default, pickle on request.

A pickle (``.pkl``, ``.joblib``) is a program: loading one runs whatever code
its author put in it. The ``.skops`` format (:mod:`skops.io`) stores data
instead, and loads only types it is told to trust. :func:`load_model` trusts
this package's classes and the scikit-learn pieces of the command line's
pipeline, and refuses a file holding anything else before building any of it.
"""

import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer, _column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelBinarizer, OneHotEncoder, StandardScaler

from ._adam import AdamState
from ._classifier import AdamMLPClassifier
from ._network import Network
from ._schedules import LearningRateSchedule

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


class UnsafeFormatWarning(UserWarning):
    """A model is saved or loaded as a pickle, which runs code when loaded."""


class UntrustedTypesError(ValueError):
    """A ``.skops`` file holds types outside the allow-list; nothing was loaded.

    Attributes
    ----------
    untrusted_types : list of str
        The refused types, as ``module.name``.
    """

    def __init__(self, message, untrusted_types):
        super().__init__(message)
        self.untrusted_types = untrusted_types


def _type_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def trusted_types():
    """List the types :func:`load_model` accepts in a ``.skops`` file.

    Returns
    -------
    list of str
        Sorted ``module.name`` of this package's classes that a fitted model
        holds, of the scikit-learn pipeline pieces the command line builds, and
        of ``numpy.dtype``. Names are taken from the classes themselves, so
        they follow scikit-learn's private module layout from version to
        version.

    Notes
    -----
    :mod:`skops.io` already trusts scikit-learn's estimators and numpy's
    arrays by default; :func:`skops.io.get_untrusted_types` reports only the
    rest, and every one of those must be in this list.

    Examples
    --------
    >>> from sklearn_adam_mlp._persistence import trusted_types
    >>> "sklearn_adam_mlp._classifier.AdamMLPClassifier" in trusted_types()
    True
    """
    classes = [
        AdamMLPClassifier,
        Network,
        AdamState,
        LearningRateSchedule,
        Pipeline,
        ColumnTransformer,
        SimpleImputer,
        StandardScaler,
        OneHotEncoder,
        LabelBinarizer,
        np.dtype,
    ]
    # scikit-learn 1.5 and 1.6 keep the remainder's columns in a list subclass.
    remainder_list = getattr(_column_transformer, "_RemainderColsList", None)
    if remainder_list is not None:
        classes.append(remainder_list)
    return sorted({_type_name(cls) for cls in classes})


def model_format(path):
    """Tell the format of a model file from its extension.

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    {'skops', 'pickle'}
        ``'skops'`` for ``.skops``; ``'pickle'`` for ``.joblib``, ``.pkl``
        and ``.pickle``.

    Raises
    ------
    ValueError
        When the extension is none of those.

    Examples
    --------
    >>> from sklearn_adam_mlp._persistence import model_format
    >>> model_format("model.skops"), model_format("model.joblib")
    ('skops', 'pickle')
    """
    suffix = Path(path).suffix.lower()
    if suffix in SKOPS_SUFFIXES:
        return "skops"
    if suffix in PICKLE_SUFFIXES:
        return "pickle"
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its extension: use .skops "
        "(secure), or .joblib / .pkl (pickle, runs code when loaded)"
    )


def _warn_pickle(path, action):
    warnings.warn(
        f"{action} {str(path)!r} as a pickle: a pickle runs code when it is "
        "loaded, so load only files you made or trust; .skops files do not.",
        UnsafeFormatWarning,
        stacklevel=3,
    )


def save_model(model, path):
    """Save a fitted model, in the format its file extension names.

    Parameters
    ----------
    model : estimator instance
        The fitted model, for example the command line's pipeline or an
        :class:`AdamMLPClassifier`.

    path : str or path-like
        ``.skops`` for skops' secure format; ``.joblib``, ``.pkl`` or
        ``.pickle`` for a pickle written by :func:`joblib.dump`, with an
        :class:`UnsafeFormatWarning`.

    Raises
    ------
    ValueError
        When the extension is none of those.

    See Also
    --------
    load_model : Load a file written by this function.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_adam_mlp import AdamMLPClassifier
    >>> from sklearn_adam_mlp import save_model
    >>> X, y = load_iris(return_X_y=True)
    >>> classifier = AdamMLPClassifier((5,), learning_rate_init=0.05, random_state=0)
    >>> model = make_pipeline(StandardScaler(), classifier).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
    >>> save_model(model, path)
    >>> os.path.isfile(path)
    True
    """
    if model_format(path) == "skops":
        import skops.io

        skops.io.dump(model, path)
    else:
        import joblib

        _warn_pickle(path, "saving")
        joblib.dump(model, path)


def load_model(path):
    """Load a model saved by :func:`save_model`.

    A ``.skops`` file is inspected first: when it holds a type that is not in
    :func:`trusted_types`, nothing is loaded and :class:`UntrustedTypesError`
    names the types.

    Parameters
    ----------
    path : str or path-like
        A ``.skops`` file, or a ``.joblib`` / ``.pkl`` / ``.pickle`` pickle
        (loaded with an :class:`UnsafeFormatWarning`: it runs code).

    Returns
    -------
    model : estimator instance
        The fitted model.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.

    UntrustedTypesError
        When a ``.skops`` file holds types outside the allow-list.

    ValueError
        When the extension is unknown or a ``.skops`` file is not a valid
        skops archive.

    See Also
    --------
    save_model : Save a fitted model.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_adam_mlp import AdamMLPClassifier
    >>> from sklearn_adam_mlp import load_model, save_model
    >>> X, y = load_iris(return_X_y=True)
    >>> classifier = AdamMLPClassifier((5,), learning_rate_init=0.05, random_state=0)
    >>> model = make_pipeline(StandardScaler(), classifier).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
    >>> save_model(model, path)
    >>> bool((load_model(path).predict_proba(X) == model.predict_proba(X)).all())
    True
    """
    file_format = model_format(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such model file: {str(path)!r}")
    if file_format == "pickle":
        import joblib

        _warn_pickle(path, "loading")
        return joblib.load(path)

    import skops.io

    try:
        found = skops.io.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ValueError(
            f"{str(path)!r} is not a valid .skops file ({error})"
        ) from None
    allowed = set(trusted_types())
    refused = sorted(name for name in found if name not in allowed)
    if refused:
        raise UntrustedTypesError(
            f"refusing to load {str(path)!r}: it holds types that are not "
            f"trusted: {', '.join(refused)}. Nothing was loaded. A model "
            "written by this package holds only its own classes and "
            "scikit-learn's pipeline pieces.",
            refused,
        )
    return skops.io.load(path, trusted=found)

"""Hostile inputs: each one gets a clear error, and a fitted model survives it.

Every bad input below must raise the error type a scikit-learn user expects,
with a message that names the problem; and a failed ``fit`` or
``partial_fit`` on a fitted model must leave every attribute of that model as
it was, so that it predicts exactly as before.
"""

import copy
import numbers

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_adam_mlp import AdamMLPClassifier

# Short fits that stop at max_iter are the point here, not their warning.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CLASSES = [0, 1, 2]


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(n_samples=60, n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), Y


def small_model(**params):
    return AdamMLPClassifier(**{"hidden_layer_sizes": (5,), "max_iter": 5, **params})


def with_value(array, value, index=(3, 1)):
    """A copy of ``array`` (float) with ``value`` at ``index``."""
    array = np.array(array, dtype=float)
    array[index] = value
    return array


# Invalid parameter values: one bad value per constraint, named in the error

INVALID_PARAMS = {
    "hidden_layer_sizes": 0,
    "activation": "softmax",
    "alpha": -1.0,
    "batch_size": 0,
    "learning_rate_init": 0.0,
    "max_iter": 0,
    "shuffle": "yes",
    "random_state": "seed",
    "tol": -1.0,
    "verbose": -1,
    "warm_start": "no",
    "early_stopping": "no",
    "validation_fraction": 1.0,
    "beta_1": 1.0,
    "beta_2": 1.0,
    "epsilon": 0.0,
    "n_iter_no_change": 0,
    "class_weight": "balance",
    "scoring": "f1",
    "learning_rate": "optimal",
    "power_t": -0.5,
    "amsgrad": "yes",
    "weight_decay": -1.0,
    "clip_norm": 0.0,
    "epsilon_placement": "jax",
    "n_init": 0,
    "n_jobs": 1.5,
}


def test_every_constrained_parameter_has_an_invalid_value_here():
    constrained = set(AdamMLPClassifier._parameter_constraints)
    assert constrained == set(AdamMLPClassifier().get_params())
    assert set(INVALID_PARAMS) == constrained


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("name", sorted(INVALID_PARAMS))
def test_invalid_parameter_is_named_in_the_error(iris, name, method):
    X, y = iris
    model = AdamMLPClassifier(**{name: INVALID_PARAMS[name]})
    kwargs = {"classes": CLASSES} if method == "partial_fit" else {}
    with pytest.raises(
        InvalidParameterError,
        match=rf"The '{name}' parameter of AdamMLPClassifier must be .* Got ",
    ):
        getattr(model, method)(X, y, **kwargs)
    assert not hasattr(model, "classes_")


# Bad training data, for fit and for the first call to partial_fit


def weights_with(value, n_samples=150):
    """Unit sample weights, with ``value`` for the fourth sample."""
    return with_value(np.ones(n_samples), value, 3)


# (keyword arguments of fit made from the iris data, error, message pattern)
BAD_TRAINING_DATA = [
    pytest.param(
        lambda X, y: dict(X=with_value(X, np.nan), y=y),
        ValueError,
        "Input X contains NaN",
        id="X-nan",
    ),
    pytest.param(
        lambda X, y: dict(X=with_value(X, np.inf), y=y),
        ValueError,
        "Input X contains infinity",
        id="X-inf",
    ),
    pytest.param(
        lambda X, y: dict(X=with_value(X, -np.inf), y=y),
        ValueError,
        "Input X contains infinity",
        id="X-minus-inf",
    ),
    pytest.param(
        lambda X, y: dict(X=sp.csr_matrix(with_value(X, np.nan)), y=y),
        ValueError,
        "Input X contains NaN",
        id="sparse-X-nan",
    ),
    pytest.param(
        lambda X, y: dict(X=pd.DataFrame(X).astype("Float64").mask(X > 2), y=y),
        ValueError,
        "Input X contains NaN",
        id="X-pandas-NA",
    ),
    pytest.param(
        lambda X, y: dict(X=X + 1j, y=y),
        ValueError,
        "Complex data not supported",
        id="X-complex",
    ),
    pytest.param(
        lambda X, y: dict(X=np.full(X.shape, "a"), y=y),
        ValueError,
        "could not convert string to float",
        id="X-strings",
    ),
    pytest.param(
        lambda X, y: dict(X=X[:0], y=y[:0]),
        ValueError,
        r"Found array with 0 sample\(s\)",
        id="X-empty",
    ),
    pytest.param(
        lambda X, y: dict(X=X[:, :0], y=y),
        ValueError,
        r"Found array with 0 feature\(s\)",
        id="X-no-features",
    ),
    pytest.param(
        lambda X, y: dict(X=X[:, 0], y=y),
        ValueError,
        "Expected 2D array, got 1D array",
        id="X-1d",
    ),
    pytest.param(
        lambda X, y: dict(X=X.reshape(-1, 2, 2), y=y),
        ValueError,
        "Found array with dim 3",
        id="X-3d",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=y[:-1]),
        ValueError,
        "inconsistent numbers of samples",
        id="y-wrong-length",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=with_value(y, np.nan, 3)),
        ValueError,
        "Input y contains NaN",
        id="y-nan",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=with_value(y, np.inf, 3)),
        ValueError,
        "Input y contains infinity",
        id="y-inf",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=None),
        ValueError,
        "requires y to be passed",
        id="y-none",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=X[:, 0]),
        ValueError,
        "Unknown label type: continuous",
        id="y-continuous",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=y, sample_weight=weights_with(np.nan)),
        ValueError,
        "Input sample_weight contains NaN",
        id="weight-nan",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=y, sample_weight=weights_with(np.inf)),
        ValueError,
        "Input sample_weight contains infinity",
        id="weight-inf",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=y, sample_weight=weights_with(-1.0)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
        id="weight-negative",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=y, sample_weight=np.zeros(len(y))),
        ValueError,
        "non-zero|sum to zero",
        id="weight-all-zero",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=y, sample_weight=np.ones(len(y) - 1)),
        ValueError,
        r"sample_weight.shape == \(149,\), expected \(150,\)",
        id="weight-wrong-length",
    ),
    pytest.param(
        lambda X, y: dict(X=X, y=y, sample_weight=np.ones((len(y), 2))),
        ValueError,
        "Sample weights must be 1D array or scalar",
        id="weight-2d",
    ),
]


@pytest.mark.parametrize("make_arguments, error, message", BAD_TRAINING_DATA)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_training_data_is_refused(iris, method, make_arguments, error, message):
    kwargs = make_arguments(*iris)
    if method == "partial_fit":
        kwargs["classes"] = CLASSES
    model = small_model()
    with pytest.raises(error, match=message):
        getattr(model, method)(**kwargs)
    assert not hasattr(model, "classes_")


def test_single_class_is_refused(iris):
    X, _ = iris
    with pytest.raises(ValueError, match=r"y contains only one class \(1\)"):
        small_model().fit(X, np.ones(len(X), dtype=int))
    with pytest.raises(ValueError, match=r"only one class \(1\)"):
        small_model().partial_fit(X, np.ones(len(X), dtype=int), classes=[1])


def test_class_weight_that_zeroes_every_sample_is_refused(iris):
    model = small_model(class_weight={0: 0.0, 1: 0.0, 2: 0.0})
    with pytest.raises(ValueError, match=r"\(times class_weight\) sum to zero"):
        model.fit(*iris)


def test_early_stopping_needs_two_samples_of_each_class_to_split(iris):
    X, y = iris
    rows = np.r_[0:50, 50:100, 100]  # a single sample of class 2
    with pytest.raises(ValueError, match="least populated class.* only 1 member"):
        small_model(early_stopping=True).fit(X[rows], y[rows])


def test_multilabel_validation_set_of_one_sample_is_refused(multilabel):
    X, Y = multilabel
    model = small_model(early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError, match="validation set is too small"):
        model.fit(X, Y)


# partial_fit


def test_partial_fit_first_call_refuses_labels_missing_from_classes(iris):
    # The classes of the first call fix the output layer: a label outside them
    # must not be silently encoded as another class (or as no class).
    X, y = iris
    with pytest.raises(ValueError, match=r"y has classes \[2\] that are not in"):
        small_model().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"y has classes \[2\] that are not in"):
        small_model().partial_fit(X, y, classes=[0, 1, 3])


def test_partial_fit_refuses_a_change_of_target_type(iris):
    X, y = iris
    model = small_model().partial_fit(X, y, classes=CLASSES)
    indicator = np.eye(3, dtype=int)[y]
    with pytest.raises(ValueError, match="type of target changed"):
        model.partial_fit(X, indicator)


def test_partial_fit_after_early_stopping_still_validates_its_input(iris):
    X, y = iris
    model = small_model(
        early_stopping=True, n_iter_no_change=1, tol=10.0, random_state=0
    )
    while not model.__dict__.get("_stopped_early", False):
        model.partial_fit(X, y, classes=CLASSES)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.partial_fit(with_value(X, np.nan), y)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.partial_fit(X[:, :3], y)


# Predicting


@pytest.fixture(scope="module")
def fitted(iris):
    return small_model(random_state=0).fit(*iris)


BAD_PREDICTION_DATA = [
    pytest.param(lambda X: with_value(X, np.nan), "Input X contains NaN", id="nan"),
    pytest.param(
        lambda X: with_value(X, np.inf), "Input X contains infinity", id="inf"
    ),
    pytest.param(lambda X: X[:0], r"Found array with 0 sample\(s\)", id="empty"),
    pytest.param(lambda X: X[0], "Expected 2D array, got 1D array", id="1d"),
    pytest.param(lambda X: X.reshape(-1, 2, 2), "Found array with dim 3", id="3d"),
    pytest.param(
        lambda X: X[:, :3],
        "X has 3 features, but AdamMLPClassifier is expecting 4 features",
        id="fewer-features",
    ),
    pytest.param(
        lambda X: np.hstack([X, X]),
        "X has 8 features, but AdamMLPClassifier is expecting 4 features",
        id="more-features",
    ),
    pytest.param(
        lambda X: sp.csr_matrix(X[:, :3]),
        "X has 3 features, but AdamMLPClassifier is expecting 4 features",
        id="sparse-fewer-features",
    ),
]


@pytest.mark.parametrize("make_X, message", BAD_PREDICTION_DATA)
@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_bad_prediction_data_is_refused(iris, fitted, method, make_X, message):
    with pytest.raises(ValueError, match=message):
        getattr(fitted, method)(make_X(iris[0]))


@pytest.mark.parametrize("method", ["predict_proba", "predict_log_proba", "score"])
def test_unfitted_model_refuses_to_predict(iris, method):
    X, y = iris
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(AdamMLPClassifier(), method)(*args)


def test_feature_names_must_match_in_log_proba_and_warm_start(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = small_model(warm_start=True, random_state=0).fit(frame, y)
    renamed = frame.rename(columns={"a": "z"})
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict_log_proba(renamed)
    with pytest.raises(ValueError, match="feature names should match"):
        model.fit(renamed, y)
    with pytest.raises(ValueError, match="feature names should match"):
        model.fit(frame[["d", "c", "b", "a"]], y)


# A failed fit or partial_fit leaves a fitted model exactly as it was


def assert_same_state(before, after, path="model"):
    """Assert that two object graphs hold equal values, attribute by attribute."""
    assert type(before) is type(after), path
    if isinstance(before, np.random.RandomState):
        for old, new in zip(before.get_state(), after.get_state(), strict=True):
            assert_array_equal(old, new, err_msg=f"{path}.get_state()")
    elif isinstance(before, np.ndarray):
        assert before.dtype == after.dtype, path
        assert_array_equal(before, after, err_msg=path, strict=True)
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), path
        for key in before:
            assert_same_state(before[key], after[key], f"{path}[{key!r}]")
    elif isinstance(before, list | tuple):
        assert len(before) == len(after), path
        for i, (old, new) in enumerate(zip(before, after, strict=True)):
            assert_same_state(old, new, f"{path}[{i}]")
    elif isinstance(before, numbers.Number) and np.isnan(before):
        assert np.isnan(after), path
    elif hasattr(before, "__dict__") and not isinstance(before, type):
        assert_same_state(vars(before), vars(after), f"{path}.__dict__")
    elif hasattr(type(before), "__slots__"):
        for name in type(before).__slots__:
            assert_same_state(
                getattr(before, name), getattr(after, name), f"{path}.{name}"
            )
    else:
        assert before == after, path


# (a failing call on a model fitted to the iris data; the message it raises)
FAILURES = {
    "fit-nan": (lambda model, X, y: model.fit(with_value(X, np.nan), y), "NaN"),
    "fit-single-class": (
        lambda model, X, y: model.fit(X, np.zeros_like(y)),
        "only one class",
    ),
    "fit-negative-weight": (
        lambda model, X, y: model.fit(X, y, sample_weight=weights_with(-1.0)),
        "Negative values",
    ),
    "fit-invalid-parameter": (
        lambda model, X, y: model.set_params(alpha=-1.0).fit(X, y),
        "'alpha' parameter",
    ),
    "fit-invalid-hidden-layer-sizes": (
        lambda model, X, y: model.set_params(hidden_layer_sizes=(3, 0)).fit(X, y),
        "hidden_layer_sizes must hold positive integers",
    ),
    "warm-start-fewer-features": (
        lambda model, X, y: model.set_params(warm_start=True).fit(X[:, :3], y),
        "X has 3 features",
    ),
    "warm-start-new-class": (
        lambda model, X, y: model.set_params(warm_start=True).fit(X, y + 1),
        r"classes \[3\] that are not in classes_",
    ),
    "warm-start-toggles-amsgrad": (
        lambda model, X, y: model.set_params(warm_start=True, amsgrad=True).fit(X, y),
        "amsgrad cannot change",
    ),
    "partial-fit-unseen-class": (
        lambda model, X, y: model.partial_fit(X, np.where(y == 2, 5, y)),
        r"classes \[5\] that are not in classes_",
    ),
    "partial-fit-other-classes": (
        lambda model, X, y: model.partial_fit(X, y, classes=[0, 1, 2, 3]),
        "is not the same as on the first call",
    ),
    "partial-fit-target-type": (
        lambda model, X, y: model.partial_fit(X, np.eye(3, dtype=int)[y]),
        "type of target changed",
    ),
    "partial-fit-zero-weights": (
        lambda model, X, y: model.partial_fit(X, y, sample_weight=np.zeros(len(y))),
        "non-zero|sum to zero",
    ),
    "partial-fit-nan-weight": (
        lambda model, X, y: model.partial_fit(X, y, sample_weight=weights_with(np.nan)),
        "sample_weight contains NaN",
    ),
    "partial-fit-balanced": (
        lambda model, X, y: model.set_params(class_weight="balanced").partial_fit(X, y),
        "'balanced' is not supported by partial_fit",
    ),
}


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_failed_call_leaves_fitted_model_intact(iris, failure, early_stopping):
    X, y = iris
    fail, message = FAILURES[failure]
    model = small_model(early_stopping=early_stopping, random_state=0).fit(X, y)
    params, state = model.get_params(), copy.deepcopy(vars(model))
    proba = model.predict_proba(X)
    with pytest.raises(ValueError, match=message):
        fail(model, X, y)
    model.set_params(**params)
    assert_same_state(state, vars(model))
    assert_array_equal(model.predict_proba(X), proba, strict=True)


def test_failed_warm_start_split_leaves_the_random_stream_intact(multilabel):
    # Switching early stopping on for a warm start draws the validation split
    # from the model's random stream; a split that is then refused must not
    # have consumed it, or the next fit differs from one never interrupted.
    X, Y = multilabel
    model = small_model(warm_start=True, random_state=0).fit(X, Y)
    state = copy.deepcopy(vars(model))
    model.set_params(early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError, match="validation set is too small"):
        model.fit(X, Y)
    model.set_params(early_stopping=False, validation_fraction=0.1)
    assert_same_state(state, vars(model))
    model.fit(X, Y)
    never_failed = small_model(warm_start=True, random_state=0).fit(X, Y).fit(X, Y)
    assert_array_equal(model.predict_proba(X), never_failed.predict_proba(X))

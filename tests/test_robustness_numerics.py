"""Numerical extremes: unscaled, constant, duplicated and imbalanced data.

No floating-point warning may reach the user, the probabilities must stay
finite, in [0, 1] and (for one label per sample) sum to one, and
``predict_log_proba`` must stay finite. Divergence is reported as a
``ValueError`` that says what to do, and the model it leaves behind predicts.

The warnings are recorded with ``warnings.catch_warnings(record=True)`` and
checked explicitly, on top of the pytest configuration that turns
``RuntimeWarning`` into an error: a warning the estimator re-emits from code
that records warnings itself (the restarts of ``n_init``) is caught either way.
"""

import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    load_breast_cancer,
    load_iris,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_adam_mlp import AdamMLPClassifier

# Short fits that stop at max_iter are the point here, not their warning.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


@pytest.fixture(scope="module")
def breast_cancer():
    """Unscaled: features from about 1e-3 to 4e3."""
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(n_samples=100, n_classes=4, random_state=0)
    return StandardScaler().fit_transform(X), Y


@contextmanager
def quietly():
    """Fail on any warning in the block, whatever its filter, even if it raises.

    ``ConvergenceWarning`` (short fits are the point here) is let through.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            unexpected = [
                f"{w.category.__name__}: {w.message}"
                for w in caught
                if not issubclass(w.category, ConvergenceWarning)
            ]
            assert not unexpected


def assert_valid_predictions(model, X):
    """Finite probabilities in [0, 1], consistent log-probabilities and labels."""
    with quietly():
        proba = model.predict_proba(X)
        log_proba = model.predict_log_proba(X)
        predicted = model.predict(X)
    rtol = 1e-5 if proba.dtype == np.float32 else 1e-12
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    assert np.isfinite(log_proba).all()
    assert (log_proba <= 0).all()
    assert_allclose(np.exp(log_proba), proba, rtol=100 * rtol, atol=rtol)
    if model.out_activation_ == "softmax" or model.n_outputs_ == 1:
        assert_allclose(proba.sum(axis=1), 1, rtol=rtol)
        assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    else:
        assert_array_equal(predicted, (proba > 0.5).astype(predicted.dtype))
    return proba


def assert_finite_parameters(model):
    for layer in [*model.coefs_, *model.intercepts_]:
        assert np.isfinite(layer).all()


# Unscaled, constant, duplicated and imbalanced data


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("scale", [1e6, 1.0, 1e-6])
def test_unscaled_features(breast_cancer, scale, activation, dtype):
    X, y = breast_cancer
    X = (X * scale).astype(dtype)
    model = AdamMLPClassifier((8,), activation=activation, max_iter=20, random_state=0)
    with quietly():
        model.fit(X, y)
    assert_finite_parameters(model)
    assert np.isfinite(model.loss_curve_).all()
    assert_valid_predictions(model, X)


@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_unscaled_features_with_restarts(breast_cancer, activation):
    X, y = breast_cancer
    model = AdamMLPClassifier(
        (8,), activation=activation, n_init=3, max_iter=10, random_state=0
    )
    with quietly():
        model.fit(X * 1e6, y)
    assert np.isfinite(model.restart_losses_).all()
    assert_valid_predictions(model, X * 1e6)


@pytest.mark.parametrize(
    "make_X",
    [
        pytest.param(lambda X: np.full_like(X, 7.0), id="all-constant"),
        pytest.param(lambda X: np.zeros_like(X), id="all-zero"),
        pytest.param(
            lambda X: np.hstack([X, np.full((len(X), 2), 1e6)]), id="constant-1e6"
        ),
        pytest.param(lambda X: np.hstack([X, X, X]), id="duplicated-columns"),
    ],
)
def test_constant_and_duplicated_columns(iris, make_X):
    X, y = iris
    X = make_X(X)
    model = AdamMLPClassifier((5,), max_iter=30, random_state=0)
    with quietly():
        model.fit(X, y)
    assert_finite_parameters(model)
    assert_valid_predictions(model, X)


def test_all_rows_identical_learns_the_class_frequencies():
    # One input seen with different labels: the best the model can do is the
    # frequency of each label, which the log-loss is minimised by.
    y = np.repeat([0, 1, 2], [10, 30, 60])
    X = np.ones((len(y), 3))
    model = AdamMLPClassifier(
        (4,), learning_rate_init=0.05, alpha=0, max_iter=300, tol=1e-7, random_state=0
    )
    with quietly():
        model.fit(X, y)
    proba = assert_valid_predictions(model, X)
    assert_allclose(proba, np.tile([0.1, 0.3, 0.6], (len(y), 1)), atol=0.02)


def test_duplicated_rows(iris):
    X, y = iris
    repeats = np.random.RandomState(0).randint(1, 40, size=len(y))
    X, y = np.repeat(X, repeats, axis=0), np.repeat(y, repeats)
    model = AdamMLPClassifier((5,), max_iter=5, random_state=0)
    with quietly():
        model.fit(X, y)
    assert_valid_predictions(model, X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_one_positive_in_ten_thousand(class_weight, dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10_000, 3)).astype(dtype)
    y = np.zeros(10_000, dtype=int)
    y[1234] = 1
    model = AdamMLPClassifier(
        (4,),
        class_weight=class_weight,
        learning_rate_init=0.05,
        max_iter=3,
        random_state=0,
    )
    with quietly():
        model.fit(X, y)
    assert_finite_parameters(model)
    proba = assert_valid_predictions(model, X)
    assert proba.dtype == dtype
    if class_weight is None:  # the model has learnt how rare the positive is
        assert (proba[:, 1] < 0.01).all()


def test_one_positive_in_ten_thousand_weighted_heavily():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(10_000, 3))
    y = np.zeros(10_000, dtype=int)
    y[1234] = 1
    sample_weight = np.ones(10_000)
    sample_weight[1234] = 1e8
    model = AdamMLPClassifier((4,), max_iter=3, random_state=0)
    with quietly():
        model.fit(X, y, sample_weight=sample_weight)
    assert_valid_predictions(model, X)


@pytest.mark.parametrize(
    "dtype, exponent",
    [(np.float64, -600), (np.float64, 600), (np.float32, -100), (np.float32, 100)],
)
def test_tiny_and_huge_sample_weights(iris, dtype, exponent):
    # Without the L2 penalty the cost is a weighted mean: scaling every weight
    # by a power of two, exactly, changes nothing at all.
    X, y = iris
    X = X.astype(dtype)
    sample_weight = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    params = dict(hidden_layer_sizes=(5,), alpha=0.0, max_iter=5, random_state=0)
    reference = AdamMLPClassifier(**params).fit(X, y, sample_weight=sample_weight)
    model = AdamMLPClassifier(**params)
    with quietly():
        model.fit(X, y, sample_weight=sample_weight * 2.0**exponent)
    assert_array_equal(model.predict_proba(X), reference.predict_proba(X))
    assert_valid_predictions(model, X)


# Huge logits at prediction


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e300), (np.float32, 1e35)])
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_huge_logits(iris, multilabel, activation, target, dtype, scale):
    if target == "multilabel":
        X, y = multilabel
    else:
        X, y = iris
        y = y > 0 if target == "binary" else y
    X = X.astype(dtype)
    model = AdamMLPClassifier((5,), activation=activation, max_iter=20, random_state=0)
    with quietly():
        model.fit(X, y)
    huge = X * dtype(scale)
    assert np.isfinite(huge).all()
    proba = assert_valid_predictions(model, huge)
    if activation in ("identity", "relu"):
        assert ((proba == 0) | (proba == 1)).any()  # the logits really are huge


# Divergence


DIVERGENCE_ADVICE = (
    r"Training diverged in epoch {epoch}.*non-finite.*"
    r"(?i:standardi[sz]e|scale).*learning_rate_init"
)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_divergence_in_the_first_epoch_in_float32(activation):
    X, y = load_iris(return_X_y=True)  # unscaled
    model = AdamMLPClassifier(
        (5,),
        activation=activation,
        learning_rate_init=1e30,
        batch_size=10,
        random_state=0,
    )
    with pytest.raises(ValueError, match=DIVERGENCE_ADVICE.format(epoch=1)), quietly():
        model.fit(X.astype(np.float32), y)
    assert model.n_iter_ == 0
    assert_finite_parameters(model)
    assert_valid_predictions(model, X.astype(np.float32))


@pytest.mark.parametrize("activation", ["identity", "relu"])
def test_divergence_after_the_first_epoch_keeps_a_model_that_predicts(activation):
    # One full-batch step of size 1e160 leaves finite weights whose logits
    # overflow: the second epoch diverges. The model kept must still predict
    # finite probabilities on the training data, without warnings.
    X, y = load_iris(return_X_y=True)
    model = AdamMLPClassifier(
        (5,),
        activation=activation,
        learning_rate_init=1e160,
        batch_size=len(y),
        random_state=0,
    )
    with pytest.raises(ValueError, match=DIVERGENCE_ADVICE.format(epoch=2)), quietly():
        model.fit(X, y)
    assert_finite_parameters(model)
    assert_valid_predictions(model, X)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_divergence_when_training_continues_keeps_the_previous_model(iris, how):
    # Steps of 1e100 give weights whose logits on X are about 1e204: finite.
    # On X * 1e150 they overflow.
    X, y = iris
    model = AdamMLPClassifier(
        (5,),
        learning_rate_init=1e100,
        batch_size=10,
        max_iter=1,
        warm_start=True,
        random_state=0,
    )

    def train(X):
        if how == "partial_fit":
            model.partial_fit(X, y, classes=[0, 1, 2])
        else:
            model.fit(X, y)

    train(X)
    proba = assert_valid_predictions(model, X)
    with pytest.raises(ValueError, match=DIVERGENCE_ADVICE.format(epoch=2)), quietly():
        train(X * 1e150)
    assert model.n_iter_ == 1
    assert_array_equal(model.predict_proba(X), proba)
    train(X)  # and training goes on
    assert model.n_iter_ == 2
    assert_valid_predictions(model, X)


def test_divergence_of_every_restart_keeps_a_model_that_predicts(breast_cancer):
    X, y = breast_cancer
    model = AdamMLPClassifier((4,), learning_rate_init=1e200, n_init=2, random_state=0)
    with pytest.raises(ValueError, match=DIVERGENCE_ADVICE.format(epoch=1)), quietly():
        model.fit(X * 1e100, y)
    assert_finite_parameters(model)
    assert_valid_predictions(model, X)

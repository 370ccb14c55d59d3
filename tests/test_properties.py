"""Properties of AdamMLPClassifier on any data, checked with hypothesis.

Random shapes, activations, class counts (2 to 5, and multilabel), dtypes
(float32 and float64), sample weights, optimiser settings and restarts. The networks are
tiny and the fits a few epochs long, so that the default ("ci") profile of
``conftest.py`` runs in seconds; ``HYPOTHESIS_PROFILE=dev`` tries many more.
"""

import pickle
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_adam_mlp import AdamMLPClassifier
from sklearn_adam_mlp._network import Network

# Fits of a few epochs are the point here; whether they converged is not.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


@st.composite
def problems(draw, *, targets=("multiclass", "multilabel"), dtypes=None):
    """Draw ``(X, y, sample_weight, params)``: data and a small model for it.

    ``y`` holds every one of its ``n_classes`` labels ``0, ..., n_classes - 1``
    (binary when there are two), or is a multilabel indicator matrix.
    """
    dtype = draw(st.sampled_from(dtypes or [np.float64, np.float32]))
    target = draw(st.sampled_from(targets))
    n_classes = draw(st.integers(2, 5))
    n_samples = draw(st.integers(n_classes, 30))
    n_features = draw(st.integers(1, 5))
    width = 32 if dtype == np.float32 else 64
    X = draw(
        hnp.arrays(
            dtype,
            (n_samples, n_features),
            elements=st.floats(-1e6, 1e6, width=width),
        )
    )
    if target == "multilabel":
        y = draw(
            hnp.arrays(np.int64, (n_samples, n_classes), elements=st.integers(0, 1))
        )
    else:
        labels = st.integers(0, n_classes - 1)
        y = draw(hnp.arrays(np.int64, n_samples, elements=labels))
        y[:n_classes] = np.arange(n_classes)
    # Zero or at least 1e-3: the L2 penalty is divided by a batch's total
    # weight (scikit-learn's convention), so with alpha > 0 a batch of only
    # tiny weights (1e-300, say) has a penalty that overflows. Without the
    # penalty, tiny and huge weights are tested in test_robustness_numerics.
    weights = st.just(0.0) | st.floats(1e-3, 10)
    sample_weight = draw(
        st.none()
        | hnp.arrays(np.float64, n_samples, elements=weights).map(
            lambda weights: weights + np.eye(1, n_samples).ravel()  # sum > 0
        )
    )
    params = dict(
        hidden_layer_sizes=draw(st.lists(st.integers(1, 6), min_size=1, max_size=2)),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        alpha=draw(st.sampled_from([0.0, 1e-4, 1.0])),
        batch_size=draw(st.just("auto") | st.integers(1, n_samples)),
        learning_rate_init=draw(st.sampled_from([1e-3, 1e-2, 0.1])),
        max_iter=draw(st.integers(1, 4)),
        shuffle=draw(st.booleans()),
        random_state=draw(st.integers(0, 2**16)),
        learning_rate=draw(
            st.sampled_from(["constant", "invscaling", "adaptive", "cosine"])
        ),
        amsgrad=draw(st.booleans()),
        weight_decay=draw(st.sampled_from([0.0, 0.01])),
        clip_norm=draw(st.sampled_from([None, 1.0])),
        epsilon_placement=draw(st.sampled_from(["sklearn", "torch"])),
        n_init=draw(st.integers(1, 2)),
    )
    return X, y, sample_weight, params


def fit(X, y, sample_weight, params):
    with warnings.catch_warnings():
        # The pytest configuration makes RuntimeWarning an error; say it again
        # here, where hypothesis runs the body, to be explicit.
        warnings.simplefilter("error", RuntimeWarning)
        return AdamMLPClassifier(**params).fit(X, y, sample_weight=sample_weight)


@given(problems())
def test_fit_on_finite_data_gives_finite_parameters(problem):
    X, y, sample_weight, params = problem
    model = fit(X, y, sample_weight, params)
    for layer in [*model.coefs_, *model.intercepts_]:
        assert layer.dtype == X.dtype
        assert np.isfinite(layer).all()
    assert np.isfinite(model.loss_curve_).all()


@given(problems())
def test_predict_proba_is_a_probability_distribution(problem):
    X, y, sample_weight, params = problem
    model = fit(X, y, sample_weight, params)
    n_classes = y.shape[1] if y.ndim == 2 else len(np.unique(y))
    proba = model.predict_proba(X)
    log_proba = model.predict_log_proba(X)
    rtol = 1e-5 if X.dtype == np.float32 else 1e-12
    assert proba.shape == (len(X), n_classes)
    assert proba.dtype == X.dtype
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    if y.ndim == 1:
        assert_allclose(proba.sum(axis=1), 1, rtol=rtol)
    assert np.isfinite(log_proba).all()
    assert_allclose(np.exp(log_proba), proba, rtol=100 * rtol, atol=rtol)


@given(problems())
def test_predict_is_the_most_probable_class(problem):
    X, y, sample_weight, params = problem
    model = fit(X, y, sample_weight, params)
    proba = model.predict_proba(X)
    if y.ndim == 2:
        assert_array_equal(model.predict(X), (proba > 0.5).astype(y.dtype))
    else:
        assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])


@given(problems(targets=["multiclass"]), st.sampled_from(["numbers", "strings"]))
def test_relabelling_that_keeps_the_order_changes_nothing(problem, kind):
    # The labels only matter through their sorted order (classes_): labels
    # sorted the same way train the same model, bit for bit.
    X, y, sample_weight, params = problem
    n_classes = len(np.unique(y))
    if kind == "numbers":
        labels = np.array([-7, 0, 3, 10**9, 2 * 10**9])[:n_classes]
    else:
        labels = np.array(["ant", "bee", "cat", "dog", "eel"])[:n_classes]
    model = fit(X, y, sample_weight, params)
    relabelled = fit(X, labels[y], sample_weight, params)
    assert_array_equal(relabelled.classes_, labels)
    assert_array_equal(relabelled.predict_proba(X), model.predict_proba(X))
    assert_array_equal(relabelled.predict(X), labels[model.predict(X)])


def output_layer_permuted(permutation):
    """``Network.init_params`` whose output unit ``permutation[k]`` starts as k did.

    For one logistic output (binary targets), swapping the two classes is
    negating the output unit.
    """
    init_params = Network.init_params

    def permuted_init_params(self, random_state, dtype=np.float64):
        params = init_params(self, random_state, dtype)
        coefs, intercepts = self.unpack(params)
        for output_layer in (coefs[-1], intercepts[-1]):
            if output_layer.shape[-1] == 1:
                output_layer *= -1 if permutation[0] == 1 else 1
            else:
                output_layer[..., permutation] = output_layer.copy()
        return params

    return permuted_init_params


@given(problems(dtypes=[np.float64]), st.data())
def test_permuting_the_labels_permutes_the_columns(problem, data):
    # Class k of the first model is class permutation[k] of the second. The
    # labels index the output units, so the two fits start alike only if the
    # initial output units are permuted as well: then the log-loss, its
    # gradient and Adam's elementwise steps are permuted too, and the two
    # models agree up to the rounding of sums taken in another order. A large
    # epsilon keeps Adam from blowing up a gradient that is zero in one fit
    # and a rounding error in the other.
    X, y, sample_weight, params = problem
    params.update(epsilon=1e-3, n_init=1)
    n_classes = y.shape[1] if y.ndim == 2 else len(np.unique(y))
    permutation = np.array(data.draw(st.permutations(range(n_classes))))
    if y.ndim == 2:
        permuted_y = np.empty_like(y)
        permuted_y[:, permutation] = y
    else:
        permuted_y = permutation[y]
    model = fit(X, y, sample_weight, params)
    with mock.patch.object(Network, "init_params", output_layer_permuted(permutation)):
        permuted = fit(X, permuted_y, sample_weight, params)
    assert_allclose(
        permuted.predict_proba(X)[:, permutation],
        model.predict_proba(X),
        rtol=1e-6,
        atol=1e-9,
    )


@given(problems())
def test_pickling_preserves_predictions_and_training_exactly(problem):
    X, y, sample_weight, params = problem
    model = fit(X, y, sample_weight, params)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert_array_equal(restored.predict_log_proba(X), model.predict_log_proba(X))
    assert_array_equal(restored.predict(X), model.predict(X))
    # The optimiser's state survives too: one more epoch on each agrees.
    model.partial_fit(X, y, sample_weight=sample_weight)
    restored.partial_fit(X, y, sample_weight=sample_weight)
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))

import inspect
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sklearn_adam_mlp import AdamMLPClassifier, StalledTrainingWarning
from sklearn_adam_mlp import _classifier as classifier_module
from sklearn_adam_mlp._network import Network

SKLEARN_MLP_HAS_SAMPLE_WEIGHT = (
    "sample_weight" in inspect.signature(MLPClassifier.fit).parameters
)


def _standardized(loader, n_samples=None):
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[:n_samples], y[:n_samples]


@pytest.fixture(scope="module")
def breast_cancer():
    return _standardized(load_breast_cancer)


@pytest.fixture(scope="module")
def digits():
    return _standardized(load_digits, 600)


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    return StandardScaler().fit_transform(X), Y


def _fit_both(X, y, sample_weight=None, **params):
    """Fit ours and scikit-learn's Adam MLP with the same settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = AdamMLPClassifier(**params).fit(X, y, sample_weight=sample_weight)
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        theirs = MLPClassifier(solver="adam", **params).fit(X, y, **fit_params)
    return ours, theirs


def _assert_same_weights(ours, theirs, rtol=1e-6, atol=0.0):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for mine, reference in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        assert mine.dtype == reference.dtype
        assert_allclose(mine, reference, rtol=rtol, atol=atol)


# Same math as scikit-learn's MLPClassifier(solver="adam")


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("data", ["breast_cancer", "iris", "multilabel"])
def test_full_batch_trajectory_matches_sklearn(request, data, activation):
    X, y = request.getfixturevalue(data)
    ours, theirs = _fit_both(
        X,
        y,
        hidden_layer_sizes=(5, 4),
        activation=activation,
        alpha=1e-3,
        batch_size=X.shape[0],
        shuffle=False,
        tol=0,
        max_iter=20,
        random_state=1,
    )
    _assert_same_weights(ours, theirs)
    assert ours.n_iter_ == theirs.n_iter_ == 20
    assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    assert ours.out_activation_ == theirs.out_activation_
    assert ours.n_outputs_ == theirs.n_outputs_
    assert ours.n_layers_ == theirs.n_layers_ == 4
    assert ours.t_ == theirs.t_


@pytest.mark.parametrize("data", ["breast_cancer", "digits", "multilabel"])
def test_shuffled_mini_batch_trajectory_matches_sklearn(request, data):
    X, y = request.getfixturevalue(data)
    ours, theirs = _fit_both(
        X,
        y,
        hidden_layer_sizes=(16,),
        batch_size=64,
        tol=0,
        max_iter=15,
        random_state=7,
    )
    _assert_same_weights(ours, theirs)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9)
    assert_array_equal(ours.predict(X), theirs.predict(X))


# The kernels' special paths: one output column with a narrow logistic layer,
# softmax over 10 classes with a relu layer wide enough for the row of zeros.
@pytest.mark.parametrize(
    "data, params",
    [
        ("breast_cancer", {"hidden_layer_sizes": (3,), "activation": "logistic"}),
        ("digits", {"hidden_layer_sizes": (40, 20), "batch_size": 128}),
    ],
)
def test_weights_are_sklearns_bit_for_bit(request, data, params):
    X, y = request.getfixturevalue(data)
    ours, theirs = _fit_both(X, y, tol=0, max_iter=25, random_state=2, **params)

    _assert_same_weights(ours, theirs, rtol=0)


def test_stopping_rule_matches_sklearn(breast_cancer):
    X, y = breast_cancer
    ours, theirs = _fit_both(
        X,
        y,
        hidden_layer_sizes=(8,),
        learning_rate_init=0.01,
        tol=1e-3,
        random_state=0,
    )
    assert ours.n_iter_ == theirs.n_iter_ < 200
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)
    _assert_same_weights(ours, theirs)


def test_early_stopping_matches_sklearn_on_binary_target(breast_cancer):
    X, y = breast_cancer
    ours, theirs = _fit_both(
        X,
        y,
        hidden_layer_sizes=(8,),
        early_stopping=True,
        n_iter_no_change=5,
        batch_size=50,
        learning_rate_init=0.01,
        random_state=3,
    )
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    assert ours.best_validation_score_ == theirs.best_validation_score_
    assert ours.best_loss_ is None and theirs.best_loss_ is None
    _assert_same_weights(ours, theirs)


def test_float32_trains_in_float32_and_matches_sklearn(digits):
    X, y = digits
    X = X.astype(np.float32)
    ours, theirs = _fit_both(
        X,
        y,
        hidden_layer_sizes=(20,),
        batch_size=100,
        tol=0,
        max_iter=10,
        random_state=0,
    )
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    assert ours.predict_proba(X).dtype == np.float32
    # scikit-learn computes Adam's update in float64 for float32 weights;
    # we stay in float32, so the weights agree to float32 rounding.
    _assert_same_weights(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(
    not SKLEARN_MLP_HAS_SAMPLE_WEIGHT,
    reason="MLPClassifier.fit takes sample_weight from scikit-learn 1.7 on",
)
def test_sample_weight_matches_sklearn(iris):
    X, y = iris
    sample_weight = np.random.RandomState(0).uniform(0.5, 2, size=X.shape[0])
    ours, theirs = _fit_both(
        X,
        y,
        sample_weight,
        hidden_layer_sizes=(6,),
        batch_size=X.shape[0],
        shuffle=False,
        tol=0,
        max_iter=20,
        random_state=0,
    )
    _assert_same_weights(ours, theirs)


# Reproducibility


@pytest.mark.parametrize("early_stopping", [False, True])
def test_same_random_state_gives_bit_identical_models(digits, early_stopping):
    X, y = digits
    params = dict(
        hidden_layer_sizes=(12,),
        max_iter=5,
        early_stopping=early_stopping,
        random_state=123,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = AdamMLPClassifier(**params).fit(X, y)
        second = AdamMLPClassifier(**params).fit(X, y)
        third = AdamMLPClassifier(**{**params, "random_state": 124}).fit(X, y)
    for a, b in zip(first.coefs_, second.coefs_, strict=True):
        assert_array_equal(a, b)
    assert not np.array_equal(first.coefs_[0], third.coefs_[0])


# Mini-batches, stopping, verbose


def test_auto_batch_size_and_clipping(iris):
    X, y = iris
    model = AdamMLPClassifier(max_iter=1, random_state=0)
    assert model._batch_size(1000) == 200
    assert model._batch_size(150) == 150
    with pytest.warns(UserWarning, match="batch_size=500 larger than the 150"):
        model.set_params(batch_size=500).partial_fit(X, y, classes=np.unique(y))


def test_convergence_warning_when_max_iter_reached(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\)"):
        AdamMLPClassifier(max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = AdamMLPClassifier(max_iter=500, tol=1e-2, random_state=0).fit(X, y)
    assert model.n_iter_ < 500


def test_verbose_prints_one_line_per_epoch(iris, capsys):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AdamMLPClassifier(max_iter=4, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Iteration {i}, loss = {loss:.8f}"
        for i, loss in enumerate(model.loss_curve_, start=1)
    ]


# Early stopping


def _validation_indices(y, n_features, hidden, n_outputs, activation, seed):
    """Redraw the split: scikit-learn draws it right after the initial weights."""
    random_state = np.random.RandomState(seed)
    out_activation = "softmax" if n_outputs > 1 else "logistic"
    Network(
        [n_features, *hidden, n_outputs],
        activation=activation,
        out_activation=out_activation,
    ).init_params(random_state)
    return train_test_split(
        np.arange(len(y)), test_size=0.1, random_state=random_state, stratify=y
    )


@pytest.mark.parametrize("scoring", ["accuracy", "loss"])
def test_early_stopping_restores_best_weights(digits, scoring):
    X, y = digits
    model = AdamMLPClassifier(
        (10,),
        early_stopping=True,
        scoring=scoring,
        n_iter_no_change=3,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    _, val = _validation_indices(y, X.shape[1], (10,), 10, "relu", 0)
    # The multiclass split is stratified.
    assert_allclose(
        np.bincount(y[val], minlength=10) / len(val),
        np.bincount(y, minlength=10) / len(y),
        atol=0.02,
    )
    assert len(model.validation_scores_) == model.n_iter_
    assert len(model.validation_loss_curve_) == model.n_iter_
    validation_loss = log_loss(y[val], model.predict_proba(X[val]))
    if scoring == "loss":
        assert_allclose(
            model.validation_scores_, -np.array(model.validation_loss_curve_)
        )
        assert model.best_validation_score_ == pytest.approx(
            -validation_loss, rel=1e-10
        )
    else:
        assert model.best_validation_score_ == model.score(X[val], y[val])
        best = int(np.argmax(model.validation_scores_))
        assert model.validation_loss_curve_[best] == pytest.approx(
            validation_loss, rel=1e-10
        )
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_validation_curves_absent_without_early_stopping(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AdamMLPClassifier(max_iter=3, random_state=0).fit(X, y)
    assert model.validation_scores_ is None
    assert model.validation_loss_curve_ is None
    assert model.best_validation_score_ is None
    assert model.best_loss_ == min(model.loss_curve_)


def test_early_stopping_with_partial_fit(digits):
    X, y = digits
    model = AdamMLPClassifier(
        (10,),
        early_stopping=True,
        n_iter_no_change=2,
        learning_rate_init=0.05,
        tol=0.05,
        random_state=0,
    )
    classes = np.unique(y)
    calls = 0
    while not model.__dict__.get("_stopped_early", False):
        model.partial_fit(X, y, classes=classes)
        calls += 1
        assert calls < 100
    assert model.n_iter_ == calls == len(model.validation_scores_)
    _, val = _validation_indices(y, X.shape[1], (10,), 10, "relu", 0)
    assert model.score(X[val], y[val]) == model.best_validation_score_
    before = model.coefs_[0].copy()
    with pytest.warns(UserWarning, match="Early stopping ended training"):
        model.partial_fit(X, y)
    assert_array_equal(model.coefs_[0], before)


# partial_fit and warm_start keep Adam's state


def _no_shuffle(**params):
    return AdamMLPClassifier(
        (8,), shuffle=False, tol=0, batch_size=50, random_state=0, **params
    )


def test_partial_fit_is_one_epoch_and_keeps_adam_state(iris):
    X, y = iris
    incremental = _no_shuffle()
    for _ in range(3):
        incremental.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.warns(ConvergenceWarning):
        full = _no_shuffle(max_iter=3).fit(X, y)
    assert incremental.n_iter_ == full.n_iter_ == 3
    assert incremental.t_ == full.t_ == 3 * X.shape[0]
    assert incremental._adam.step == full._adam.step == 3 * 3
    assert_array_equal(incremental._params, full._params)
    assert_allclose(incremental.loss_curve_, full.loss_curve_, rtol=0)


def test_partial_fit_first_call_matches_sklearn(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(8,), batch_size=40, random_state=5)
    ours = AdamMLPClassifier(**params).partial_fit(X, y, classes=[0, 1, 2])
    theirs = MLPClassifier(**params).partial_fit(X, y, classes=[0, 1, 2])
    _assert_same_weights(ours, theirs)


def test_partial_fit_classes_are_required_and_fixed(iris):
    X, y = iris
    model = AdamMLPClassifier((4,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X, y)
    model.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (X.shape[0], 3)
    with pytest.raises(ValueError, match="not the same as on the first call"):
        model.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"classes \[7\] that are not in classes_"):
        model.partial_fit(X[:3], [0, 1, 7])


def test_warm_start_continues_with_adam_state(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = _no_shuffle(max_iter=3, warm_start=True).fit(X, y)
        warm.set_params(max_iter=2).fit(X, y)
        cold = _no_shuffle(max_iter=5).fit(X, y)
    assert warm.n_iter_ == 5 and len(warm.loss_curve_) == 5
    assert_array_equal(warm._params, cold._params)
    assert_array_equal(warm._adam.first_moment, cold._adam.first_moment)


def test_fit_without_warm_start_starts_anew(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _no_shuffle(max_iter=3).fit(X, y)
        first = model._params.copy()
        model.fit(X, y)
    assert_array_equal(model._params, first)
    assert model.n_iter_ == 3


@pytest.mark.usefixtures("no_convergence_warnings")
def test_warm_start_may_switch_early_stopping(digits):
    X, y = digits
    model = AdamMLPClassifier((8,), max_iter=3, warm_start=True, random_state=0)
    model.set_params(early_stopping=True).fit(X, y)
    assert model.best_loss_ is None and len(model.validation_scores_) == 3
    model.set_params(early_stopping=False).fit(X, y)
    assert model.best_loss_ == min(model.loss_curve_[3:])
    model.set_params(early_stopping=True).fit(X, y)
    assert len(model.validation_scores_) == 6
    assert model.n_iter_ == 9


def test_warm_start_requires_the_same_classes(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _no_shuffle(max_iter=2, warm_start=True).fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"classes \[2\] that are not in classes_"):
        model.fit(X, y)


# Sample and class weights


def _full_batch(**params):
    return AdamMLPClassifier(
        (6,),
        batch_size=10_000,
        shuffle=False,
        tol=0,
        max_iter=15,
        random_state=0,
        **params,
    )


@pytest.fixture
def no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Got batch_size")
        yield


@pytest.mark.usefixtures("no_convergence_warnings")
def test_zero_weight_is_dropping_the_row(iris):
    X, y = iris
    sample_weight = np.ones(X.shape[0])
    sample_weight[::3] = 0
    weighted = _full_batch().fit(X, y, sample_weight=sample_weight)
    dropped = _full_batch().fit(X[sample_weight > 0], y[sample_weight > 0])
    assert_allclose(weighted._params, dropped._params, rtol=1e-10, atol=1e-12)


@pytest.mark.usefixtures("no_convergence_warnings")
def test_integer_weights_are_repeated_rows(breast_cancer):
    X, y = breast_cancer
    sample_weight = np.random.RandomState(0).randint(1, 4, size=X.shape[0])
    weighted = _full_batch().fit(X, y, sample_weight=sample_weight)
    repeated = _full_batch().fit(
        np.repeat(X, sample_weight, axis=0), np.repeat(y, sample_weight)
    )
    assert_allclose(weighted._params, repeated._params, rtol=1e-8, atol=1e-10)
    assert weighted.score(X, y, sample_weight=sample_weight) == pytest.approx(
        repeated.score(np.repeat(X, sample_weight, axis=0), np.repeat(y, sample_weight))
    )


@pytest.mark.usefixtures("no_convergence_warnings")
@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}])
def test_class_weight_multiplies_sample_weight(iris, class_weight):
    X, y = iris
    y = y[20:]  # unbalanced classes
    X = X[20:]
    sample_weight = np.random.RandomState(0).uniform(0.5, 1.5, size=len(y))
    with_class_weight = _full_batch(class_weight=class_weight).fit(
        X, y, sample_weight=sample_weight
    )
    by_hand = _full_batch().fit(
        X, y, sample_weight=sample_weight * compute_sample_weight(class_weight, y)
    )
    assert_array_equal(with_class_weight._params, by_hand._params)


def test_class_weight_dict_in_partial_fit_batch_lacking_classes(iris):
    X, y = iris
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    batch = y > 0  # no sample of class 0
    weighted = AdamMLPClassifier((4,), class_weight=class_weight, random_state=0)
    weighted.partial_fit(X[batch], y[batch], classes=[0, 1, 2])
    by_hand = AdamMLPClassifier((4,), random_state=0)
    sample_weight = np.where(y[batch] == 1, 3.0, 0.5)
    by_hand.partial_fit(
        X[batch], y[batch], classes=[0, 1, 2], sample_weight=sample_weight
    )
    assert_array_equal(weighted._params, by_hand._params)


def test_class_weight_errors(iris, multilabel):
    X, y = iris
    model = AdamMLPClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="'balanced' is not supported by partial_fit"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not supported for multilabel"):
        AdamMLPClassifier(class_weight={0: 2.0}).fit(*multilabel)


def test_weights_summing_to_zero_are_refused(iris):
    X, y = iris
    with pytest.raises(ValueError, match="zero"):
        AdamMLPClassifier().fit(X, y, sample_weight=np.zeros(len(y)))


# Targets and inputs


@pytest.mark.usefixtures("no_convergence_warnings")
def test_multilabel(multilabel):
    X, Y = multilabel
    model = AdamMLPClassifier(
        (20,), learning_rate_init=0.01, max_iter=100, random_state=0
    ).fit(X, Y)
    assert model.out_activation_ == "logistic"
    assert model.n_outputs_ == Y.shape[1]
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape
    assert_array_equal(model.predict(X), (proba > 0.5).astype(int))
    assert model.score(X, Y) > 0.5


@pytest.mark.usefixtures("no_convergence_warnings")
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.csr_array])
def test_sparse_input_matches_dense(digits, container):
    X, y = digits
    X = np.where(np.abs(X) < 0.5, 0, X)
    dense = AdamMLPClassifier((10,), max_iter=3, random_state=0).fit(X, y)
    sparse = AdamMLPClassifier((10,), max_iter=3, random_state=0).fit(container(X), y)
    assert_allclose(sparse._params, dense._params, rtol=1e-8, atol=1e-10)
    assert_allclose(
        sparse.predict_proba(container(X)), dense.predict_proba(X), rtol=1e-8
    )


@pytest.mark.usefixtures("no_convergence_warnings")
def test_sparse_input_is_never_densified():
    rng = np.random.RandomState(0)
    n_samples, n_features, n_nonzero = 1000, 100_000, 10_000
    X = sp.csr_matrix(
        (
            rng.uniform(size=n_nonzero),
            (
                rng.randint(n_samples, size=n_nonzero),
                rng.randint(n_features, size=n_nonzero),
            ),
        ),
        shape=(n_samples, n_features),
    )
    y = rng.randint(0, 2, size=n_samples)
    dense_mib = X.shape[0] * X.shape[1] * 8 / 2**20
    tracemalloc.start()
    try:
        model = AdamMLPClassifier((2,), max_iter=2, random_state=0).fit(X, y)
        model.predict_proba(X)
        peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert peak_mib < dense_mib / 10


@pytest.mark.usefixtures("no_convergence_warnings")
def test_predictions_are_consistent(digits):
    X, y = digits
    model = AdamMLPClassifier((10,), max_iter=5, random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert_allclose(np.exp(model.predict_log_proba(X)), proba, rtol=1e-10)
    with config_context(working_memory=0.001):  # forces many row chunks
        assert_allclose(model.predict_proba(X), proba, rtol=0, atol=0)


@pytest.mark.usefixtures("no_convergence_warnings")
def test_log_proba_stays_finite_where_proba_rounds_to_zero(breast_cancer):
    X, y = breast_cancer
    model = AdamMLPClassifier((4,), max_iter=20, random_state=0).fit(X, y)
    extreme = X[:5] * 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = model.predict_proba(extreme)
        log_proba = model.predict_log_proba(extreme)
    assert (proba == 0).any()
    assert np.isfinite(log_proba).all()
    assert_array_equal(np.argmax(log_proba, axis=1), np.argmax(proba, axis=1))


# Weights as views, bad input, interruption, divergence


@pytest.mark.usefixtures("no_convergence_warnings")
def test_coefs_are_views_and_assignable(iris):
    X, y = iris
    model = AdamMLPClassifier((5,), max_iter=2, random_state=0).fit(X, y)
    assert np.shares_memory(model.coefs_[0], model._params)
    new_coefs = [np.zeros_like(c) for c in model.coefs_]
    model.coefs_ = new_coefs
    model.intercepts_ = [np.zeros_like(b) for b in model.intercepts_]
    assert_allclose(model.predict_proba(X), 1 / 3)
    with pytest.raises(ValueError, match="must have the shapes"):
        model.coefs_ = new_coefs[:1]
    with pytest.raises(AttributeError, match="not fitted yet"):
        _ = AdamMLPClassifier().coefs_


def test_unfitted_predict_raises():
    with pytest.raises(NotFittedError):
        AdamMLPClassifier().predict(np.ones((2, 3)))


@pytest.mark.parametrize("sizes", [(3, 0), [2.5], "abc"])
def test_invalid_hidden_layer_sizes(iris, sizes):
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        AdamMLPClassifier(hidden_layer_sizes=sizes).fit(*iris)


@pytest.mark.usefixtures("no_convergence_warnings")
def test_failed_fit_leaves_fitted_model_intact(iris):
    X, y = iris
    model = AdamMLPClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    state = {k: v for k, v in vars(model).items() if not k.startswith("_")}
    params = model._params.copy()
    proba = model.predict_proba(X)
    bad_X = X.copy()
    bad_X[0, 0] = np.nan
    for args in [(bad_X, y), (X[:, :2], y[:1]), (X, np.zeros(len(y)))]:
        with pytest.raises(ValueError):
            model.fit(*args)
        assert_array_equal(model._params, params)
        assert model.n_features_in_ == state["n_features_in_"]
        assert model.loss_curve_ == state["loss_curve_"]
        assert_array_equal(model.predict_proba(X), proba)
    with pytest.raises(ValueError):
        model.fit(np.hstack([X, X]), y, sample_weight=np.zeros(len(y)))
    assert model.n_features_in_ == X.shape[1]


def test_keyboard_interrupt_stops_cleanly(iris, monkeypatch):
    X, y = iris
    calls = {"n": 0}
    adam_step = classifier_module.adam_step

    def interrupted_adam_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return adam_step(*args, **kwargs)

    monkeypatch.setattr(classifier_module, "adam_step", interrupted_adam_step)
    model = AdamMLPClassifier((5,), batch_size=50, random_state=0)
    with pytest.warns(UserWarning, match="interrupted by user"):
        model.fit(X, y)
    assert model.n_iter_ == 2  # two full epochs of three batches each
    assert np.isfinite(model._params).all()
    assert model.predict(X).shape == y.shape


def test_divergence_raises_and_keeps_last_finite_model(breast_cancer):
    X, y = breast_cancer
    model = AdamMLPClassifier((4,), learning_rate_init=1e200, random_state=0)
    with pytest.raises(
        ValueError, match="Training diverged in epoch 1.*StandardScaler"
    ):
        model.fit(X * 1e100, y)
    assert np.isfinite(model._params).all()
    assert model.n_iter_ == 0
    # The rollback keeps the parameters only: Adam starts afresh.
    assert model._adam.step == 0
    assert not model._adam.first_moment.any()
    assert not model._adam.second_moment.any()


# Restarts, optimiser options and the training records.


def test_restarts_keep_the_lowest_final_loss(breast_cancer):
    X, y = breast_cancer
    params = dict(hidden_layer_sizes=(3,), activation="logistic", max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AdamMLPClassifier(n_init=4, random_state=0, **params).fit(X, y)
        seeds = np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=4)
        singles = [
            AdamMLPClassifier(random_state=int(seed), **params).fit(X, y)
            for seed in seeds
        ]
    assert_array_equal(model.restart_seeds_, seeds)
    assert_array_equal(model.restart_losses_, [single.loss_ for single in singles])
    assert model.best_restart_ == np.argmin(model.restart_losses_)
    kept = singles[model.best_restart_]
    assert_array_equal(model._params, kept._params)
    assert model.loss_curve_ == kept.loss_curve_
    assert model.n_iter_ == kept.n_iter_


def test_restarts_in_parallel_equal_sequential(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), max_iter=20, n_init=3, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sequential = AdamMLPClassifier(**params).fit(X, y)
        parallel = AdamMLPClassifier(n_jobs=2, **params).fit(X, y)
    assert_array_equal(sequential.restart_losses_, parallel.restart_losses_)
    assert_array_equal(sequential._params, parallel._params)


def test_restarts_with_early_stopping_keep_best_validation_score(digits):
    X, y = digits
    model = AdamMLPClassifier(
        (10,), early_stopping=True, n_init=3, max_iter=30, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        scores = [
            AdamMLPClassifier(
                (10,), early_stopping=True, max_iter=30, random_state=int(seed)
            )
            .fit(X, y)
            .best_validation_score_
            for seed in model.restart_seeds_
        ]
    assert model.best_restart_ == int(np.argmax(scores))
    assert model.best_validation_score_ == max(scores)


def test_single_run_records_its_loss(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AdamMLPClassifier((5,), max_iter=5, random_state=0).fit(X, y)
    assert_array_equal(model.restart_losses_, [model.loss_])
    assert model.restart_seeds_ is None
    assert model.best_restart_ == 0


def test_a_diverged_restart_is_skipped(iris, monkeypatch):
    X, y = iris
    calls = []
    original = classifier_module.AdamMLPClassifier._run_epochs

    def first_restart_diverges(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise classifier_module._DivergenceError("Training diverged in epoch 1")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(
        classifier_module.AdamMLPClassifier, "_run_epochs", first_restart_diverges
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AdamMLPClassifier((5,), max_iter=5, n_init=3, random_state=0)
        model.fit(X, y)
    assert np.isinf(model.restart_losses_[0])
    assert np.isfinite(model.restart_losses_[1:]).all()
    assert model.best_restart_ != 0


def _recorded_adam_calls(monkeypatch):
    """Record the keyword arguments of every Adam step the estimator makes."""
    calls = []
    original = classifier_module.adam_step

    def recording_adam_step(params, gradient, state, **kwargs):
        calls.append({"gradient_norm": float(np.linalg.norm(gradient)), **kwargs})
        return original(params, gradient, state, **kwargs)

    monkeypatch.setattr(classifier_module, "adam_step", recording_adam_step)
    return calls


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ("constant", lambda epoch, seen: 0.01),
        ("invscaling", lambda epoch, seen: 0.01 / (seen + 1) ** 0.25),
        (
            "cosine",
            lambda epoch, seen: 0.5 * 0.01 * (1 + np.cos(np.pi * epoch / 6)),
        ),
    ],
)
def test_learning_rate_schedules_reach_adam(iris, monkeypatch, schedule, expected):
    X, y = iris
    calls = _recorded_adam_calls(monkeypatch)
    model = AdamMLPClassifier(
        (5,),
        learning_rate=schedule,
        learning_rate_init=0.01,
        power_t=0.25,
        batch_size=len(X),
        max_iter=6,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    rates = [call["learning_rate"] for call in calls]
    n = len(X)
    assert_allclose(rates, [expected(epoch, epoch * n) for epoch in range(6)])


def test_adaptive_learning_rate_divides_by_5_on_plateau(iris, monkeypatch):
    X, y = iris
    calls = _recorded_adam_calls(monkeypatch)
    model = AdamMLPClassifier(
        (5,),
        learning_rate="adaptive",
        learning_rate_init=0.01,
        tol=10.0,  # no epoch ever improves by 10: a plateau every 3 epochs
        n_iter_no_change=2,
        batch_size=len(X),
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    rates = np.array([call["learning_rate"] for call in calls])
    # Four epochs at the first rate (the first one sets the best loss), then
    # three per rate, until a plateau at a rate of at most 1e-6 stops training.
    expected = np.concatenate([[0.01], np.repeat(0.01 / 5.0 ** np.arange(7), 3)])
    assert_allclose(rates, expected)
    assert model.n_iter_ == len(expected)


def test_optimizer_options_reach_adam(iris, monkeypatch):
    X, y = iris
    calls = _recorded_adam_calls(monkeypatch)
    model = AdamMLPClassifier(
        (5,),
        amsgrad=True,
        weight_decay=0.01,
        epsilon_placement="torch",
        clip_norm=0.05,
        max_iter=2,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model._adam.max_second_moment is not None
    for call in calls:
        assert call["weight_decay"] == 0.01
        assert call["epsilon_placement"] == "torch"
        assert call["gradient_norm"] <= 0.05 * (1 + 1e-12)
    # The recorded norms are the norms before clipping.
    assert min(model.gradient_norm_curve_) > 0.05


def test_amsgrad_cannot_change_on_warm_start(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AdamMLPClassifier((5,), max_iter=2, warm_start=True).fit(X, y)
    before = model._params.copy()
    with pytest.raises(ValueError, match="amsgrad cannot change"):
        model.set_params(amsgrad=True).fit(X, y)
    assert_array_equal(model._params, before)


def test_gradient_norm_curve_is_the_norm_of_the_full_batch_gradient(breast_cancer):
    X, y = breast_cancer
    model = AdamMLPClassifier(
        (4,), batch_size=len(X), max_iter=1, warm_start=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        Y = model._label_binarizer.transform(y).astype(float)
        _, gradient = model._network.loss_gradient(
            model._params, X, Y, alpha=model.alpha
        )
        model.fit(X, y)
    assert len(model.gradient_norm_curve_) == 2
    assert_allclose(model.gradient_norm_curve_[-1], np.linalg.norm(gradient))


def test_inactive_units_curve_sees_dead_relu_units(iris):
    X, y = iris
    model = AdamMLPClassifier((6, 4), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        assert len(model.inactive_units_curve_) == 3
        assert all(f.shape == (2,) for f in model.inactive_units_curve_)
        # Kill every unit of the first hidden layer: hugely negative biases.
        model.intercepts_ = [np.full(6, -1e3), *model.intercepts_[1:]]
        model.fit(X, y)
    assert model.inactive_units_curve_[-1][0] == 1.0


def test_stalled_training_warns_once(breast_cancer):
    X, y = breast_cancer
    unscaled = X * 1e4  # saturates every logistic unit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AdamMLPClassifier((3,), activation="logistic", max_iter=50, random_state=0).fit(
            unscaled, y
        )
    stalled = [w for w in caught if issubclass(w.category, StalledTrainingWarning)]
    assert len(stalled) == 1


def test_healthy_training_does_not_warn_of_a_stall(breast_cancer):
    X, y = breast_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("error", StalledTrainingWarning)
        AdamMLPClassifier((10,), max_iter=300, random_state=0).fit(X, y)


def test_failed_split_after_validation_leaves_the_fitted_model(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AdamMLPClassifier((5,), max_iter=5, random_state=0).fit(X, y)
    before = model.predict_proba(X)
    # New data with other classes passes validation; its split then fails.
    model.set_params(early_stopping=True, validation_fraction=0.01)
    for n_init in (1, 3):
        with pytest.raises(ValueError, match="validation set is too small"):
            model.set_params(n_init=n_init).fit(X[:20], np.arange(20) % 2)
        assert_array_equal(model.classes_, [0, 1, 2])
        assert_array_equal(model.predict_proba(X), before)

"""The model survives a Ctrl-C during training, and pickles across versions.

Ctrl-C is simulated by raising ``KeyboardInterrupt`` (or sending ``SIGINT``
to the process) from the network's ``loss_gradient`` on its n-th call, that
is in the middle of an epoch.
"""

import pickle
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import sklearn_adam_mlp
from sklearn_adam_mlp import AdamMLPClassifier
from sklearn_adam_mlp._network import Network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

INTERRUPTED = "Training interrupted by user"


def small_model(**params):
    defaults = dict(hidden_layer_sizes=(5,), batch_size=50, random_state=0)
    return AdamMLPClassifier(**{**defaults, **params})


def assert_predicts(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    for layer in [*model.coefs_, *model.intercepts_]:
        assert np.isfinite(layer).all()


@contextmanager
def interrupted_training():
    """Expect the warning of an interrupted fit.

    A ``KeyboardInterrupt`` escaping from the estimator fails the test, rather
    than stopping the whole test session as pytest does on Ctrl-C.
    """
    try:
        with pytest.warns(UserWarning, match=INTERRUPTED):
            yield
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped from the estimator")


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(n)`` makes the n-th later batch gradient raise Ctrl-C.

    With ``signal=True`` the process sends itself ``SIGINT``, which Python's
    default handler turns into ``KeyboardInterrupt``, as a real Ctrl-C does.
    """
    loss_gradient = Network.loss_gradient

    def arm(n_calls, *, signal_=False):
        calls = {"n": 0}

        def interrupted_loss_gradient(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == n_calls:
                if signal_:
                    signal.raise_signal(signal.SIGINT)
                raise KeyboardInterrupt
            return loss_gradient(self, *args, **kwargs)

        monkeypatch.setattr(Network, "loss_gradient", interrupted_loss_gradient)
        return calls

    yield arm


def test_interrupted_partial_fit_keeps_the_model(iris, interrupt_at):
    X, y = iris
    model = small_model()
    for _ in range(2):
        model.partial_fit(X, y, classes=[0, 1, 2])
    interrupt_at(2)  # the second of three batches
    with interrupted_training():
        model.partial_fit(X, y)
    assert model.n_iter_ == 2
    assert len(model.loss_curve_) == 2
    assert_predicts(model, X)
    model.partial_fit(X, y)  # training goes on
    assert model.n_iter_ == 3


def test_interrupt_before_the_first_epoch_ends(iris, interrupt_at):
    X, y = iris
    interrupt_at(2)
    model = small_model()
    with interrupted_training():
        model.fit(X, y)
    assert model.n_iter_ == 0
    assert model.loss_curve_ == []
    assert_predicts(model, X)


def test_interrupt_with_early_stopping_restores_the_best_weights(iris, interrupt_at):
    # Three full epochs (of three batches each), then Ctrl-C in the fourth:
    # the model is the one a three-epoch fit ends with.
    X, y = iris
    params = dict(early_stopping=True, batch_size=45, n_iter_no_change=100)
    three_epochs = small_model(max_iter=3, **params).fit(X, y)
    interrupt_at(3 * 3 + 2)
    model = small_model(max_iter=100, **params)
    with interrupted_training():
        model.fit(X, y)
    assert model.validation_scores_ == three_epochs.validation_scores_
    assert_array_equal(model.predict_proba(X), three_epochs.predict_proba(X))
    assert_predicts(model, X)


def test_real_sigint_during_fit(iris, interrupt_at):
    X, y = iris
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        interrupt_at(5, signal_=True)
        model = small_model()
        with interrupted_training():
            model.fit(X, y)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert model.n_iter_ == 1
    assert_predicts(model, X)


def test_fit_after_an_interrupted_fit_starts_anew(iris, interrupt_at):
    X, y = iris
    calls = interrupt_at(4)
    model = small_model(max_iter=5)
    with interrupted_training():
        model.fit(X, y)
    assert calls["n"] == 4
    model.fit(X, y)
    fresh = small_model(max_iter=5).fit(X, y)
    assert model.n_iter_ == fresh.n_iter_ == 5
    assert_array_equal(model.predict_proba(X), fresh.predict_proba(X))


def test_interrupted_restarts_keep_a_model(iris, interrupt_at):
    # Ctrl-C during the second of three restarts.
    X, y = iris
    interrupt_at(3 * 5 + 2)
    model = small_model(max_iter=5, n_init=3)
    with interrupted_training():
        model.fit(X, y)
    assert_predicts(model, X)


# Pickles across versions

VERSION_KEY = "_sklearn_adam_mlp_version"
FORMAT_KEY = "_sklearn_adam_mlp_state_format"


@pytest.fixture(scope="module")
def fitted(iris):
    return small_model(max_iter=5).fit(*iris)


def pickle_with_state(model, monkeypatch, **changes):
    """Pickle ``model`` as if its ``__getstate__`` had returned ``changes`` too."""
    getstate = AdamMLPClassifier.__getstate__
    with monkeypatch.context() as patch:
        patch.setattr(
            AdamMLPClassifier,
            "__getstate__",
            lambda self: {**getstate(self), **changes},
        )
        return pickle.dumps(model)


def test_pickle_records_the_package_version(iris, fitted):
    X, _ = iris
    assert fitted.__getstate__()[VERSION_KEY] == sklearn_adam_mlp.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_pickling_leaves_the_model_unchanged(iris):
    # __getstate__ must return a new dict: on Python >= 3.11,
    # object.__getstate__ returns the instance's own __dict__.
    model = small_model(max_iter=2).fit(*iris)
    attributes = set(vars(model))
    pickle.dumps(model)
    assert set(vars(model)) == attributes


def test_unfitted_model_pickles_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        restored = pickle.loads(pickle.dumps(small_model(alpha=0.5)))
    assert restored.get_params() == small_model(alpha=0.5).get_params()
    assert not hasattr(restored, "classes_")


def test_pickle_from_another_version_warns_naming_both(iris, fitted, monkeypatch):
    X, _ = iris
    data = pickle_with_state(fitted, monkeypatch, **{VERSION_KEY: "0.0.1"})
    current = sklearn_adam_mlp.__version__
    with pytest.warns(UserWarning) as record:
        restored = pickle.loads(data)
    messages = [str(w.message) for w in record]
    assert any("0.0.1" in message and current in message for message in messages)
    assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_pickle_with_an_incompatible_state_format_is_refused(fitted, monkeypatch):
    data = pickle_with_state(
        fitted, monkeypatch, **{VERSION_KEY: "9.9.9", FORMAT_KEY: "from the future"}
    )
    with pytest.raises(ValueError, match=r"9\.9\.9") as excinfo:
        pickle.loads(data)
    excinfo.match(sklearn_adam_mlp.__version__)
    excinfo.match("(?i)fit")

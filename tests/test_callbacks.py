"""AdamMLPClassifier under scikit-learn's callback API (scikit-learn >= 1.9)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_adam_mlp import AdamMLPClassifier

callback = pytest.importorskip(
    "sklearn.callback", reason="scikit-learn < 1.9 has no callback API"
)


class Recorder:
    """Record the fit tasks an estimator reports; ask to stop after some."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.begun, self.ended, self.fitted = [], [], []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self.begun.append(context.task_name)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.ended.append(context.task_name)
        if fitted_estimator is not None:
            self.fitted.append(fitted_estimator)
        epochs = self.ended.count("epoch")
        return self.stop_after is not None and epochs >= self.stop_after


def test_one_task_per_epoch(iris):
    X, y = iris
    recorder = Recorder()
    model = AdamMLPClassifier((5,), max_iter=7, random_state=0)
    model.set_callbacks(recorder)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert recorder.begun.count("epoch") == recorder.ended.count("epoch") == 7
    assert recorder.begun[0] == recorder.ended[-1] == "fit"


def test_fitted_estimator_is_a_snapshot_of_each_epoch(iris):
    X, y = iris
    recorder = Recorder()
    model = AdamMLPClassifier((5,), max_iter=3, random_state=0)
    model.set_callbacks(recorder)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    snapshots = [m.predict_proba(X) for m in recorder.fitted]
    assert len(snapshots) == 3
    assert not np.array_equal(snapshots[0], snapshots[1])
    assert_array_equal(snapshots[-1], model.predict_proba(X))


def test_a_callback_can_stop_training(iris):
    X, y = iris
    model = AdamMLPClassifier((5,), max_iter=50, random_state=0)
    model.set_callbacks(Recorder(stop_after=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    assert model.n_iter_ == 4


def test_callbacks_do_not_change_the_model(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = AdamMLPClassifier((5,), max_iter=5, random_state=0).fit(X, y)
        model = AdamMLPClassifier((5,), max_iter=5, random_state=0)
        model.set_callbacks(Recorder()).fit(X, y)
    assert_array_equal(plain._params, model._params)


def test_restarts_are_tasks_holding_epochs(iris):
    X, y = iris
    recorder = Recorder()
    model = AdamMLPClassifier((5,), max_iter=4, n_init=3, random_state=0)
    model.set_callbacks(recorder)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert recorder.ended.count("restart") == 3
    assert recorder.ended.count("epoch") == 12


def test_progress_bar_inside_grid_search(iris, capsys):
    pytest.importorskip("rich")
    X, y = iris
    search = GridSearchCV(
        AdamMLPClassifier((5,), max_iter=5, random_state=0),
        {"alpha": [1e-4, 1e-2]},
        cv=2,
    )
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert "AdamMLPClassifier" in capsys.readouterr().out

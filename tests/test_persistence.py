import os
import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io
from numpy.testing import assert_array_equal
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_adam_mlp import AdamMLPClassifier
from sklearn_adam_mlp._cli import make_model, read_csv
from sklearn_adam_mlp._persistence import (
    UnsafeFormatWarning,
    UntrustedTypesError,
    load_model,
    model_format,
    save_model,
    trusted_types,
)


class WritesAFileWhenLoaded:
    """Stands for a class outside the allow-list whose loading runs code."""

    def __init__(self, marker):
        self.marker = marker

    def __setstate__(self, state):
        with open(state["marker"], "w") as marker:
            marker.write("code ran")
        self.__dict__.update(state)


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A CSV as people have them: missing values, text, booleans, text target."""
    rng = np.random.default_rng(0)
    n = 90
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "count": rng.integers(0, 4, n).astype(float),
            "colour": rng.choice(["red", "green", "blue"], n),
            "flag": rng.choice([True, False], n),
        }
    )
    frame["label"] = np.where(
        frame["size"] + (frame["colour"] == "red") > 0.3, "a", "b"
    )
    frame.loc[::7, "size"] = np.nan
    frame.loc[::5, "colour"] = None
    path = tmp_path_factory.mktemp("data") / "table.csv"
    frame.to_csv(path, index=False)
    frame = read_csv(str(path))
    return frame.drop(columns="label"), frame["label"].to_numpy()


def _classifier(**params):
    return AdamMLPClassifier((5,), max_iter=30, random_state=0, **params)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"early_stopping": True, "n_init": 2},
        {"activation": "tanh", "batch_size": 16, "learning_rate": "adaptive"},
        {"amsgrad": True, "weight_decay": 0.01, "learning_rate": "cosine"},
    ],
)
def test_classifier_round_trips_through_skops(params, iris, tmp_path):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = _fit(_classifier(**params), X, labels)
    attributes = set(vars(model))
    path = tmp_path / "model.skops"
    save_model(model, path)
    assert set(vars(model)) == attributes  # saving leaves the model as it was
    loaded = load_model(path)
    assert type(loaded) is AdamMLPClassifier
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert_array_equal(loaded.classes_, model.classes_)
    # The private state (Adam's moments and step, the shuffling generator)
    # came back too: training goes on identically.
    for estimator in (model, loaded):
        _fit(estimator.set_params(warm_start=True, max_iter=3), X, labels)
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_command_line_pipeline_round_trips_through_skops(table, tmp_path):
    X, y = table
    model = _fit(make_model(X, _classifier()), X, y)
    path = tmp_path / "pipeline.skops"
    save_model(model, path)
    # Every type skops does not trust by default is on the allow-list.
    assert set(skops.io.get_untrusted_types(file=path)) <= set(trusted_types())
    loaded = load_model(path)
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("suffix", [".joblib", ".pkl"])
def test_pickles_work_with_a_warning(suffix, iris, tmp_path):
    X, y = iris
    model = _fit(_classifier(), X, y)
    path = tmp_path / f"model{suffix}"
    with pytest.warns(UnsafeFormatWarning, match="runs code when it is loaded"):
        save_model(model, path)
    with pytest.warns(UnsafeFormatWarning, match="runs code when it is loaded"):
        loaded = load_model(path)
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_format_comes_from_the_extension():
    assert model_format("model.skops") == "skops"
    assert model_format("dir.v2/MODEL.JOBLIB") == "pickle"
    assert model_format("model.pkl") == "pickle"
    with pytest.raises(ValueError, match="cannot tell the format of 'model.txt'"):
        model_format("model.txt")


def test_missing_or_invalid_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_model(tmp_path / "absent.skops")
    not_a_zip = tmp_path / "text.skops"
    not_a_zip.write_text("not a model")
    with pytest.raises(ValueError, match="is not a valid .skops file"):
        load_model(not_a_zip)


def test_file_calling_os_system_is_refused(tmp_path):
    # A pipeline that would run a shell command on every predict.
    path = tmp_path / "crafted.skops"
    skops.io.dump(make_pipeline(FunctionTransformer(os.system)), path)
    with pytest.raises(UntrustedTypesError, match="not trusted") as error:
        load_model(path)
    assert error.value.untrusted_types == [f"{os.system.__module__}.system"]
    assert f"{os.system.__module__}.system" in str(error.value)


def test_class_outside_the_allow_list_is_never_built(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "crafted.skops"
    skops.io.dump({"payload": WritesAFileWhenLoaded(str(marker))}, path)
    name = f"{__name__}.WritesAFileWhenLoaded"
    with pytest.raises(UntrustedTypesError, match=name):
        load_model(path)
    assert not marker.exists()
    # Loading it anyway runs its code: the check above is what stopped it.
    skops.io.load(path, trusted=[name])
    assert marker.read_text() == "code ran"

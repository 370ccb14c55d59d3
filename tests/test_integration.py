"""AdamMLPClassifier inside the scikit-learn ecosystem.

Pipelines and model selection, pickling, pandas inputs and targets, metadata
routing, sparse input and meta-estimators: the places where a drop-in
estimator is used rather than the places where its math is checked.
"""

import copy
import inspect
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, load_iris
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    cross_val_score,
    cross_validate,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MaxAbsScaler, OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from sklearn_adam_mlp import AdamMLPClassifier

# Short fits that stop at max_iter are the point of most tests here; the
# warning is tested with the estimator itself, not with its integrations.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

IRIS_NAMES = np.array(["setosa", "versicolor", "virginica"])


def small_model(**params):
    """A model that fits the (standardised) iris data in a fraction of a second."""
    defaults = dict(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    )
    return AdamMLPClassifier(**{**defaults, **params})


@pytest.fixture(scope="module")
def iris_frame():
    X, y = load_iris(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    return X, y


def assert_same_fitted_model(model, other, X):
    assert_array_equal(model.predict_proba(X), other.predict_proba(X))
    for a, b in zip(model.coefs_, other.coefs_, strict=True):
        assert_array_equal(a, b)
    for a, b in zip(model.intercepts_, other.intercepts_, strict=True):
        assert_array_equal(a, b)


def assert_layers_view_one_vector(model):
    layers = [*model.coefs_, *model.intercepts_]
    flat = layers[0].base
    assert flat is not None and flat.ndim == 1
    assert flat.size == sum(layer.size for layer in layers)
    for layer in layers:
        assert layer.base is flat


# Pipelines and model selection


def test_is_classifier():
    assert is_classifier(AdamMLPClassifier())
    assert is_classifier(make_pipeline(StandardScaler(), AdamMLPClassifier()))


def test_grid_search_pipeline_digits():
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", AdamMLPClassifier(learning_rate_init=0.01, random_state=0)),
        ]
    )
    search = GridSearchCV(pipe, {"mlp__alpha": [1e-4, 1e-1]}, cv=3, n_jobs=2)
    search.fit(X, y)

    assert search.best_score_ >= 0.95
    assert search.best_params_["mlp__alpha"] in (1e-4, 1e-1)
    # The refitted best model is the pipeline with the best alpha, refitted.
    best = search.best_estimator_
    assert best.named_steps["mlp"].alpha == search.best_params_["mlp__alpha"]
    assert best.score(X, y) >= 0.99


def test_grid_search_matches_scikit_learn_mlp():
    # Same parameters, same random_state: the same cross-validated scores as
    # MLPClassifier(solver='adam'), so a search over either picks the same.
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    grid = {"hidden_layer_sizes": [(16,), [8, 8]], "alpha": [1e-4, 1e-1]}
    fixed = dict(learning_rate_init=0.01, max_iter=30, random_state=0)
    ours = GridSearchCV(AdamMLPClassifier(**fixed), grid, cv=3).fit(X / 16, y)
    theirs = GridSearchCV(MLPClassifier(solver="adam", **fixed), grid, cv=3).fit(
        X / 16, y
    )
    assert_allclose(
        ours.cv_results_["mean_test_score"],
        theirs.cv_results_["mean_test_score"],
        rtol=0,
        atol=1e-12,
    )


def test_cross_val_score_reproducible(iris):
    X, y = iris
    first = cross_val_score(small_model(), X, y, cv=5)
    second = cross_val_score(small_model(), X, y, cv=5)
    assert first.shape == (5,)
    assert_array_equal(first, second)
    assert first.mean() >= 0.9


def test_cross_validate_reproducible(iris):
    X, y = iris

    def run(random_state):
        return cross_validate(
            small_model(max_iter=20, random_state=random_state),
            X,
            y,
            cv=3,
            scoring=["accuracy", "neg_log_loss"],
            return_estimator=True,
        )

    first, second, other_seed = run(0), run(0), run(1)
    for key in ("test_accuracy", "test_neg_log_loss"):
        assert_array_equal(first[key], second[key])
    for a, b in zip(first["estimator"], second["estimator"], strict=True):
        assert_same_fitted_model(a, b, X)
    # The seed does something: another one gives other weights.
    assert not np.array_equal(
        first["estimator"][0].coefs_[0], other_seed["estimator"][0].coefs_[0]
    )
    assert not np.array_equal(
        first["test_neg_log_loss"], other_seed["test_neg_log_loss"]
    )


def make_mixed_frame(n_samples, seed):
    rng = np.random.RandomState(seed)
    color = rng.choice(["red", "green", "blue"], size=n_samples)
    size = rng.choice(["S", "M", "L"], size=n_samples)
    X = pd.DataFrame(
        {
            "height": rng.normal(170, 10, size=n_samples),
            "weight": rng.normal(70, 15, size=n_samples),
            "count": rng.randint(0, 5, size=n_samples),
            "color": color,
            "size": pd.Categorical(size, categories=["S", "M", "L"]),
        }
    )
    # The class depends on a numeric column through the categorical one.
    centred = (X["height"] - 170) / 10
    positive = np.where(color == "red", centred > 0, centred < 0)
    y = np.where(positive, "yes", "no")
    return X, y


@pytest.mark.parametrize("transform_output", ["default", "pandas"])
def test_column_transformer_dataframe(transform_output):
    X, y = make_mixed_frame(300, seed=0)
    X_new, y_new = make_mixed_frame(100, seed=1)
    X_new.loc[0, "color"] = "purple"  # unseen category, ignored by the encoder
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), ["height", "weight", "count"]),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ["color", "size"],
            ),
        ]
    ).set_output(transform=transform_output)
    model = make_pipeline(preprocess, small_model(max_iter=200)).fit(X, y)

    mlp = model[-1]
    assert mlp.n_features_in_ == 3 + 3 + 3
    if transform_output == "pandas":
        assert_array_equal(mlp.feature_names_in_, preprocess.get_feature_names_out())
    else:
        assert not hasattr(mlp, "feature_names_in_")
    assert_array_equal(mlp.classes_, ["no", "yes"])

    predicted = model.predict(X_new)
    assert predicted.shape == (100,)
    assert set(predicted) <= {"no", "yes"}
    proba = model.predict_proba(X_new)
    assert proba.shape == (100, 2)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert_array_equal(predicted, mlp.classes_[proba.argmax(axis=1)])
    assert model.score(X, y) >= 0.95
    assert model.score(X_new, y_new) >= 0.85


# Cloning, pickling and copying


def test_clone_is_unfitted_with_same_params(iris):
    X, y = iris
    model = small_model(hidden_layer_sizes=[7, 5], alpha=0.3, max_iter=10).fit(X, y)
    cloned = clone(model)
    assert cloned is not model
    assert cloned.get_params() == model.get_params()
    assert not hasattr(cloned, "coefs_")
    assert not hasattr(cloned, "classes_")
    with pytest.raises(NotFittedError):
        check_is_fitted(cloned)
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    # Same params and seed: fitting the clone retraces the original.
    assert_same_fitted_model(cloned.fit(X, y), model, X)


@pytest.mark.parametrize(
    "roundtrip",
    [lambda model: pickle.loads(pickle.dumps(model)), copy.deepcopy],
    ids=["pickle", "deepcopy"],
)
def test_roundtrip_of_fitted_model(iris, roundtrip):
    X, y = iris
    model = small_model(hidden_layer_sizes=(8, 6), max_iter=30).fit(X, y)
    restored = roundtrip(model)

    assert_same_fitted_model(restored, model, X)
    assert_array_equal(restored.predict(X), model.predict(X))
    assert_array_equal(restored.classes_, model.classes_)
    assert restored.loss_curve_ == model.loss_curve_
    assert restored.n_iter_ == model.n_iter_
    assert restored.t_ == model.t_

    # The restored layers are live views into one flat vector of their own.
    assert_layers_view_one_vector(restored)
    assert not np.shares_memory(restored.coefs_[0], model.coefs_[0])
    before = restored.predict_proba(X)
    restored.coefs_[0][0, 0] += 1.0
    after_coef = restored.predict_proba(X)
    assert not np.array_equal(after_coef, before)
    restored.intercepts_[-1][0] += 1.0
    assert not np.array_equal(restored.predict_proba(X), after_coef)
    # ... and the original did not move.
    assert_array_equal(model.predict_proba(X), roundtrip(model).predict_proba(X))


@pytest.mark.parametrize("early_stopping", [False, True])
def test_warm_start_continues_after_unpickling(iris, early_stopping):
    X, y = iris
    params = dict(
        max_iter=5,
        n_iter_no_change=100,
        warm_start=True,
        batch_size=32,
        early_stopping=early_stopping,
    )
    # Five epochs, a pickle round trip, five more: the weights, Adam's moments
    # and the shuffling stream all survive, so the copy goes on as the
    # original does.
    in_memory = small_model(**params).fit(X, y)
    resumed = pickle.loads(pickle.dumps(in_memory))
    in_memory.fit(X, y)
    resumed.fit(X, y)
    assert resumed.n_iter_ == 10
    assert len(resumed.loss_curve_) == 10
    assert resumed.loss_curve_ == in_memory.loss_curve_
    assert resumed.validation_scores_ == in_memory.validation_scores_
    assert_same_fitted_model(resumed, in_memory, X)
    assert_layers_view_one_vector(resumed)


def test_warm_start_after_unpickling_equals_one_long_fit(iris):
    # Without shuffling, 5 + 5 warm-started epochs are exactly 10 epochs: the
    # second fit continues Adam (moments and step count), it does not restart.
    X, y = iris
    params = dict(n_iter_no_change=100, batch_size=32, shuffle=False)
    straight = small_model(max_iter=10, **params).fit(X, y)
    resumed = small_model(max_iter=5, warm_start=True, **params).fit(X, y)
    resumed = pickle.loads(pickle.dumps(resumed)).fit(X, y)
    assert resumed.n_iter_ == 10
    assert resumed.loss_curve_ == straight.loss_curve_
    assert_same_fitted_model(resumed, straight, X)


def test_partial_fit_continues_after_unpickling(iris):
    X, y = iris
    classes = np.unique(y)
    straight = small_model()
    for _ in range(3):
        straight.partial_fit(X, y, classes=classes)

    resumed = small_model().partial_fit(X, y, classes=classes)
    resumed = pickle.loads(pickle.dumps(resumed))
    before = resumed.predict_proba(X)
    resumed.partial_fit(X, y)
    assert not np.array_equal(resumed.predict_proba(X), before)
    resumed = copy.deepcopy(resumed)
    resumed.partial_fit(X, y)

    assert resumed.n_iter_ == 3
    assert resumed.t_ == 3 * X.shape[0]
    assert_same_fitted_model(resumed, straight, X)


# Labels and targets


@pytest.mark.parametrize("dtype", [str, object])
def test_string_labels_multiclass(iris, dtype):
    X, y_int = iris
    animals = np.array(["dog", "cat", "bird"], dtype=dtype)
    y = animals[y_int]
    model = small_model().fit(X, y)

    assert_array_equal(model.classes_, ["bird", "cat", "dog"])
    predicted = model.predict(X)
    assert set(predicted) <= {"bird", "cat", "dog"}
    assert model.score(X, y) >= 0.95
    proba = model.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])

    # Relabelling the classes changes nothing but the names: the columns
    # of predict_proba follow the sorted classes.
    y_codes = np.searchsorted(model.classes_, y)
    by_code = small_model().fit(X, y_codes)
    assert_array_equal(by_code.predict_proba(X), proba)
    assert_array_equal(predicted, model.classes_[by_code.predict(X)])


def test_string_labels_partial_fit(iris):
    X, y_int = iris
    y = np.array(["dog", "cat", "bird"])[y_int]
    model = small_model()
    for batch in np.array_split(np.random.RandomState(0).permutation(150), 3):
        model.partial_fit(X[batch], y[batch], classes=["dog", "cat", "bird"])
    assert_array_equal(model.classes_, ["bird", "cat", "dog"])
    assert set(model.predict(X)) <= {"bird", "cat", "dog"}
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X, y, classes=["dog", "cat", "cow"])
    with pytest.raises(ValueError, match="cow"):
        model.partial_fit(X[:2], ["cow", "dog"])


def test_string_labels_binary(iris):
    X, y_int = iris
    y = np.where(y_int == 2, "yes", "no")
    model = small_model().fit(X, y)

    assert_array_equal(model.classes_, ["no", "yes"])
    assert model.n_outputs_ == 1
    predicted = model.predict(X)
    assert set(predicted) == {"no", "yes"}
    assert model.score(X, y) >= 0.95
    proba = model.predict_proba(X)
    assert proba.shape == (150, 2)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    # Column 1 is the probability of classes_[1], 'yes'.
    assert proba[y == "yes", 1].mean() > 0.8
    assert proba[y == "no", 1].mean() < 0.2


@pytest.mark.parametrize(
    "make_target, expected_classes",
    [
        (lambda y: pd.Series(y), [0, 1, 2]),
        (lambda y: pd.Series(y, dtype="Int64"), [0.0, 1.0, 2.0]),
        (lambda y: pd.Series(y.astype(float), dtype="Float64"), [0.0, 1.0, 2.0]),
        (lambda y: pd.Series(IRIS_NAMES[y]), IRIS_NAMES),
        (lambda y: pd.Series(IRIS_NAMES[y], dtype="string"), IRIS_NAMES),
        (lambda y: pd.Series(pd.Categorical(IRIS_NAMES[y])), IRIS_NAMES),
        (lambda y: pd.Series(pd.Categorical(y)), [0, 1, 2]),
    ],
    ids=["int64", "Int64", "Float64", "str", "string", "category-str", "category-int"],
)
def test_pandas_targets(iris_frame, make_target, expected_classes):
    X, y_int = iris_frame
    y_int = y_int.to_numpy()
    y = make_target(y_int)
    model = small_model().fit(X, y)

    assert_array_equal(model.classes_, expected_classes)
    predicted = model.predict(X)
    assert set(predicted) <= set(model.classes_)
    assert model.score(X, y) >= 0.95
    # The target's container changes nothing in the fit.
    reference = small_model().fit(X, y_int)
    assert_array_equal(model.predict_proba(X), reference.predict_proba(X))
    assert_array_equal(model.predict(X), model.classes_[reference.predict(X)])


@pytest.mark.parametrize("dtype", ["boolean", "bool"])
def test_pandas_boolean_target(iris_frame, dtype):
    X, y_int = iris_frame
    y = pd.Series(y_int.to_numpy() == 0, dtype=dtype)
    model = small_model().fit(X, y)
    assert model.n_outputs_ == 1
    assert len(model.classes_) == 2
    assert model.score(X, y) >= 0.99
    # As scikit-learn's MLP labels the same target.
    reference = MLPClassifier(max_iter=1).fit(X, y)
    assert_array_equal(model.classes_, reference.classes_)
    assert model.classes_.dtype == reference.classes_.dtype


# Feature names


def test_dataframe_sets_feature_names(iris_frame):
    X, y = iris_frame
    model = small_model(max_iter=10).fit(X, y)
    assert model.n_features_in_ == 4
    assert_array_equal(model.feature_names_in_, X.columns)
    assert model.feature_names_in_.dtype == object
    # A DataFrame with the fitted columns predicts silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = model.predict_proba(X.copy())
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_numpy_fit_has_no_feature_names(iris):
    X, y = iris
    model = small_model(max_iter=10).fit(X, y)
    assert model.n_features_in_ == 4
    assert not hasattr(model, "feature_names_in_")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="X has feature names"):
        model.predict(frame)
    # Column labels that are not all strings are not feature names.
    model.fit(pd.DataFrame(X), y)
    assert model.n_features_in_ == 4
    assert not hasattr(model, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(X)


def test_feature_name_mismatch_raises(iris_frame):
    X, y = iris_frame
    model = small_model(max_iter=10).fit(X, y)
    reordered = X[X.columns[::-1]]
    with pytest.raises(ValueError, match="feature names"):
        model.predict(reordered)
    with pytest.raises(ValueError, match="feature names"):
        model.predict_proba(reordered)
    renamed = X.set_axis(["a", "b", "c", "d"], axis=1)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(renamed)
    with pytest.raises(ValueError, match="feature names"):
        model.partial_fit(renamed, y)
    # A failed partial_fit leaves the model as it was.
    assert_array_equal(model.feature_names_in_, X.columns)
    assert model.n_iter_ == 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no feature names
        with pytest.raises(ValueError, match="4 features"):
            model.predict(X.iloc[:, :3].to_numpy())


def test_numpy_after_dataframe_warns(iris_frame):
    X, y = iris_frame
    model = small_model(max_iter=10).fit(X, y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        predicted = model.predict(X.to_numpy())
    assert_array_equal(predicted, model.predict(X))


# Metadata routing


def weighted_problem(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    sample_weight = rng.uniform(0.0, 3.0, size=y.shape[0])
    sample_weight[y == 1] *= 5  # far from uniform, so it must show
    return X, y, sample_weight


def test_pipeline_routes_sample_weight(iris):
    X, y, sample_weight = weighted_problem(iris)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            small_model(max_iter=30).set_fit_request(sample_weight=True),
        )
        pipe.fit(X, y, sample_weight=sample_weight)

        scaled = StandardScaler().fit_transform(X)
        direct = small_model(max_iter=30).fit(scaled, y, sample_weight=sample_weight)
        unweighted = small_model(max_iter=30).fit(scaled, y)

        assert_array_equal(pipe.predict_proba(X), direct.predict_proba(scaled))
        assert not np.allclose(
            pipe.predict_proba(X), unweighted.predict_proba(scaled), atol=1e-3
        )


def test_unrequested_sample_weight_is_an_error(iris):
    X, y, sample_weight = weighted_problem(iris)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            small_model(max_iter=5),
        )
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            pipe.fit(X, y, sample_weight=sample_weight)


def test_cross_validate_routes_sample_weight(iris):
    X, y, sample_weight = weighted_problem(iris)
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    with config_context(enable_metadata_routing=True):
        model = (
            small_model(max_iter=30)
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=False)
        )
        weighted = cross_validate(
            model,
            X,
            y,
            cv=cv,
            params={"sample_weight": sample_weight},
            return_estimator=True,
        )
        unweighted = cross_validate(model, X, y, cv=cv, return_estimator=True)

    splits = list(cv.split(X, y))
    for fitted, fitted_unweighted, (train, _) in zip(
        weighted["estimator"], unweighted["estimator"], splits, strict=True
    ):
        direct = small_model(max_iter=30).fit(
            X[train], y[train], sample_weight=sample_weight[train]
        )
        assert_same_fitted_model(fitted, direct, X)
        assert not np.allclose(
            fitted.coefs_[0], fitted_unweighted.coefs_[0], rtol=0, atol=1e-3
        )


# Parameters


NON_DEFAULT_PARAMS = dict(
    hidden_layer_sizes=(7, 3),
    activation="tanh",
    alpha=0.01,
    batch_size=32,
    learning_rate_init=0.005,
    max_iter=7,
    shuffle=False,
    random_state=3,
    tol=1e-3,
    verbose=2,
    warm_start=True,
    early_stopping=True,
    validation_fraction=0.2,
    beta_1=0.8,
    beta_2=0.99,
    epsilon=1e-7,
    n_iter_no_change=np.inf,
    class_weight={0: 1.0, 1: 2.0, 2: 0.5},
    scoring="loss",
    learning_rate="adaptive",
    power_t=0.25,
    amsgrad=True,
    weight_decay=0.01,
    clip_norm=1.0,
    epsilon_placement="torch",
    n_init=2,
    n_jobs=2,
)


def test_non_default_params_cover_the_constructor():
    signature = inspect.signature(AdamMLPClassifier.__init__)
    names = set(signature.parameters) - {"self"}
    assert names == set(NON_DEFAULT_PARAMS)
    assert names == set(AdamMLPClassifier().get_params())
    for name, value in NON_DEFAULT_PARAMS.items():
        default = signature.parameters[name].default
        assert not (value is default or value == default), name
    # The same parameter names as scikit-learn's MLP, minus the solver ones.
    sklearn_only = {
        "solver",
        "learning_rate",
        "power_t",
        "momentum",
        "nesterovs_momentum",
        "max_fun",
    }
    shared = set(MLPClassifier().get_params()) - sklearn_only
    assert shared <= names


def test_set_params_get_params_roundtrip(iris):
    X, y = iris
    model = AdamMLPClassifier()
    assert model.set_params(**NON_DEFAULT_PARAMS) is model
    assert model.get_params() == NON_DEFAULT_PARAMS
    assert AdamMLPClassifier(**NON_DEFAULT_PARAMS).get_params() == NON_DEFAULT_PARAMS
    assert clone(model).get_params() == NON_DEFAULT_PARAMS
    for name, value in NON_DEFAULT_PARAMS.items():
        assert getattr(model, name) is value

    # The parameters set are the ones used.
    model.fit(X, y)
    assert [c.shape for c in model.coefs_] == [(4, 7), (7, 3), (3, 3)]
    assert model.n_iter_ == 7
    assert len(model.validation_scores_) == 7
    assert all(score <= 0 for score in model.validation_scores_)  # -log-loss

    # One at a time, and back to the defaults.
    defaults = AdamMLPClassifier().get_params()
    for name, value in defaults.items():
        model.set_params(**{name: value})
        assert model.get_params()[name] is value
    assert model.get_params() == defaults


def test_set_params_through_pipeline():
    pipe = make_pipeline(StandardScaler(), AdamMLPClassifier())
    pipe.set_params(adammlpclassifier__alpha=0.5, adammlpclassifier__max_iter=3)
    params = pipe.get_params()
    assert params["adammlpclassifier__alpha"] == 0.5
    assert params["adammlpclassifier__max_iter"] == 3
    assert pipe[-1].alpha == 0.5
    with pytest.raises(ValueError, match="Invalid parameter"):
        pipe.set_params(adammlpclassifier__solver="sgd")


@pytest.mark.parametrize(
    "hidden_layer_sizes, shapes",
    [
        (5, [(4, 5), (5, 3)]),
        (np.int64(5), [(4, 5), (5, 3)]),
        ((5,), [(4, 5), (5, 3)]),
        ([5], [(4, 5), (5, 3)]),
        ((6, 4), [(4, 6), (6, 4), (4, 3)]),
        ([6, 4], [(4, 6), (6, 4), (4, 3)]),
        (np.array([6, 4]), [(4, 6), (6, 4), (4, 3)]),
    ],
    ids=["int", "numpy-int", "tuple1", "list1", "tuple2", "list2", "array2"],
)
def test_hidden_layer_sizes_forms(iris, hidden_layer_sizes, shapes):
    X, y = iris
    model = small_model(hidden_layer_sizes=hidden_layer_sizes, max_iter=20).fit(X, y)
    assert [c.shape for c in model.coefs_] == shapes
    assert [b.shape for b in model.intercepts_] == [(s[1],) for s in shapes]
    assert model.n_layers_ == len(shapes) + 1
    assert model.hidden_layer_sizes is hidden_layer_sizes
    # Every spelling of the same architecture trains the same network.
    canonical = small_model(
        hidden_layer_sizes=tuple(s[1] for s in shapes[:-1]), max_iter=20
    ).fit(X, y)
    assert_same_fitted_model(model, canonical, X)
    # And clone keeps the parameter as given (a copy of it).
    cloned = clone(model).hidden_layer_sizes
    assert type(cloned) is type(hidden_layer_sizes)
    assert_array_equal(cloned, hidden_layer_sizes)


# Sparse input


@pytest.mark.parametrize("sparse_format", [sp.csr_matrix, sp.csc_matrix])
def test_sparse_input_in_pipeline(sparse_format):
    X, y = load_digits(return_X_y=True)
    X_train, y_train, X_test, y_test = X[:1200], y[:1200], X[1200:], y[1200:]
    assert (X == 0).mean() > 0.4

    def pipeline():
        return make_pipeline(
            MaxAbsScaler(), small_model(hidden_layer_sizes=(32,), max_iter=30)
        )

    sparse_model = pipeline().fit(sparse_format(X_train), y_train)
    assert sp.issparse(sparse_model[0].transform(sparse_format(X_test)))
    proba = sparse_model.predict_proba(sparse_format(X_test))
    assert proba.shape == (X_test.shape[0], 10)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert sparse_model.score(sparse_format(X_test), y_test) >= 0.9

    # Sparse and dense are the same data: the same model, up to rounding.
    dense_model = pipeline().fit(X_train, y_train)
    assert_allclose(proba, dense_model.predict_proba(X_test), rtol=1e-6, atol=1e-9)
    assert_allclose(
        sparse_model[-1].coefs_[0], dense_model[-1].coefs_[0], rtol=1e-6, atol=1e-9
    )
    assert_allclose(sparse_model.predict_proba(X_test), proba, rtol=1e-12, atol=1e-15)


# Meta-estimators


def test_calibrated_classifier_cv(iris):
    X, y = iris
    calibrated = CalibratedClassifierCV(small_model(), cv=3)
    calibrated.fit(X, y)
    assert len(calibrated.calibrated_classifiers_) == 3
    for calibrated_classifier in calibrated.calibrated_classifiers_:
        assert isinstance(calibrated_classifier.estimator, AdamMLPClassifier)
        check_is_fitted(calibrated_classifier.estimator)
    assert_array_equal(calibrated.classes_, [0, 1, 2])
    proba = calibrated.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert calibrated.score(X, y) >= 0.9


def test_calibrated_classifier_cv_prefit_binary(iris):
    X, y = iris
    y = np.where(y == 2, "yes", "no")
    model = small_model(max_iter=50).fit(X[::2], y[::2])
    before = model.predict_proba(X)
    calibrated = CalibratedClassifierCV(FrozenEstimator(model))
    calibrated.fit(X[1::2], y[1::2])
    assert_array_equal(calibrated.classes_, ["no", "yes"])
    proba = calibrated.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert calibrated.score(X, y) >= 0.9
    # The frozen model was calibrated, not refitted.
    assert_array_equal(model.predict_proba(X), before)
    assert not np.array_equal(proba, before)


def test_soft_voting_classifier(iris):
    X, y_int = iris
    y = IRIS_NAMES[y_int]
    voting = VotingClassifier(
        [
            ("mlp", small_model(max_iter=50)),
            ("naive_bayes", GaussianNB()),
            ("mlp_wide", small_model(hidden_layer_sizes=(32,), random_state=1)),
        ],
        voting="soft",
        weights=[2, 1, 1],
    )
    voting.fit(X, y)
    assert_array_equal(voting.classes_, IRIS_NAMES)
    proba = voting.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    expected = np.average(
        [est.predict_proba(X) for est in voting.estimators_], axis=0, weights=[2, 1, 1]
    )
    assert_allclose(proba, expected, rtol=1e-12)
    assert set(voting.predict(X)) <= set(IRIS_NAMES)
    assert voting.score(X, y) >= 0.95

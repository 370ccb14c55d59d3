import sys
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import sklearn_adam_mlp
from sklearn_adam_mlp import (
    AdamMLPClassifier,
    StalledTrainingWarning,
    check_gradients,
    plot_restart_study,
    restart_study,
)
from sklearn_adam_mlp._diagnostics import (
    _group_minima,
    inactive_unit_fractions,
    stall_message,
)

matplotlib.use("Agg")


def _standardised(load):
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# inactive_unit_fractions


def _reference_inactive(A, activation):
    """Per unit, by the definition: inactive on every row."""
    if activation == "logistic":
        per_row = (A <= 0.01) | (A >= 0.99)
    elif activation == "tanh":
        per_row = np.abs(A) >= 0.99
    elif activation == "relu":
        per_row = A == 0
    else:
        per_row = np.zeros_like(A, dtype=bool)
    return per_row.all(axis=0).mean()


def _hidden_outputs(activation, rng, n_rows=30, n_units=8):
    """Outputs of a layer where some units are pushed far into saturation."""
    Z = rng.standard_normal((n_rows, n_units))
    # Units 0-2 saturated (unit 2 towards both ends on different rows), unit 3
    # saturated on all rows but one.
    Z[:, 0] = 8 + rng.random(n_rows)
    Z[:, 1] = -8 - rng.random(n_rows)
    Z[:, 2] = np.where(np.arange(n_rows) % 2, 9, -9)
    Z[:, 3] = 9
    Z[0, 3] = 0.1
    functions = {
        "identity": lambda z: z,
        "logistic": expit,
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
    }
    return functions[activation](Z)


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inactive_unit_fractions_follow_the_definition(activation, dtype):
    rng = np.random.default_rng(0)
    layers = [
        _hidden_outputs(activation, rng).astype(dtype),
        _hidden_outputs(activation, rng, n_units=5).astype(dtype),
    ]
    before = [A.copy() for A in layers]

    fractions = inactive_unit_fractions(layers, activation)

    assert fractions.dtype == np.float64
    assert fractions.shape == (2,)
    expected = [_reference_inactive(A, activation) for A in layers]
    assert_allclose(fractions, expected, rtol=0, atol=1e-15)
    for A, copy in zip(layers, before, strict=True):
        assert_array_equal(A, copy)


@pytest.mark.parametrize(
    "activation, expected",
    # Units 0, 1, 2 are inactive for logistic and tanh; for relu, unit 1 only.
    [("identity", 0), ("logistic", 3 / 8), ("tanh", 3 / 8), ("relu", 1 / 8)],
)
def test_inactive_unit_fractions_values(activation, expected):
    A = _hidden_outputs(activation, np.random.default_rng(1))

    assert_allclose(inactive_unit_fractions([A], activation), [expected])


def test_inactive_unit_fractions_thresholds():
    # Just inside and just outside each documented threshold.
    logistic = np.array([[0.0099, 0.0101, 0.9901, 0.9899]])
    tanh = np.array([[0.9901, -0.9901, 0.9899, -0.9899]])
    relu = np.array([[0.0, 1e-300, 0.0, 2.0]])

    assert_allclose(inactive_unit_fractions([logistic], "logistic"), [0.5])
    assert_allclose(inactive_unit_fractions([tanh], "tanh"), [0.5])
    assert_allclose(inactive_unit_fractions([relu], "relu"), [0.5])


def test_inactive_unit_fractions_edge_cases():
    assert inactive_unit_fractions([], "relu").shape == (0,)
    assert_array_equal(inactive_unit_fractions([np.empty((0, 4))], "relu"), [0.0])
    with pytest.raises(ValueError, match="activation must be one of"):
        inactive_unit_fractions([np.ones((2, 2))], "softmax")


# stall_message, on records written by hand

SCALED_X = np.random.default_rng(0).standard_normal((100, 4))
FLAT = [0.69] + [0.6] * 29
RECORDS = {
    "loss_curve": FLAT,
    "gradient_norm_curve": [0.5] * 30,
    "inactive_units_curve": [np.array([0.0])] * 30,
    "X": SCALED_X,
    "activation": "logistic",
    "learning_rate_init": 0.001,
    "hidden_layer_sizes": [10],
    "n_classes": 2,
}


def _message(**changes):
    return stall_message(**{**RECORDS, **changes})


def test_flat_high_loss_without_evidence_is_not_a_stall():
    # Overlapping classes look like this: the loss has converged, just high.
    assert _message() is None


@pytest.mark.parametrize(
    "changes",
    [
        {"loss_curve": [0.69] + [0.6] * 9, "X": 1000 * SCALED_X},
        {"loss_curve": [0.69] * 29 + [np.nan]},
        # Low loss: 0.1 is below a quarter of log(2).
        {"loss_curve": [0.69] + [0.1] * 29, "X": 1000 * SCALED_X},
        # Falling fast: the loss halves in fewer epochs than were run.
        {"loss_curve": list(np.geomspace(0.69, 0.3, 30)), "X": 1000 * SCALED_X},
        {"gradient_norm_curve": None, "inactive_units_curve": None},
        {"gradient_norm_curve": [], "inactive_units_curve": []},
    ],
    ids=["ten epochs", "nan", "low loss", "falling fast", "no records", "empty"],
)
def test_no_message(changes):
    assert _message(**changes) is None


@pytest.mark.parametrize(
    "changes, phrase",
    [
        ({"X": 50 * SCALED_X}, "the largest column root-mean-square is"),
        ({"X": SCALED_X + 20}, "the largest column root-mean-square is"),
        ({"X": sp.csr_matrix(50 * SCALED_X)}, "the largest column root-mean-square"),
        ({"X": 0.01 * SCALED_X}, "every column root-mean-square is at most 0.0"),
        (
            {
                "inactive_units_curve": [np.array([0.0, 0.0])] * 29
                + [np.array([0, 0.6])]
            },
            "60% of the units of hidden layer 2 are saturated",
        ),
        (
            {"activation": "relu", "inactive_units_curve": [np.array([1.0])] * 30},
            "100% of the units of hidden layer 1 are dead",
        ),
        (
            {"gradient_norm_curve": [1.0] * 20 + [1e-4] * 10},
            "the gradient norm fell to 0.0001, from 1 at most",
        ),
        (
            {"hidden_layer_sizes": [10, 2], "n_classes": 3, "loss_curve": [0.9] * 30},
            "hidden layer 2 has 2 units, fewer than the 3 classes",
        ),
    ],
    ids=[
        "large inputs",
        "offset inputs",
        "large sparse inputs",
        "tiny inputs",
        "saturated",
        "dead",
        "vanished gradient",
        "narrow layer",
    ],
)
def test_stall_names_its_cause(changes, phrase):
    message = _message(**changes)

    assert message.startswith("Training stalled: the training loss stayed at ")
    assert phrase in message
    assert "n_init" in message


def test_eleven_epochs_are_enough_to_judge():
    flat = [0.69] + [0.6] * 10

    assert _message(loss_curve=flat, X=1000 * SCALED_X) is not None
    assert _message(loss_curve=flat[1:], X=1000 * SCALED_X) is None


def test_no_cause_below_the_thresholds():
    changes = {
        "X": 2.9 * SCALED_X / np.sqrt((SCALED_X**2).mean(axis=0)),
        "inactive_units_curve": [np.array([0.49])] * 30,
        "gradient_norm_curve": [1.0] * 29 + [1.1e-3],
        "hidden_layer_sizes": [2],
    }

    assert _message(**changes) is None


def test_slow_fall_says_not_converged():
    # 0.5% per epoch: halving takes about 100 more epochs, after 30.
    loss_curve = list(0.69 * 0.995 ** np.arange(30))

    message = _message(loss_curve=loss_curve)

    assert message.startswith("Training is slow and has not converged: after 30 ")
    assert "more epochs to halve" in message
    assert "Raise max_iter, or learning_rate_init (now 0.001" in message
    assert "Also:" not in message
    with_cause = _message(loss_curve=loss_curve, X=100 * SCALED_X)
    assert "Also: the inputs are not standardised" in with_cause


def test_reference_loss_grows_with_the_classes():
    # A loss of 0.5 is far from zero for 2 classes (a quarter of log 2 is
    # 0.17) but not for 10 (a quarter of log 10 is 0.58).
    curve = [0.6] + [0.5] * 29
    narrow = {"loss_curve": curve, "hidden_layer_sizes": [1]}

    assert _message(**narrow, n_classes=2) is not None
    assert _message(**narrow, n_classes=10) is None


def test_float32_inputs_of_huge_scale_do_not_overflow():
    X = np.full((10, 2), 1e30, dtype=np.float32)

    message = _message(X=X)

    assert "root-mean-square is 1e+30" in message


def test_stalled_training_warning_is_a_convergence_warning():
    assert issubclass(StalledTrainingWarning, ConvergenceWarning)
    assert sklearn_adam_mlp.StalledTrainingWarning is StalledTrainingWarning


# The warning during fit: healthy fits stay silent, stalled ones say why.

HEALTHY = [
    pytest.param(load_iris, {"hidden_layer_sizes": (16,)}, id="iris"),
    pytest.param(load_breast_cancer, {"hidden_layer_sizes": (3,)}, id="breast cancer"),
    pytest.param(load_digits, {"hidden_layer_sizes": (32,)}, id="digits"),
    pytest.param(load_wine, {"activation": "tanh"}, id="wine"),
]


@pytest.mark.parametrize("load, params", HEALTHY)
def test_healthy_fits_do_not_warn(load, params):
    X, y = _standardised(load)
    model = AdamMLPClassifier(
        learning_rate_init=0.01, max_iter=300, random_state=0, **params
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", StalledTrainingWarning)
        model.fit(X, y)

    assert model.score(X, y) > 0.95


def _stall_warnings(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return [
        str(w.message) for w in caught if issubclass(w.category, StalledTrainingWarning)
    ]


def test_raw_inputs_saturate_logistic_units():
    X, y = load_wine(return_X_y=True)
    model = AdamMLPClassifier((3,), "logistic", random_state=0)

    (message,) = _stall_warnings(model, X, y)

    assert "Training stalled" in message
    assert "the inputs are not standardised" in message
    assert "units of hidden layer 1 are saturated" in message


def test_large_steps_on_raw_inputs_kill_relu_units():
    X, y = load_wine(return_X_y=True)
    model = AdamMLPClassifier(learning_rate_init=0.1, random_state=0)

    (message,) = _stall_warnings(model, X, y)

    assert "units of hidden layer 1 are dead" in message
    assert "a smaller learning_rate_init keeps units alive" in message


def test_case_study_budget_is_slow_not_stuck():
    X, y = _standardised(load_breast_cancer)
    model = AdamMLPClassifier(
        (3,), "logistic", batch_size=X.shape[0], max_iter=50, random_state=0
    )

    (message,) = _stall_warnings(model, X, y)

    assert "Training is slow and has not converged: after 50 " in message


# check_gradients


def _fitted_model(activation="tanh", target="multiclass", **params):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    if target == "binary":
        y = (X[:, 0] > 0).astype(int)
    elif target == "multiclass":
        y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])
    else:
        y = (X[:, :3] > 0).astype(int)
    model = AdamMLPClassifier((5, 4), activation, max_iter=20, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model, X, y


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_check_gradients_on_a_correct_gradient(activation, target):
    model, X, y = _fitted_model(activation, target, alpha=0.3)

    errors = check_gradients(model, X, y)

    assert list(errors.columns) == [
        "layer",
        "parameter",
        "n_params",
        "n_checked",
        "max_abs_error",
        "relative_error",
    ]
    assert errors["layer"].tolist() == [0, 0, 1, 1, 2, 2]
    assert errors["parameter"].tolist() == ["coefs", "intercepts"] * 3
    n_outputs = model.n_outputs_
    assert errors["n_params"].tolist() == [20, 5, 20, 4, 4 * n_outputs, n_outputs]
    assert_array_equal(errors["n_checked"], errors["n_params"])
    assert (errors["relative_error"] < 1e-6).all(), errors
    assert (errors["max_abs_error"] < 1e-8).all(), errors


def test_check_gradients_finds_a_wrong_gradient(monkeypatch):
    model, X, y = _fitted_model()
    network = model._network
    correct = network.loss_gradient
    coefs_of_layer_1 = network._coef_slices[1]

    def wrong(*args, **kwargs):
        loss, gradient = correct(*args, **kwargs)
        gradient[coefs_of_layer_1] *= 1.01
        return loss, gradient

    monkeypatch.setattr(network, "loss_gradient", wrong)

    errors = check_gradients(model, X, y)

    wrong_row = (errors["layer"] == 1) & (errors["parameter"] == "coefs")
    # ||0.01 g|| / (||1.01 g|| + ||g||)
    assert_allclose(errors.loc[wrong_row, "relative_error"], 0.01 / 2.01, rtol=1e-4)
    assert (errors.loc[~wrong_row, "relative_error"] < 1e-6).all()


def test_check_gradients_with_weights_and_sparse_inputs():
    model, X, y = _fitted_model(class_weight="balanced", alpha=1.0)
    sample_weight = np.random.default_rng(1).random(X.shape[0])

    dense = check_gradients(model, X, y, sample_weight=sample_weight)
    sparse = check_gradients(model, sp.csr_matrix(X), y, sample_weight=sample_weight)

    assert (dense["relative_error"] < 1e-6).all()
    assert (sparse["relative_error"] < 1e-6).all()


def test_check_gradients_of_an_unfitted_estimator_fits_a_clone():
    X, y = _standardised(load_iris)
    model = AdamMLPClassifier((5,), "logistic", random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        errors = check_gradients(model, X, y)

    assert not hasattr(model, "n_iter_")
    assert (errors["relative_error"] < 1e-6).all()


def test_check_gradients_in_float64_for_a_float32_model():
    model, X, y = _fitted_model()
    model32 = clone(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model32.fit(X.astype(np.float32), y)

    errors = check_gradients(model32, X.astype(np.float32), y)

    assert model32._params.dtype == np.float32
    assert (errors["relative_error"] < 1e-6).all()


def test_check_gradients_subsets_are_capped_and_reproducible():
    X, y = _standardised(load_digits)
    model = AdamMLPClassifier((20,), random_state=0, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)

    first = check_gradients(model, X, y, max_samples=50, max_coordinates=7)
    again = check_gradients(model, X, y, max_samples=50, max_coordinates=7)
    other = check_gradients(
        model, X, y, max_samples=50, max_coordinates=7, random_state=1
    )

    assert errors_checked(first) == [7, 7, 7, 7]
    assert first["n_params"].tolist() == [64 * 20, 20, 20 * 10, 10]
    pd.testing.assert_frame_equal(first, again)
    assert not first["max_abs_error"].equals(other["max_abs_error"])
    assert (first["relative_error"] < 1e-5).all()


def errors_checked(errors):
    return errors["n_checked"].tolist()


def test_check_gradients_validates_its_input():
    model, X, y = _fitted_model()

    with pytest.raises(ValueError, match="4 features"):
        check_gradients(model, X[:, :3], y)
    with pytest.raises(ValueError, match=r"y has classes \[7\]"):
        check_gradients(model, X, np.where(y == 0, 7, y))
    with pytest.raises(ValueError, match="step must be positive"):
        check_gradients(model, X, y, step=0)
    with pytest.raises(ValueError, match="max_samples must be None or at least 1"):
        check_gradients(model, X, y, max_samples=0)
    fitted_other = DummyClassifier().fit(X, y)
    with pytest.raises(TypeError, match="must be an AdamMLPClassifier"):
        check_gradients(fitted_other, X, y)


# restart_study


@pytest.fixture(scope="module")
def iris_study():
    X, y = _standardised(load_iris)
    # max_iter=60 cuts some seeds; the others stop by tol.
    model = AdamMLPClassifier(
        (4,), learning_rate_init=0.05, max_iter=60, tol=1e-3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        study = restart_study(model, X, y, n_seeds=6)
    return model, X, y, study


def test_restart_study_has_one_row_per_seed(iris_study):
    _, _, _, study = iris_study

    assert list(study.columns) == [
        "seed",
        "n_iter",
        "converged",
        "stalled",
        "final_loss",
        "gradient_norm",
        "train_accuracy",
        "minimum",
        "loss_curve",
    ]
    assert study["seed"].tolist() == list(range(6))
    assert study["minimum"].dtype == "Int64"
    assert study["converged"].dtype == bool
    # The study has both kinds of runs, so it says something.
    assert 0 < study["converged"].sum() < len(study)


def test_restart_study_rows_describe_each_fit(iris_study):
    model, X, y, study = iris_study
    Y = np.eye(3)[y]

    for row in study.itertuples():
        fitted = clone(model).set_params(random_state=row.seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted.fit(X, y)
        categories = {w.category for w in caught}
        loss, gradient = fitted._network.loss_gradient(
            fitted._params, X, Y, alpha=fitted.alpha
        )
        assert row.n_iter == fitted.n_iter_
        assert row.converged == (ConvergenceWarning not in categories)
        assert row.stalled == (StalledTrainingWarning in categories)
        assert row.loss_curve == fitted.loss_curve_
        assert_allclose(row.final_loss, loss, rtol=1e-12)
        assert_allclose(row.gradient_norm, np.linalg.norm(gradient), rtol=1e-12)
        assert row.train_accuracy == fitted.score(X, y)
        assert pd.isna(row.minimum) == (not row.converged)


def test_restart_study_explicit_seeds_sample_weight_and_parallel():
    X, y = _standardised(load_iris)
    model = AdamMLPClassifier((4,), learning_rate_init=0.05, max_iter=30)
    sample_weight = np.random.default_rng(0).random(X.shape[0])

    sequential = restart_study(model, X, y, seeds=[5, 3], sample_weight=sample_weight)
    # Threads share the warning filters: the study cannot hold all back.
    with warnings.catch_warnings(), parallel_config(backend="threading"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        parallel = restart_study(
            model, X, y, seeds=[5, 3], sample_weight=sample_weight, n_jobs=2
        )

    pd.testing.assert_frame_equal(sequential, parallel)
    assert sequential["seed"].tolist() == [5, 3]
    fitted = clone(model).set_params(random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted.fit(X, y, sample_weight=sample_weight)
    assert sequential.loc[1, "train_accuracy"] == fitted.score(
        X, y, sample_weight=sample_weight
    )


def test_restart_study_records_stalls():
    X, y = load_wine(return_X_y=True)
    model = AdamMLPClassifier(learning_rate_init=0.1)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        study = restart_study(model, X, y, seeds=[0])

    assert study["stalled"].tolist() == [True]


def test_group_minima_rule():
    losses = np.array([0.50, 0.100, 0.104, 0.108, 0.30, 0.2, 0.31])
    converged = np.array([True, True, True, True, True, False, True])

    labels = _group_minima(losses, converged, loss_rtol=0.05, loss_atol=0.0)

    # Sorted: 0.100, 0.104 (+4%), 0.108 (+3.8%): one group, chained; 0.30
    # (+178%) a new one; 0.31 (+3.3%) joins it; 0.50 a third; 0.2 not converged.
    assert labels.tolist() == [2, 0, 0, 0, 1, -1, 1]
    strict = _group_minima(losses, converged, loss_rtol=0.0, loss_atol=0.0)
    assert strict.tolist() == [5, 0, 1, 2, 3, -1, 4]
    loose = _group_minima(losses, converged, loss_rtol=0.0, loss_atol=1.0)
    assert loose.tolist() == [0, 0, 0, 0, 0, -1, 0]


def test_restart_study_validates_its_input():
    X, y = _standardised(load_iris)
    model = AdamMLPClassifier((4,))

    with pytest.raises(ValueError, match="n_seeds must be a positive integer"):
        restart_study(model, X, y, n_seeds=0)
    with pytest.raises(ValueError, match="seeds must hold at least one seed"):
        restart_study(model, X, y, seeds=[])
    with pytest.raises(ValueError, match="loss_rtol must be non-negative"):
        restart_study(model, X, y, loss_rtol=-1)


# plot_restart_study


def test_plot_restart_study(iris_study):
    import matplotlib.pyplot as plt

    _, _, _, study = iris_study
    n_converged = int(study["converged"].sum())
    figure, ax = plt.subplots()
    try:
        returned = plot_restart_study(study, ax=ax)

        assert returned is ax
        assert ax.get_yscale() == "log"
        assert len(ax.lines) == len(study)
        colors = [line.get_color() for line in ax.lines]
        assert colors == ["C0"] * n_converged + ["C1"] * (len(study) - n_converged)
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert labels == [
            f"converged: {n_converged}",
            f"not converged (max_iter reached): {len(study) - n_converged}",
        ]
        converged_curves = study.loc[study["converged"], "loss_curve"]
        assert_array_equal(ax.lines[0].get_ydata(), converged_curves.iloc[0])
    finally:
        plt.close(figure)


def test_plot_restart_study_without_matplotlib(iris_study, monkeypatch):
    _, _, _, study = iris_study
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)

    with pytest.raises(ImportError, match=r"pip install 'sklearn-adam-mlp\[plot\]'"):
        plot_restart_study(study)

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.metrics import log_loss
from sklearn.neural_network._base import ACTIVATIONS, DERIVATIVES

from sklearn_adam_mlp._activations import (
    HIDDEN_ACTIVATIONS,
    activate,
    derivative_work_dtype,
    log_output_probabilities,
    multiply_by_derivative,
    output_loss_and_probabilities,
    output_probabilities,
    output_work_size,
)

DTYPES = [np.float64, np.float32]
# Relative tolerance for a value computed in ``dtype`` against float64 math.
RTOL = {np.float64: 1e-12, np.float32: 1e-6}

FORMULAS = {
    "identity": lambda z: z,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
}


def _logits(n_samples, n_outputs, *, scale=3.0, seed=0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((n_samples, n_outputs))


def _naive_softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def test_hidden_activation_names():
    assert set(HIDDEN_ACTIVATIONS) == set(FORMULAS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_activate_matches_formula_in_place(name, dtype):
    Z64 = _logits(7, 5)
    # Both signs and exact zeros are present.
    Z64[0, :3] = [-2.0, 0.0, 2.0]
    Z = Z64.astype(dtype)
    expected = FORMULAS[name](Z.astype(np.float64))

    A = activate(Z, name)

    assert A is Z
    assert A.dtype == dtype
    assert_allclose(A, expected, rtol=RTOL[dtype], atol=0)


# Both sides of the width where relu switches to a row of zeros.
@pytest.mark.parametrize("n_units", [3, 15, 16, 40])
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_is_sklearns_bit_for_bit(n_units, dtype):
    Z = _logits(30, n_units).astype(dtype)
    Z[0, 0], Z[1, 0], Z[2, 0] = 0.0, -0.0, np.nan
    expected = Z.copy()
    ACTIVATIONS["relu"](expected)

    A = activate(Z, "relu")

    assert_array_equal(A, expected)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_multiply_by_derivative_matches_finite_differences(name):
    rng = np.random.default_rng(1)
    Z = _logits(6, 4, scale=2.0, seed=1)
    # Keep away from the kink of relu at 0.
    Z[np.abs(Z) < 0.1] += 0.5
    delta = rng.standard_normal(Z.shape)
    step = 1e-6
    f = FORMULAS[name]
    derivative = (f(Z + step) - f(Z - step)) / (2 * step)

    A = activate(Z.copy(), name)
    A_before = A.copy()
    delta_in = delta.copy()
    result = multiply_by_derivative(A, delta_in, name)

    assert result is delta_in
    assert_array_equal(A, A_before)
    assert_allclose(result, delta * derivative, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_multiply_by_derivative_dtype(name, dtype):
    Z = _logits(5, 3, seed=2)
    Z[np.abs(Z) < 0.1] += 0.5
    delta = np.random.default_rng(2).standard_normal(Z.shape)
    expected = multiply_by_derivative(activate(Z.copy(), name), delta.copy(), name)

    A = activate(Z.astype(dtype), name)
    result = multiply_by_derivative(A, delta.astype(dtype), name)

    assert result.dtype == dtype
    assert_allclose(result, expected, rtol=10 * RTOL[dtype], atol=10 * RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_multiply_by_derivative_is_sklearns_bit_for_bit(name, dtype):
    Z = _logits(40, 7, seed=3).astype(dtype)
    A = activate(Z, name)
    delta = np.random.default_rng(3).standard_normal(Z.shape).astype(dtype)
    expected = delta.copy()
    DERIVATIVES[name](A, expected)

    result = multiply_by_derivative(A, delta.copy(), name)
    # Scratch space holding stale values, which must not leak into the result.
    work_dtype = derivative_work_dtype(name, dtype)
    work = None
    if work_dtype is not None:
        stale = True if work_dtype.kind == "b" else np.nan
        work = np.full(delta.shape, stale, dtype=work_dtype)
    with_work = multiply_by_derivative(A, delta.copy(), name, work=work)

    assert_array_equal(result, expected)
    assert_array_equal(with_work, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_probabilities_logistic_is_expit(dtype):
    Z = _logits(8, 3).astype(dtype)
    expected = expit(Z.astype(np.float64))

    P = output_probabilities(Z, "logistic")

    assert P is Z
    assert P.dtype == dtype
    assert_allclose(P, expected, rtol=RTOL[dtype], atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_output_probabilities_softmax(dtype):
    Z = _logits(8, 4).astype(dtype)
    expected = _naive_softmax(Z.astype(np.float64))

    P = output_probabilities(Z, "softmax")

    assert P is Z
    assert P.dtype == dtype
    assert_allclose(P.sum(axis=1), 1, rtol=RTOL[dtype])
    assert_allclose(P, expected, rtol=10 * RTOL[dtype], atol=0)


def test_output_probabilities_softmax_shift_invariant():
    Z = _logits(5, 3)
    P = output_probabilities(Z.copy(), "softmax")
    P_shifted = output_probabilities(Z + 500.0, "softmax")
    assert_allclose(P_shifted, P, rtol=1e-12)


def _extreme_logits(magnitude, n_outputs):
    """Rows mixing +magnitude, -magnitude, 0 and moderate values."""
    base = np.array(
        [
            [1.0, -1.0, 0.0, 0.5],
            [-1.0, 1.0, 0.3, 0.0],
            [0.0, 0.0, -1.0, 1.0],
            [1.0, 1.0, 1.0, 1.0],
            [-1.0, -1.0, -1.0, -1.0],
        ]
    )
    Z = base[:, :n_outputs] * magnitude
    Z[:, 0] += [0.0, 0.0, 2.0, 0.0, -2.0]
    return Z


STABILITY_CASES = [
    (np.float64, 1e4),
    (np.float64, 1e300),
    (np.float32, 1e4),
    (np.float32, 1e30),
]
OUTPUT_CASES = [("logistic", 1), ("logistic", 3), ("softmax", 2), ("softmax", 4)]


@pytest.mark.parametrize("name, n_outputs", OUTPUT_CASES)
@pytest.mark.parametrize("dtype, magnitude", STABILITY_CASES)
def test_output_functions_stable_for_large_logits(dtype, magnitude, name, n_outputs):
    Z = _extreme_logits(magnitude, n_outputs).astype(dtype)
    Y = np.zeros_like(Z)
    Y[:, 0] = 1
    # Underflow to 0 is the intended rounding of a tiny probability (and
    # numpy ignores it by default); every other floating-point event must
    # not happen.
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        log_proba = log_output_probabilities(Z, name)
        P = output_probabilities(Z.copy(), name)
        Z_loss = Z.copy()
        loss = output_loss_and_probabilities(Z_loss, Y, name)

    assert np.all(np.isfinite(log_proba))
    assert np.all(log_proba <= 0)
    assert np.all(np.isfinite(P))
    assert np.all((P >= 0) & (P <= 1))
    assert np.isfinite(loss)
    assert loss >= 0
    assert_array_equal(Z_loss, P)
    if name == "softmax":
        assert_allclose(P.sum(axis=1), 1, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype, magnitude", STABILITY_CASES)
def test_log_output_probabilities_exact_in_the_tails(dtype, magnitude):
    # Where a probability rounds to 0, its log is still exact: the logit
    # itself (logistic) or the gap to the largest logit (softmax).
    z = dtype(magnitude)
    log_proba = log_output_probabilities(np.array([[z], [-z]], dtype=dtype), "logistic")
    assert_allclose(log_proba, [[-z, 0], [0, -z]], rtol=RTOL[dtype], atol=0)

    log_proba = log_output_probabilities(np.array([[z, 0]], dtype=dtype), "softmax")
    assert_allclose(log_proba, [[0, -z]], rtol=RTOL[dtype], atol=0)

    Y = np.array([[0.0], [1.0]], dtype=dtype)
    loss = output_loss_and_probabilities(
        np.array([[z], [-z]], dtype=dtype), Y, "logistic"
    )
    assert_allclose(loss, 2 * float(z), rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_output_probabilities_softmax(dtype):
    Z = _logits(9, 4).astype(dtype)
    Z_before = Z.copy()
    expected = np.log(_naive_softmax(Z.astype(np.float64)))

    log_proba = log_output_probabilities(Z, "softmax")

    assert_array_equal(Z, Z_before)
    assert log_proba.shape == Z.shape
    assert log_proba.dtype == dtype
    assert_allclose(log_proba, expected, rtol=10 * RTOL[dtype], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_output_probabilities_binary_two_columns(dtype):
    Z = _logits(9, 1).astype(dtype)
    Z_before = Z.copy()
    z = Z.astype(np.float64)[:, 0]
    # log(1 - expit(z)) == log(expit(-z)), without the cancellation.
    expected = np.column_stack([np.log(expit(-z)), np.log(expit(z))])

    log_proba = log_output_probabilities(Z, "logistic")

    assert_array_equal(Z, Z_before)
    assert log_proba.shape == (9, 2)
    assert log_proba.dtype == dtype
    assert_allclose(log_proba, expected, rtol=10 * RTOL[dtype], atol=0)
    assert_allclose(np.exp(log_proba).sum(axis=1), 1, rtol=10 * RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_output_probabilities_multilabel_per_column(dtype):
    Z = _logits(9, 3).astype(dtype)
    Z_before = Z.copy()
    expected = np.log(expit(Z.astype(np.float64)))

    log_proba = log_output_probabilities(Z, "logistic")

    assert_array_equal(Z, Z_before)
    assert log_proba.shape == (9, 3)
    assert log_proba.dtype == dtype
    assert_allclose(log_proba, expected, rtol=10 * RTOL[dtype], atol=0)


@pytest.mark.parametrize("name, n_outputs", OUTPUT_CASES)
def test_log_output_probabilities_is_log_of_probabilities(name, n_outputs):
    # Logits wide enough that some probabilities round to 0 in float64.
    Z = _logits(20, n_outputs, scale=300.0, seed=3)
    if name == "logistic" and n_outputs == 1:
        # The two classes: 1 - p is expit(-z), without the cancellation.
        P = output_probabilities(np.hstack([-Z, Z]), name)
    else:
        P = output_probabilities(Z.copy(), name)

    log_proba = log_output_probabilities(Z, name)

    # Some entries are rounded to 0 and others not, and the comparison only
    # uses the well-conditioned ones (p not rounded to 0 nor to 1 - tiny).
    usable = (P > 1e-300) & (P < 0.5)
    assert usable.any()
    assert (P == 0).any()
    assert_allclose(log_proba[usable], np.log(P[usable]), rtol=1e-12)
    # p close to 1: log(p) close to 0.
    assert_allclose(log_proba[P >= 0.5], np.log(P[P >= 0.5]), rtol=0, atol=1e-12)
    assert np.all(np.isfinite(log_proba))


def _samples(n_samples, n_outputs, kind, seed):
    rng = np.random.default_rng(seed)
    Z = 2.0 * rng.standard_normal((n_samples, n_outputs))
    if kind == "multiclass":
        y = rng.integers(n_outputs, size=n_samples)
        y[:n_outputs] = np.arange(n_outputs)
        Y = np.eye(n_outputs)[y]
    else:
        Y = rng.integers(2, size=(n_samples, n_outputs)).astype(np.float64)
        Y[0], Y[1] = 0, 1
        y = Y[:, 0]
    return Z, Y, y


@pytest.mark.parametrize("with_weights", [False, True])
def test_output_loss_binary_matches_log_loss(with_weights):
    Z, Y, y = _samples(15, 1, "binary", seed=4)
    sample_weight = (
        np.random.default_rng(5).uniform(0.1, 3, 15) if with_weights else None
    )
    expected = log_loss(
        y,
        expit(Z[:, 0]),
        normalize=False,
        sample_weight=sample_weight,
        labels=[0, 1],
    )

    Z_in = Z.copy()
    loss = output_loss_and_probabilities(Z_in, Y, "logistic", sample_weight)

    assert isinstance(loss, float)
    assert_allclose(loss, expected, rtol=1e-12)
    assert_allclose(Z_in, expit(Z), rtol=1e-15)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("with_weights", [False, True])
def test_output_loss_multiclass_matches_log_loss(n_classes, with_weights):
    Z, Y, y = _samples(15, n_classes, "multiclass", seed=6)
    sample_weight = (
        np.random.default_rng(7).uniform(0.1, 3, 15) if with_weights else None
    )
    P = _naive_softmax(Z)
    expected = log_loss(
        y,
        P,
        normalize=False,
        sample_weight=sample_weight,
        labels=np.arange(n_classes),
    )

    Z_in = Z.copy()
    loss = output_loss_and_probabilities(Z_in, Y, "softmax", sample_weight)

    assert isinstance(loss, float)
    assert_allclose(loss, expected, rtol=1e-12)
    assert_allclose(Z_in, P, rtol=1e-13)
    assert_allclose(Z_in, output_probabilities(Z.copy(), "softmax"), rtol=1e-15)


@pytest.mark.parametrize("with_weights", [False, True])
def test_output_loss_multilabel_is_sum_of_binary_losses(with_weights):
    Z, Y, _ = _samples(15, 3, "multilabel", seed=8)
    sample_weight = (
        np.random.default_rng(9).uniform(0.1, 3, 15) if with_weights else None
    )
    P = expit(Z)
    expected = sum(
        log_loss(
            Y[:, k],
            P[:, k],
            normalize=False,
            sample_weight=sample_weight,
            labels=[0, 1],
        )
        for k in range(3)
    )

    Z_in = Z.copy()
    loss = output_loss_and_probabilities(Z_in, Y, "logistic", sample_weight)

    assert_allclose(loss, expected, rtol=1e-12)
    assert_allclose(Z_in, P, rtol=1e-15)


@pytest.mark.parametrize("name, n_outputs", OUTPUT_CASES)
@pytest.mark.parametrize("with_weights", [False, True])
def test_output_loss_is_weighted_sum_of_per_sample_losses(
    name, n_outputs, with_weights
):
    kind = "multiclass" if name == "softmax" else "multilabel"
    Z, Y, _ = _samples(12, n_outputs, kind, seed=10)
    weights = np.random.default_rng(11).uniform(0.1, 3, 12)
    log_proba = log_output_probabilities(Z, name)
    if name == "logistic":
        if n_outputs == 1:
            Y_full = np.column_stack([1 - Y[:, 0], Y[:, 0]])
        else:
            # Binary cross-entropy per column: y log p + (1 - y) log(1 - p).
            log_proba = np.hstack([log_proba, log_output_probabilities(-Z, name)])
            Y_full = np.hstack([Y, 1 - Y])
    else:
        Y_full = Y
    per_sample = -(Y_full * log_proba).sum(axis=1)
    expected = per_sample @ weights if with_weights else per_sample.sum()

    loss = output_loss_and_probabilities(
        Z.copy(), Y, name, weights if with_weights else None
    )

    assert_allclose(loss, expected, rtol=1e-12)


# Widths on both sides of the few-column paths of the row maximum.
@pytest.mark.parametrize("n_outputs", [1, 2, 3, 9, 64, 65])
@pytest.mark.parametrize("dtype", DTYPES)
def test_output_loss_probabilities_are_sklearns_bit_for_bit(n_outputs, dtype):
    name = "logistic" if n_outputs == 1 else "softmax"
    kind = "multilabel" if n_outputs == 1 else "multiclass"
    Z, Y, _ = _samples(80, n_outputs, kind, seed=13)
    Z, Y = Z.astype(dtype), Y.astype(dtype)
    expected = Z.copy()
    ACTIVATIONS[name](expected)
    loss = output_loss_and_probabilities(Z.copy(), Y, name)

    Z_in = Z.copy()
    work = np.full(output_work_size(*Z.shape), np.nan, dtype=dtype)
    loss_with_work = output_loss_and_probabilities(Z_in, Y, name, work=work)

    assert_array_equal(Z_in, expected)
    assert loss_with_work == loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, n_outputs", OUTPUT_CASES)
def test_output_loss_dtype(name, n_outputs, dtype):
    kind = "multiclass" if name == "softmax" else "multilabel"
    Z, Y, _ = _samples(10, n_outputs, kind, seed=12)
    expected_loss = output_loss_and_probabilities(Z.copy(), Y, name)
    expected_P = output_probabilities(Z.copy(), name)

    Z_in = Z.astype(dtype)
    loss = output_loss_and_probabilities(Z_in, Y.astype(dtype), name)

    assert Z_in.dtype == dtype
    assert_allclose(loss, expected_loss, rtol=10 * RTOL[dtype])
    assert_allclose(Z_in, expected_P, rtol=10 * RTOL[dtype], atol=1e-7)

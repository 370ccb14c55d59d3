import inspect
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, softmax
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier
from sklearn.neural_network._multilayer_perceptron import _pack

from sklearn_adam_mlp._activations import HIDDEN_ACTIVATIONS
from sklearn_adam_mlp._network import Network, Workspace

N_FEATURES = 3
HIDDEN = (4, 3)
# (output activation, number of outputs, kind of target)
TARGETS = {
    "binary": ("logistic", 1),
    "multiclass": ("softmax", 3),
    "multilabel": ("logistic", 3),
}
# Distance from the relu kink that every hidden pre-activation keeps, far
# larger than what a finite-difference step can move it.
KINK_MARGIN = 1e-3

HIDDEN_FUNCTIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


def _make_network(activation, target, hidden=HIDDEN):
    out_activation, n_outputs = TARGETS[target]
    return Network(
        (N_FEATURES, *hidden, n_outputs),
        activation=activation,
        out_activation=out_activation,
    )


def _targets(rng, n_samples, target):
    _, n_outputs = TARGETS[target]
    if target == "multiclass":
        y = rng.integers(n_outputs, size=n_samples)
        y[:n_outputs] = np.arange(n_outputs)
        return np.eye(n_outputs)[y]
    Y = rng.integers(2, size=(n_samples, n_outputs)).astype(np.float64)
    Y[0], Y[1] = 0, 1
    return Y


def _reference_forward(network, params, X):
    """Pre-activations of every layer and the output probabilities."""
    coefs, intercepts = network.unpack(params)
    f = HIDDEN_FUNCTIONS[network.activation]
    A = X.toarray() if sp.issparse(X) else X
    pre_activations = []
    for coef, intercept in zip(coefs, intercepts, strict=True):
        Z = A @ coef + intercept
        pre_activations.append(Z)
        A = f(Z)
    logits = pre_activations[-1]
    if network.out_activation == "softmax":
        proba = softmax(logits, axis=1)
    else:
        proba = expit(logits)
    return pre_activations, proba


def _problem(activation, target, *, n_samples=6, seed=0):
    """Tiny float64 data and parameters, away from the relu kinks."""
    network = _make_network(activation, target)
    rng = np.random.default_rng(seed)
    for _ in range(100):
        X = rng.standard_normal((n_samples, N_FEATURES))
        params = rng.standard_normal(network.n_params)
        pre_activations, _ = _reference_forward(network, params, X)
        hidden = np.concatenate([Z.ravel() for Z in pre_activations[:-1]])
        if np.abs(hidden).min() > KINK_MARGIN:
            break
    else:  # pragma: no cover
        raise RuntimeError("no draw away from the kinks")
    Y = _targets(rng, n_samples, target)
    sample_weight = rng.uniform(0.2, 2.0, n_samples)
    return network, X, Y, params, sample_weight


def test_unpack_shapes_and_sizes():
    network = Network((5, 4, 3, 2), activation="relu", out_activation="softmax")
    assert network.n_layers == 4
    assert network.n_coefs == 5 * 4 + 4 * 3 + 3 * 2
    assert network.n_params == network.n_coefs + 4 + 3 + 2

    coefs, intercepts = network.unpack(np.zeros(network.n_params))

    assert [c.shape for c in coefs] == [(5, 4), (4, 3), (3, 2)]
    assert [b.shape for b in intercepts] == [(4,), (3,), (2,)]


def test_unpack_layout_is_all_coefs_then_all_intercepts():
    network = Network((5, 4, 3, 2), activation="relu", out_activation="softmax")
    params = np.arange(network.n_params, dtype=np.float64)

    coefs, intercepts = network.unpack(params)

    assert_array_equal(coefs[0], np.arange(0, 20).reshape(5, 4))
    assert_array_equal(coefs[1], np.arange(20, 32).reshape(4, 3))
    assert_array_equal(coefs[2], np.arange(32, 38).reshape(3, 2))
    assert_array_equal(intercepts[0], [38, 39, 40, 41])
    assert_array_equal(intercepts[1], [42, 43, 44])
    assert_array_equal(intercepts[2], [45, 46])
    assert network.n_coefs == 38
    # scikit-learn's MLP packs its parameters the same way.
    assert_array_equal(_pack(coefs, intercepts), params)


def test_unpack_returns_views():
    network = Network((3, 2, 2), activation="tanh", out_activation="logistic")
    params = np.zeros(network.n_params)

    coefs, intercepts = network.unpack(params)
    coefs[1][1, 0] = 7.0
    intercepts[0][1] = -3.0

    for view in coefs + intercepts:
        assert np.shares_memory(view, params)
    expected = np.zeros(network.n_params)
    expected[3 * 2 + 2 * 1 + 0] = 7.0
    expected[network.n_coefs + 1] = -3.0
    assert_array_equal(params, expected)

    params[network.n_coefs + 2] = 5.0
    assert intercepts[1][0] == 5.0


def _sklearn_draws(layer_units, activation, seed):
    """scikit-learn's documented draw order, written out by hand."""
    rs = np.random.RandomState(seed)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:], strict=True):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
    return np.concatenate([c.ravel() for c in coefs] + intercepts), rs


LAYER_UNITS = [(3, 1), (5, 4, 3), (6, 5, 4, 2)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer_units", LAYER_UNITS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_init_params_matches_glorot_draws(activation, layer_units, dtype):
    seed = 42
    network = Network(layer_units, activation=activation, out_activation="logistic")
    expected, rs_expected = _sklearn_draws(layer_units, activation, seed)

    rs = np.random.RandomState(seed)
    params = network.init_params(rs, dtype=dtype)

    assert params.shape == (network.n_params,)
    assert params.dtype == dtype
    assert_array_equal(params, expected.astype(dtype))
    # The generator was advanced by exactly these draws.
    assert rs.uniform() == rs_expected.uniform()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer_units", LAYER_UNITS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_init_params_matches_mlpclassifier_init_coef(activation, layer_units, dtype):
    seed = 7
    clf = MLPClassifier(
        hidden_layer_sizes=layer_units[1:-1], activation=activation, random_state=seed
    )
    clf._random_state = np.random.RandomState(seed)
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:], strict=True):
        coef, intercept = clf._init_coef(fan_in, fan_out, dtype)
        coefs.append(coef)
        intercepts.append(intercept)
    network = Network(layer_units, activation=activation, out_activation="logistic")

    params = network.init_params(np.random.RandomState(seed), dtype=dtype)

    assert params.dtype == dtype
    own_coefs, own_intercepts = network.unpack(params)
    for own, theirs in zip(own_coefs + own_intercepts, coefs + intercepts, strict=True):
        assert_array_equal(own, theirs)
    assert_array_equal(params, _pack(coefs, intercepts))


def test_init_params_bound_depends_on_activation():
    layer_units = (30, 20)
    bound_logistic = np.sqrt(2 / 50)
    bound_other = np.sqrt(6 / 50)
    for activation, bound in [("logistic", bound_logistic), ("relu", bound_other)]:
        network = Network(layer_units, activation=activation, out_activation="logistic")
        params = network.init_params(np.random.RandomState(0))
        assert np.abs(params).max() <= bound
        assert np.abs(params).max() > 0.9 * bound


def _numerical_gradient(network, params, X, Y, *, alpha, sample_weight, step):
    gradient = np.empty_like(params)
    for k in range(params.size):
        shifted = params.copy()
        shifted[k] += step
        loss_plus, _ = network.loss_gradient(
            shifted, X, Y, alpha=alpha, sample_weight=sample_weight
        )
        shifted[k] -= 2 * step
        loss_minus, _ = network.loss_gradient(
            shifted, X, Y, alpha=alpha, sample_weight=sample_weight
        )
        gradient[k] = (loss_plus - loss_minus) / (2 * step)
    return gradient


@pytest.mark.parametrize("with_weights", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_gradient_matches_finite_differences(activation, target, alpha, with_weights):
    network, X, Y, params, sample_weight = _problem(activation, target)
    sample_weight = sample_weight if with_weights else None
    params_before = params.copy()

    _, gradient = network.loss_gradient(
        params, X, Y, alpha=alpha, sample_weight=sample_weight
    )
    numerical = _numerical_gradient(
        network, params, X, Y, alpha=alpha, sample_weight=sample_weight, step=1e-6
    )

    assert_array_equal(params, params_before)
    assert gradient.shape == (network.n_params,)
    relative_error = np.linalg.norm(gradient - numerical) / np.linalg.norm(numerical)
    assert relative_error < 1e-6
    # Every layer's weights and biases get a gradient (no part left at 0).
    coef_grads, intercept_grads = network.unpack(gradient)
    for part in coef_grads + intercept_grads:
        assert np.abs(part).max() > 1e-8


@pytest.mark.parametrize("with_weights", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_loss_is_mean_log_loss_plus_l2(activation, target, alpha, with_weights):
    network, X, Y, params, sample_weight = _problem(activation, target, seed=1)
    sample_weight = sample_weight if with_weights else None
    sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
    _, proba = _reference_forward(network, params, X)
    if target == "multiclass":
        data_loss = log_loss(
            Y.argmax(axis=1), proba, sample_weight=sample_weight, labels=[0, 1, 2]
        )
    else:
        # Binary cross-entropy summed over the (one or several) columns.
        data_loss = sum(
            log_loss(Y[:, k], proba[:, k], sample_weight=sample_weight, labels=[0, 1])
            for k in range(Y.shape[1])
        )
    coefs, _ = network.unpack(params)
    penalty = alpha / 2 * sum(np.sum(coef**2) for coef in coefs) / sw_sum

    loss, _ = network.loss_gradient(
        params, X, Y, alpha=alpha, sample_weight=sample_weight
    )

    assert isinstance(loss, float)
    assert_allclose(loss, data_loss + penalty, rtol=1e-12)


def test_penalty_excludes_intercepts():
    network, X, Y, params, _ = _problem("tanh", "multiclass", seed=2)
    n_coefs, n_samples, alpha = network.n_coefs, X.shape[0], 0.5

    loss, gradient = network.loss_gradient(params, X, Y, alpha=alpha)
    loss_0, gradient_0 = network.loss_gradient(params, X, Y, alpha=0.0)

    weights = params[:n_coefs]
    assert_allclose(
        loss - loss_0, alpha / 2 * weights @ weights / n_samples, rtol=1e-10
    )
    assert_array_equal(gradient[n_coefs:], gradient_0[n_coefs:])
    assert_allclose(
        gradient[:n_coefs] - gradient_0[:n_coefs],
        alpha * weights / n_samples,
        rtol=1e-9,
        atol=1e-14,
    )


def _backprop_takes_sample_weight():
    signature = inspect.signature(MLPClassifier._backprop)
    return "sample_weight" in signature.parameters


def _sklearn_gradient(network, params, X, Y, *, alpha, sample_weight=None):
    """Loss and packed gradient of scikit-learn's MLP at ``params``."""
    hidden = network.layer_units[1:-1]
    clf = MLPClassifier(
        hidden_layer_sizes=hidden, activation=network.activation, alpha=alpha
    )
    coefs, intercepts = network.unpack(params)
    clf.coefs_ = [c.copy() for c in coefs]
    clf.intercepts_ = [b.copy() for b in intercepts]
    clf.n_layers_ = network.n_layers
    clf.out_activation_ = network.out_activation
    n_weighted = network.n_layers - 1
    lists = [[X] + [None] * n_weighted] + [[None] * n_weighted for _ in range(3)]
    if _backprop_takes_sample_weight():
        loss, coef_grads, intercept_grads = clf._backprop(X, Y, sample_weight, *lists)
    else:
        loss, coef_grads, intercept_grads = clf._backprop(X, Y, *lists)
    return loss, _pack(coef_grads, intercept_grads)


@pytest.mark.parametrize("with_weights", [False, True])
@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_matches_sklearn_backprop(activation, target, alpha, hidden, with_weights):
    if with_weights and not _backprop_takes_sample_weight():
        pytest.skip("this scikit-learn's _backprop takes no sample_weight")
    network = _make_network(activation, target, hidden=hidden)
    rng = np.random.default_rng(3)
    n_samples = 8
    X = rng.standard_normal((n_samples, N_FEATURES))
    Y = _targets(rng, n_samples, target)
    params = network.init_params(np.random.RandomState(0))
    sample_weight = rng.uniform(0.2, 2.0, n_samples) if with_weights else None
    expected_loss, expected_gradient = _sklearn_gradient(
        network, params, X, Y, alpha=alpha, sample_weight=sample_weight
    )

    loss, gradient = network.loss_gradient(
        params, X, Y, alpha=alpha, sample_weight=sample_weight
    )

    # scikit-learn clips the probabilities, which these moderate logits never
    # reach; its loss is then the same up to rounding.
    assert_allclose(loss, expected_loss, rtol=1e-12)
    assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("with_weights", [False, True])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_sparse_input_matches_dense(activation, target, with_weights):
    network = _make_network(activation, target)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((10, N_FEATURES))
    X[rng.uniform(size=X.shape) < 0.5] = 0.0
    Y = _targets(rng, 10, target)
    params = network.init_params(np.random.RandomState(1))
    sample_weight = rng.uniform(0.2, 2.0, 10) if with_weights else None

    loss, gradient = network.loss_gradient(
        params, X, Y, alpha=0.1, sample_weight=sample_weight
    )
    for X_sparse in (sp.csr_matrix(X), sp.csc_matrix(X)):
        loss_sparse, gradient_sparse = network.loss_gradient(
            params, X_sparse, Y, alpha=0.1, sample_weight=sample_weight
        )
        assert_allclose(loss_sparse, loss, rtol=1e-13)
        assert_allclose(gradient_sparse, gradient, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("with_weights", [False, True])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_float32_matches_float64(activation, target, with_weights):
    network = _make_network(activation, target)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((12, N_FEATURES))
    Y = _targets(rng, 12, target)
    params = network.init_params(np.random.RandomState(2))
    sample_weight = rng.uniform(0.2, 2.0, 12) if with_weights else None
    loss, gradient = network.loss_gradient(
        params, X, Y, alpha=0.1, sample_weight=sample_weight
    )

    loss_32, gradient_32 = network.loss_gradient(
        params.astype(np.float32),
        X.astype(np.float32),
        Y.astype(np.float32),
        alpha=0.1,
        sample_weight=None
        if sample_weight is None
        else sample_weight.astype(np.float32),
    )

    assert gradient_32.dtype == np.float32
    assert_allclose(loss_32, loss, rtol=1e-5)
    assert_allclose(gradient_32, gradient, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_buffers_and_gradient_out(activation, target, sparse):
    network = _make_network(activation, target)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((7, N_FEATURES))
    Y = _targets(rng, 7, target)
    if sparse:
        X = sp.csr_matrix(X)
    params = network.init_params(np.random.RandomState(3))
    sample_weight = rng.uniform(0.2, 2.0, 7)
    expected_loss, expected_gradient = network.loss_gradient(
        params, X, Y, alpha=0.2, sample_weight=sample_weight
    )

    buffers = network.allocate(20, np.float64)
    gradient_out = np.full(network.n_params, np.nan)
    # Stale values in the buffers must not leak into the result.
    for _ in range(2):
        for buffer in buffers:
            buffer.fill(np.nan)
        loss, gradient = network.loss_gradient(
            params,
            X,
            Y,
            alpha=0.2,
            sample_weight=sample_weight,
            gradient=gradient_out,
            buffers=buffers,
        )
        assert gradient is gradient_out
        assert_allclose(loss, expected_loss, rtol=1e-15)
        assert_allclose(gradient, expected_gradient, rtol=1e-14, atol=1e-16)


def test_allocate_shapes():
    network = Network((5, 4, 3, 2), activation="relu", out_activation="softmax")
    buffers = network.allocate(11, np.float32)
    assert isinstance(buffers, Workspace)
    assert [b.shape for b in buffers] == [(11, 4), (11, 3), (11, 2), (11, 4), (11, 3)]
    assert all(b.dtype == np.float32 for b in buffers)
    assert buffers.deltas == buffers[3:]

    forward_only = network.allocate(11, np.float32, backward=False)
    assert [b.shape for b in forward_only] == [(11, 4), (11, 3), (11, 2)]


# Hidden and output widths where the kernels take their special paths: one
# output column (the outer product), narrow deltas (the column sums), wide ones.
BIT_FOR_BIT_SHAPES = [(3, 1), (20, 1), (5, 4), (20, 3), (30, 17)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_hidden, n_outputs", BIT_FOR_BIT_SHAPES)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_gradient_is_sklearns_bit_for_bit(activation, n_hidden, n_outputs, dtype):
    # Each number is rounded as scikit-learn rounds it, so training from the
    # same start gives the same weights, not merely close ones.
    rng = np.random.default_rng(8)
    out_activation = "logistic" if n_outputs == 1 else "softmax"
    network = Network(
        (6, n_hidden, n_hidden, n_outputs),
        activation=activation,
        out_activation=out_activation,
    )
    X = rng.standard_normal((50, 6)).astype(dtype)
    Y = np.eye(max(n_outputs, 2))[rng.integers(max(n_outputs, 2), size=50)]
    Y = Y[:, -n_outputs:].astype(dtype)
    params = network.init_params(np.random.RandomState(0), dtype)
    expected_loss, expected_gradient = _sklearn_gradient(
        network, params, X, Y, alpha=1e-2
    )

    loss, gradient = network.loss_gradient(
        params, X, Y, alpha=1e-2, buffers=network.allocate(64, dtype)
    )

    assert gradient.dtype == dtype
    assert_array_equal(gradient, expected_gradient)
    assert_allclose(loss, expected_loss, rtol=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("with_weights", [False, True])
@pytest.mark.parametrize("target", list(TARGETS))
def test_boolean_targets_give_the_same_loss_and_gradient(target, with_weights):
    network, X, Y, params, sample_weight = _problem("relu", target, seed=7)
    sample_weight = sample_weight if with_weights else None
    expected_loss, expected_gradient = network.loss_gradient(
        params, X, Y, alpha=0.1, sample_weight=sample_weight
    )

    loss, gradient = network.loss_gradient(
        params, X, Y.astype(bool), alpha=0.1, sample_weight=sample_weight
    )

    assert loss == expected_loss
    assert_array_equal(gradient, expected_gradient)


def test_buffers_serve_any_parameter_vector():
    # The workspace remembers the per-layer views of the vectors it saw: a
    # new vector, or new values in a vector it saw, must be used as given.
    network, X, Y, params, _ = _problem("tanh", "multiclass", seed=5)
    other, third = params[::-1].copy(), 0.5 * params
    buffers = network.allocate(X.shape[0], np.float64)
    gradient = np.empty_like(params)

    for vector in (params, other, third, params, third):
        expected = network.loss_gradient(vector, X, Y, alpha=0.1)
        result = network.loss_gradient(
            vector, X, Y, alpha=0.1, gradient=gradient, buffers=buffers
        )
        assert result[0] == expected[0]
        assert_array_equal(result[1], expected[1])
    params *= 0.5
    expected = network.loss_gradient(params, X, Y, alpha=0.1)
    result = network.loss_gradient(
        params, X, Y, alpha=0.1, gradient=gradient, buffers=buffers
    )
    assert_array_equal(result[1], expected[1])


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_loss_gradient_leaves_the_hidden_activations_in_the_buffers(activation):
    # The training loop reads them after the step (inactive units).
    network, X, Y, params, _ = _problem(activation, "multilabel", seed=6)
    buffers = network.allocate(10, np.float64)
    expected = [A.copy() for A in network.forward(params, X)[1:-1]]

    network.loss_gradient(params, X, Y, alpha=0.1, buffers=buffers)

    n_hidden = network.n_layers - 2
    for buffer, A in zip(buffers[:n_hidden], expected, strict=True):
        assert_array_equal(buffer[: X.shape[0]], A)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_loss_gradient_with_buffers_allocates_no_float_array(activation, target):
    n_samples = 2000
    network = _make_network(activation, target, hidden=(64, 32))
    rng = np.random.default_rng(9)
    X = rng.standard_normal((n_samples, N_FEATURES))
    Y = _targets(rng, n_samples, target)
    params = network.init_params(np.random.RandomState(0))
    buffers = network.allocate(n_samples, np.float64)
    gradient = np.empty_like(params)
    network.loss_gradient(params, X, Y, alpha=0.1, gradient=gradient, buffers=buffers)

    tracemalloc.start()
    network.loss_gradient(params, X, Y, alpha=0.1, gradient=gradient, buffers=buffers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # What may be allocated: numpy's iteration buffers (at most 8192 items per
    # operand) and small vectors (a row of zeros for relu). A float array of
    # the smallest layer would be 2000 x 32 x 8 bytes.
    assert peak < n_samples * 32 * 8


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("hidden", [(), (5,), (4, 3)])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_forward_returns_input_hidden_activations_and_logits(
    activation, hidden, use_buffers
):
    network = _make_network(activation, "multiclass", hidden=hidden)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((6, N_FEATURES))
    params = network.init_params(np.random.RandomState(4))
    pre_activations, _ = _reference_forward(network, params, X)
    f = HIDDEN_FUNCTIONS[activation]
    buffers = network.allocate(9, np.float64) if use_buffers else None

    activations = network.forward(params, X, buffers=buffers)

    assert len(activations) == len(hidden) + 2
    assert activations[0] is X
    for A, Z in zip(activations[1:-1], pre_activations[:-1], strict=True):
        assert_allclose(A, f(Z), rtol=1e-13, atol=1e-15)
    # The logits, not yet through the softmax.
    assert_allclose(activations[-1], pre_activations[-1], rtol=1e-13, atol=1e-15)
    assert [A.shape for A in activations] == [(6, n) for n in (N_FEATURES, *hidden, 3)]
    if use_buffers:
        for A, buffer in zip(activations[1:], buffers, strict=False):
            assert np.shares_memory(A, buffer)

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from sklearn_adam_mlp._adam import AdamState, adam_step, bias_corrected_learning_rate

HYPERPARAMETERS = [
    {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.8, "epsilon": 1e-3},
    {"learning_rate": 0.01, "beta_1": 0.0, "beta_2": 0.99, "epsilon": 1e-7},
]
N_STEPS = 5


def _gradients(n_steps=N_STEPS, n_params=11, seed=0):
    rng = np.random.default_rng(seed)
    # Gradients of different scales and signs from step to step.
    scales = np.logspace(-3, 2, n_params)
    return [scales * rng.standard_normal(n_params) for _ in range(n_steps)]


def _textbook_adam(params, gradients, *, learning_rate, beta_1, beta_2, epsilon):
    """Kingma & Ba (2015), Algorithm 1, one step per gradient.

    The package puts epsilon next to ``sqrt(v)`` rather than ``sqrt(v_hat)``;
    dividing it by ``sqrt(1 - beta_2**t)`` puts it next to ``sqrt(v_hat)``.
    """
    params = params.copy()
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    history = []
    for t, g in enumerate(gradients, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat = m / (1 - beta_1**t)
        v_hat = v / (1 - beta_2**t)
        epsilon_hat = epsilon / math.sqrt(1 - beta_2**t)
        params = params - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon_hat)
        history.append((params.copy(), m.copy(), v.copy()))
    return history


@pytest.mark.parametrize("hyperparameters", HYPERPARAMETERS)
def test_adam_step_matches_textbook_algorithm(hyperparameters):
    gradients = _gradients()
    initial = np.random.default_rng(1).standard_normal(gradients[0].size)
    expected = _textbook_adam(initial, gradients, **hyperparameters)
    params = initial.copy()
    state = AdamState(params.size, np.float64)

    for step, (g, (expected_params, m, v)) in enumerate(
        zip(gradients, expected, strict=True), start=1
    ):
        returned = adam_step(params, g, state, **hyperparameters)

        assert returned is params
        assert state.step == step
        assert_allclose(params, expected_params, rtol=1e-12, atol=0)
        # The moments keep their running, uncorrected values.
        assert_allclose(state.first_moment, m, rtol=1e-15, atol=0)
        assert_allclose(state.second_moment, v, rtol=1e-15, atol=0)


@pytest.mark.parametrize("hyperparameters", HYPERPARAMETERS)
def test_moments_are_running_averages(hyperparameters):
    beta_1, beta_2 = hyperparameters["beta_1"], hyperparameters["beta_2"]
    gradients = _gradients(seed=2)
    state = AdamState(gradients[0].size, np.float64)
    params = np.zeros_like(gradients[0])
    m = np.zeros_like(params)
    v = np.zeros_like(params)

    for g in gradients:
        adam_step(params, g, state, **hyperparameters)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        assert_allclose(state.first_moment, m, rtol=1e-15, atol=0)
        assert_allclose(state.second_moment, v, rtol=1e-15, atol=0)

    # Closed form of the running averages, as weighted sums of the gradients.
    weights_1 = [(1 - beta_1) * beta_1 ** (N_STEPS - t) for t in range(1, N_STEPS + 1)]
    weights_2 = [(1 - beta_2) * beta_2 ** (N_STEPS - t) for t in range(1, N_STEPS + 1)]
    assert_allclose(
        state.first_moment, np.dot(weights_1, gradients), rtol=1e-12, atol=1e-300
    )
    assert_allclose(
        state.second_moment, np.dot(weights_2, np.square(gradients)), rtol=1e-12
    )


@pytest.mark.parametrize("epsilon", [0.0, 1e-8, 1e-2])
@pytest.mark.parametrize("hyperparameters", HYPERPARAMETERS)
def test_first_step_uses_t_equal_one(hyperparameters, epsilon):
    hyperparameters = {**hyperparameters, "epsilon": epsilon}
    learning_rate, beta_2 = hyperparameters["learning_rate"], hyperparameters["beta_2"]
    g = _gradients(n_steps=1, seed=3)[0]
    params = np.zeros_like(g)

    adam_step(params, g, AdamState(g.size, np.float64), **hyperparameters)

    # From zero moments, t = 1 removes the bias exactly: the step is
    # lr * g / (|g| + epsilon_hat), about lr in size for every component.
    epsilon_hat = epsilon / math.sqrt(1 - beta_2)
    assert_allclose(
        params, -learning_rate * g / (np.abs(g) + epsilon_hat), rtol=1e-13, atol=0
    )
    if epsilon == 0:
        assert_allclose(params, -learning_rate * np.sign(g), rtol=1e-14)


@pytest.mark.parametrize("hyperparameters", HYPERPARAMETERS)
def test_matches_sklearn_adam_optimizer(hyperparameters):
    gradients = _gradients(n_steps=8, seed=4)
    initial = np.random.default_rng(5).standard_normal(gradients[0].size)
    params = initial.copy()
    state = AdamState(params.size, np.float64)
    sklearn_params = initial.copy()
    optimizer = AdamOptimizer(
        [sklearn_params],
        learning_rate_init=hyperparameters["learning_rate"],
        beta_1=hyperparameters["beta_1"],
        beta_2=hyperparameters["beta_2"],
        epsilon=hyperparameters["epsilon"],
    )

    for g in gradients:
        adam_step(params, g, state, **hyperparameters)
        optimizer.update_params([sklearn_params], [g])

        assert state.step == optimizer.t
        assert_allclose(params, sklearn_params, rtol=1e-15, atol=0)
        assert_allclose(state.first_moment, optimizer.ms[0], rtol=1e-15, atol=0)
        assert_allclose(state.second_moment, optimizer.vs[0], rtol=1e-15, atol=0)
    assert not np.allclose(params, initial)


def test_gradient_not_modified_params_in_place():
    g = _gradients(n_steps=1, seed=6)[0]
    g_before = g.copy()
    params = np.ones_like(g)
    alias = params[2:5]
    state = AdamState(g.size, np.float64)

    returned = adam_step(params, g, state, **HYPERPARAMETERS[1])

    assert returned is params
    assert_array_equal(g, g_before)
    assert np.all(params != 1)
    assert_array_equal(alias, params[2:5])


@pytest.mark.parametrize("hyperparameters", HYPERPARAMETERS)
def test_float32_stays_float32(hyperparameters):
    gradients = _gradients(seed=7)
    initial = np.random.default_rng(8).standard_normal(gradients[0].size)
    params_64 = initial.copy()
    state_64 = AdamState(initial.size, np.float64)
    params = initial.astype(np.float32)
    state = AdamState(params.size, np.float32)

    for g in gradients:
        adam_step(params_64, g, state_64, **hyperparameters)
        adam_step(params, g.astype(np.float32), state, **hyperparameters)

    assert params.dtype == np.float32
    assert state.first_moment.dtype == np.float32
    assert state.second_moment.dtype == np.float32
    assert state.step == N_STEPS
    assert_allclose(params, params_64, rtol=1e-5, atol=1e-6)
    assert_allclose(state.first_moment, state_64.first_moment, rtol=1e-5)
    assert_allclose(state.second_moment, state_64.second_moment, rtol=1e-5)


def test_adam_state_initial_values():
    state = AdamState(4, np.float32)
    assert state.step == 0
    for moment in (state.first_moment, state.second_moment):
        assert moment.shape == (4,)
        assert moment.dtype == np.float32
        assert_array_equal(moment, 0)


@pytest.mark.parametrize("step", [1, 2, 5, 100, 10_000])
@pytest.mark.parametrize("hyperparameters", HYPERPARAMETERS)
def test_bias_corrected_learning_rate(hyperparameters, step):
    learning_rate = hyperparameters["learning_rate"]
    beta_1, beta_2 = hyperparameters["beta_1"], hyperparameters["beta_2"]
    expected = learning_rate * math.sqrt(1 - beta_2**step) / (1 - beta_1**step)

    result = bias_corrected_learning_rate(
        learning_rate, beta_1=beta_1, beta_2=beta_2, step=step
    )

    assert isinstance(result, float)
    assert_allclose(result, expected, rtol=1e-15)


def test_bias_corrected_learning_rate_limits():
    # First step: lr * sqrt(1 - beta_2) / (1 - beta_1); late steps: lr.
    first = bias_corrected_learning_rate(0.1, beta_1=0.9, beta_2=0.999, step=1)
    assert_allclose(first, 0.1 * math.sqrt(0.001) / 0.1, rtol=1e-12)
    late = bias_corrected_learning_rate(0.1, beta_1=0.9, beta_2=0.999, step=100_000)
    assert_allclose(late, 0.1, rtol=1e-15)


def test_step_counts_updates():
    g = _gradients(n_steps=1, seed=9)[0]
    params = np.zeros_like(g)
    state = AdamState(g.size, np.float64)
    for step in range(1, 8):
        adam_step(params, g, state, **HYPERPARAMETERS[0])
        assert state.step == step

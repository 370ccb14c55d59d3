import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

from sklearn_adam_mlp._adam import (
    AdamState,
    adam_step,
    bias_corrected_learning_rate,
    clip_by_global_norm,
    global_norm,
)

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


# Variants: AMSGrad, decoupled weight decay (AdamW), torch's epsilon placement.

PLACEMENTS = ["sklearn", "torch"]
VARIANTS = [
    {"weight_decay": 0.0, "amsgrad": False},
    {"weight_decay": 0.0, "amsgrad": True},
    {"weight_decay": 0.05, "amsgrad": False},
    {"weight_decay": 0.05, "amsgrad": True},
]
TORCH_REFERENCE = Path(__file__).parent / "torch_reference" / "adam_steps.json"


def _falling_gradients(n_steps=8, n_params=11, seed=0):
    """Large gradients for 3 steps, then small: v falls, so v_max != v."""
    return [
        (10.0 if step < 3 else 1.0) * g
        for step, g in enumerate(_gradients(n_steps, n_params, seed))
    ]


def _reference_adam(
    params,
    gradients,
    *,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
    weight_decay,
    amsgrad,
    epsilon_placement,
):
    """The paper's Algorithm 1 with AMSGrad and decoupled weight decay.

    Bias-corrected moments ``m_hat``, ``v_hat``; AMSGrad divides by the bias
    corrected running maximum of ``v`` (as torch does); AdamW shrinks the
    parameters by ``lr * weight_decay`` first. 'torch' adds epsilon to
    ``sqrt(v_hat)``, 'sklearn' adds it to ``sqrt(v)``, that is
    ``epsilon / sqrt(1 - beta_2**t)`` to ``sqrt(v_hat)``.
    """
    params = params.astype(np.float64)
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    v_max = np.zeros_like(params)
    history = []
    for t, g in enumerate(gradients, start=1):
        params = params - learning_rate * weight_decay * params
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta_1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta_2**t)
        if epsilon_placement == "sklearn":
            epsilon_hat = epsilon / math.sqrt(1 - beta_2**t)
        else:
            epsilon_hat = epsilon
        params = params - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon_hat)
        history.append((params, m, v, v_max))
    return history


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("epsilon_placement", PLACEMENTS)
@pytest.mark.parametrize("hyperparameters", HYPERPARAMETERS)
def test_variants_match_closed_form(
    hyperparameters, epsilon_placement, variant, dtype, rtol
):
    gradients = [g.astype(dtype) for g in _falling_gradients(seed=10)]
    initial = np.random.default_rng(11).standard_normal(gradients[0].size)
    initial = initial.astype(dtype)
    expected = _reference_adam(
        initial,
        gradients,
        **hyperparameters,
        **variant,
        epsilon_placement=epsilon_placement,
    )
    params = initial.copy()
    state = AdamState(params.size, dtype, amsgrad=variant["amsgrad"])
    # float32 rounding of values near 0 is absolute, not relative.
    atol = 0 if dtype == np.float64 else 1e-6
    scale = np.max(np.abs(gradients), axis=0)

    for step, (g, (expected_params, m, v, v_max)) in enumerate(
        zip(gradients, expected, strict=True), start=1
    ):
        returned = adam_step(
            params,
            g,
            state,
            **hyperparameters,
            weight_decay=variant["weight_decay"],
            epsilon_placement=epsilon_placement,
        )

        assert returned is params
        assert state.step == step
        assert params.dtype == dtype
        assert_allclose(params, expected_params, rtol=rtol, atol=atol)
        # m sums gradients of both signs: its rounding error is relative to
        # the size of the gradients, not to m.
        assert_allclose(state.first_moment / scale, m / scale, rtol=0, atol=rtol)
        assert_allclose(state.second_moment, v, rtol=rtol)
        if variant["amsgrad"]:
            assert state.max_second_moment.dtype == dtype
            assert_allclose(state.max_second_moment, v_max, rtol=rtol)
        else:
            assert state.max_second_moment is None


@pytest.mark.parametrize("epsilon_placement", PLACEMENTS)
def test_amsgrad_keeps_running_maximum(epsilon_placement):
    # beta_2 = 0.8: v follows the fall of the gradients within a few steps.
    hyperparameters = HYPERPARAMETERS[1]
    gradients = _falling_gradients(seed=12)
    params = np.zeros(gradients[0].size)
    state = AdamState(params.size, np.float64, amsgrad=True)
    plain_params = params.copy()
    plain = AdamState(params.size, np.float64)
    second_moments = []

    for g in gradients:
        previous, plain_previous = params.copy(), plain_params.copy()
        for p, s in ((params, state), (plain_params, plain)):
            adam_step(p, g, s, **hyperparameters, epsilon_placement=epsilon_placement)
        second_moments.append(state.second_moment.copy())
        # v itself is the plain running average; only the denominator changes.
        assert_array_equal(state.second_moment, plain.second_moment)
        assert_array_equal(state.first_moment, plain.first_moment)
        assert_array_equal(
            state.max_second_moment, np.maximum.accumulate(second_moments)[-1]
        )
        assert np.all(state.max_second_moment >= state.second_moment)

    # The gradients fell, so v fell below its maximum and AMSGrad, dividing
    # the same m by the larger sqrt(v_max), made a smaller last step.
    assert np.all(state.max_second_moment > state.second_moment)
    assert np.all(np.abs(params - previous) < np.abs(plain_params - plain_previous))


@pytest.mark.parametrize("epsilon_placement", PLACEMENTS)
def test_amsgrad_equals_adam_when_second_moment_grows(epsilon_placement):
    # |g| doubling at each step makes v non-decreasing, so v_max == v.
    g = _gradients(n_steps=1, seed=13)[0]
    params = np.ones_like(g)
    state = AdamState(g.size, np.float64, amsgrad=True)
    plain_params = params.copy()
    plain = AdamState(g.size, np.float64)

    for step in range(6):
        for p, s in ((params, state), (plain_params, plain)):
            adam_step(
                p,
                g * 2.0**step,
                s,
                **HYPERPARAMETERS[1],
                epsilon_placement=epsilon_placement,
            )

    assert_array_equal(state.max_second_moment, state.second_moment)
    assert_array_equal(params, plain_params)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-14), (np.float32, 1e-6)])
@pytest.mark.parametrize("epsilon_placement", PLACEMENTS)
def test_weight_decay_alone_shrinks_geometrically(epsilon_placement, dtype, rtol):
    # A zero gradient leaves m and v at 0, so only the decay moves params.
    learning_rate, weight_decay = 0.1, 0.3
    initial = np.random.default_rng(14).standard_normal(7).astype(dtype)
    params = initial.copy()
    state = AdamState(params.size, dtype)

    for step in range(1, 6):
        adam_step(
            params,
            np.zeros_like(params),
            state,
            learning_rate=learning_rate,
            beta_1=0.9,
            beta_2=0.999,
            epsilon=1e-8,
            weight_decay=weight_decay,
            epsilon_placement=epsilon_placement,
        )
        expected = initial * (1 - learning_rate * weight_decay) ** step
        assert params.dtype == dtype
        assert_allclose(params, expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("epsilon_placement", PLACEMENTS)
def test_weight_decay_is_decoupled_from_the_moments(epsilon_placement):
    weight_decay = 0.2
    gradients = _gradients(seed=15)
    initial = np.random.default_rng(16).standard_normal(gradients[0].size)
    decoupled_params = initial.copy()
    decoupled = AdamState(initial.size, np.float64)
    plain = AdamState(initial.size, np.float64)
    coupled_params = initial.copy()
    coupled = AdamState(initial.size, np.float64)

    for g in gradients:
        adam_step(
            decoupled_params,
            g,
            decoupled,
            **HYPERPARAMETERS[1],
            weight_decay=weight_decay,
            epsilon_placement=epsilon_placement,
        )
        adam_step(
            initial.copy(),
            g,
            plain,
            **HYPERPARAMETERS[1],
            epsilon_placement=epsilon_placement,
        )
        # An L2 term would add weight_decay * params to the gradient.
        adam_step(
            coupled_params,
            g + weight_decay * coupled_params,
            coupled,
            **HYPERPARAMETERS[1],
            epsilon_placement=epsilon_placement,
        )

    # The moments only ever see the gradients.
    assert_array_equal(decoupled.first_moment, plain.first_moment)
    assert_array_equal(decoupled.second_moment, plain.second_moment)
    assert not np.allclose(decoupled_params, coupled_params, rtol=1e-3)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_placements_agree_without_epsilon(amsgrad):
    # The two placements differ only in where epsilon is added.
    gradients = _falling_gradients(seed=17)
    initial = np.random.default_rng(18).standard_normal(gradients[0].size)
    results = {}
    for epsilon_placement in PLACEMENTS:
        params = initial.copy()
        state = AdamState(params.size, np.float64, amsgrad=amsgrad)
        for g in gradients:
            adam_step(
                params,
                g,
                state,
                **{**HYPERPARAMETERS[1], "epsilon": 0.0},
                weight_decay=0.01,
                epsilon_placement=epsilon_placement,
            )
        results[epsilon_placement] = params

    assert_allclose(results["sklearn"], results["torch"], rtol=1e-13)


def _torch_runs():
    with open(TORCH_REFERENCE) as file:
        records = json.load(file)["records"]
    return [
        pytest.param(
            record,
            run,
            id=(
                f"{run['optimizer']}-beta_1={record['hyperparameters']['beta_1']}"
                f"-weight_decay={run['weight_decay']}-amsgrad={run['amsgrad']}"
            ),
        )
        for record in records
        for run in record["runs"]
    ]


@pytest.mark.parametrize("record, run", _torch_runs())
def test_torch_placement_matches_recorded_torch(record, run):
    # Recorded by tests/torch_reference/generate.py from torch.optim.Adam and
    # AdamW in float64. torch fuses some multiply-adds, so agreement is to
    # rounding rather than bit for bit.
    params = np.array(record["initial_params"])
    state = AdamState(params.size, np.float64, amsgrad=run["amsgrad"])

    for g, expected in zip(record["gradients"], run["params"], strict=True):
        adam_step(
            params,
            np.array(g),
            state,
            **record["hyperparameters"],
            weight_decay=run["weight_decay"],
            epsilon_placement="torch",
        )
        assert_allclose(params, expected, rtol=1e-12, atol=0)

    assert state.step == len(run["params"])
    assert_allclose(state.first_moment, run["first_moment"], rtol=1e-12)
    assert_allclose(state.second_moment, run["second_moment"], rtol=1e-12)
    if run["amsgrad"]:
        assert_allclose(state.max_second_moment, run["max_second_moment"], rtol=1e-12)
    # The sklearn placement is a different update, and the test can tell.
    sklearn_params = np.array(record["initial_params"])
    sklearn_state = AdamState(params.size, np.float64, amsgrad=run["amsgrad"])
    for g in record["gradients"]:
        adam_step(
            sklearn_params,
            np.array(g),
            sklearn_state,
            **record["hyperparameters"],
            weight_decay=run["weight_decay"],
        )
    assert not np.allclose(sklearn_params, params, rtol=1e-9, atol=0)


@pytest.mark.parametrize("beta_1", [0.9, 0.5, 0.3])
def test_torch_first_moment_is_torch_lerp(beta_1):
    # torch updates m with m.lerp_(g, w), w = 1 - beta_1, whose CPU kernel
    # computes m + w * (g - m) for w < 0.5 and g - (1 - w) * (g - m) otherwise.
    # Same values in exact arithmetic, different roundings: the order is kept.
    rng = np.random.default_rng(21)
    m = rng.standard_normal(1000)
    g = rng.standard_normal(1000)
    state = AdamState(m.size, np.float64)
    state.first_moment[:] = m

    adam_step(
        np.zeros_like(m),
        g,
        state,
        learning_rate=0.1,
        beta_1=beta_1,
        beta_2=0.999,
        epsilon=1e-8,
        epsilon_placement="torch",
    )

    w = 1 - beta_1
    expected = m + w * (g - m) if w < 0.5 else g - (1 - w) * (g - m)
    assert_array_equal(state.first_moment, expected)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("epsilon_placement", PLACEMENTS)
def test_adam_step_allocates_no_array(epsilon_placement, variant):
    n_params = 100_000
    rng = np.random.default_rng(19)
    params = rng.standard_normal(n_params)
    gradient = rng.standard_normal(n_params)
    state = AdamState(n_params, np.float64, amsgrad=variant["amsgrad"])
    kwargs = {
        **HYPERPARAMETERS[0],
        "weight_decay": variant["weight_decay"],
        "epsilon_placement": epsilon_placement,
    }
    adam_step(params, gradient, state, **kwargs)

    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        adam_step(params, gradient, state, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # One temporary array would be 800 kB.
    assert peak - before < 0.01 * params.nbytes


def test_adam_state_amsgrad():
    assert AdamState(3, np.float64).max_second_moment is None
    state = AdamState(3, np.float32, amsgrad=True)
    assert state.max_second_moment.dtype == np.float32
    assert_array_equal(state.max_second_moment, np.zeros(3))


def test_unknown_epsilon_placement():
    params = np.ones(3)
    state = AdamState(3, np.float64)
    with pytest.raises(ValueError, match="epsilon_placement.*'keras'"):
        adam_step(
            params,
            np.ones(3),
            state,
            **HYPERPARAMETERS[0],
            epsilon_placement="keras",
        )
    assert state.step == 0
    assert_array_equal(params, 1)


# Global-norm clipping.


def _layered_gradient(dtype=np.float64):
    """Two 'layers' of very different norms in one flat vector."""
    rng = np.random.default_rng(20)
    large = 100.0 * rng.standard_normal(30)
    small = 0.01 * rng.standard_normal(5)
    return np.concatenate([large, small]).astype(dtype), slice(0, 30), slice(30, 35)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-14), (np.float32, 1e-6)])
def test_global_norm(dtype, rtol):
    gradient = _layered_gradient(dtype)[0]
    norm = global_norm(gradient)
    assert isinstance(norm, float)
    assert_allclose(norm, math.sqrt(sum(float(g) ** 2 for g in gradient)), rtol=rtol)
    assert global_norm(np.zeros(4, dtype=dtype)) == 0.0


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-14), (np.float32, 1e-6)])
def test_clip_rescales_whole_vector(dtype, rtol):
    gradient, large, small = _layered_gradient(dtype)
    original = gradient.copy()
    norm_before = global_norm(original)
    max_norm = 0.1 * norm_before

    returned = clip_by_global_norm(gradient, max_norm)

    assert isinstance(returned, float)
    assert returned == norm_before
    assert gradient.dtype == dtype
    assert_allclose(global_norm(gradient), max_norm, rtol=rtol)
    # One factor for every component, the small layer's included: the
    # direction is kept. Per-layer clipping would leave the small layer as is.
    assert_allclose(gradient, original * (max_norm / norm_before), rtol=rtol)
    assert_allclose(gradient[small], 0.1 * original[small], rtol=rtol)
    assert_allclose(gradient / original, 0.1, rtol=rtol)
    cosine = np.dot(gradient, original) / (global_norm(gradient) * norm_before)
    assert_allclose(cosine, 1.0, rtol=rtol)


@pytest.mark.parametrize("factor", [1.0, 2.0, 1e6])
def test_clip_is_no_op_up_to_threshold(factor):
    gradient = _layered_gradient()[0]
    original = gradient.copy()
    norm = global_norm(gradient)

    returned = clip_by_global_norm(gradient, factor * norm)

    assert returned == norm
    assert_array_equal(gradient, original)


def test_clip_when_squares_overflow_float32():
    # Squares of 1e20 overflow float32, the norm does not.
    gradient = np.array([1e20, -2e20, 2e20], dtype=np.float32)
    original = gradient.copy()

    norm = clip_by_global_norm(gradient, 1.0)

    assert_allclose(norm, 3e20, rtol=1e-6)
    assert np.all(np.isfinite(gradient))
    assert_allclose(gradient, original / 3e20, rtol=1e-6)


def test_global_norm_when_squares_underflow():
    assert_allclose(global_norm(np.array([3e-200, 4e-200])), 5e-200, rtol=1e-14)
    tiny = np.array([3e-30, -4e-30], dtype=np.float32)
    assert_allclose(global_norm(tiny), 5e-30, rtol=1e-6)


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_clip_leaves_non_finite_gradient(bad):
    gradient = np.array([1.0, bad, -3.0])
    original = gradient.copy()

    norm = clip_by_global_norm(gradient, 1.0)

    assert not math.isfinite(norm)
    assert_array_equal(gradient, original)


@pytest.mark.parametrize("placement", ["sklearn", "torch"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_overwriting_the_gradient_changes_nothing_else(placement, amsgrad):
    rng = np.random.RandomState(0)
    gradients = rng.normal(size=(5, 40))
    results = []
    for overwrite in (False, True):
        params = np.linspace(-1, 1, 40)
        state = AdamState(40, np.float64, amsgrad=amsgrad)
        for gradient in gradients:
            adam_step(
                params,
                gradient.copy(),
                state,
                learning_rate=0.01,
                beta_1=0.9,
                beta_2=0.999,
                epsilon=1e-8,
                epsilon_placement=placement,
                overwrite_gradient=overwrite,
            )
        results.append((params, state.first_moment, state.second_moment))
        assert (state._numerator is None) == overwrite
    for without, with_ in zip(*results, strict=True):
        assert_array_equal(without, with_)

"""The case study's five bugs: checks of the math that each bug would fail.

The original question trained 1 hidden layer of 3 logistic units with Adam and
saw the cost stall and the accuracy swing between runs. Its code had five bugs:

(a) the hidden pre-activation L2-normalised per sample before the sigmoid;
(b) a regulariser summing ``W.T @ W`` instead of ``W**2``;
(c) a second gradient clip rescaling the first layer's gradient by the second
    layer's norm;
(d) bias-corrected moments overwriting the running moments, and the
    correction starting at ``t = 0``;
(e) an update multiplied by the gradient a second time,
    ``lr * m / (sqrt(v) + eps) * g``.

Each check below compares an implementation with the definition. It runs on
the package's function, on a correct implementation written out here, and on
the same written-out implementation with one bug put back: it must accept the
first two and reject the third, so a check that cannot fail would show here.
The last test keeps ``benchmarks/case_study.py``, which measures the numbers of
the case study, running.
"""

import json
import math
from functools import partial

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit
from sklearn.metrics import log_loss

from sklearn_adam_mlp._adam import AdamState, adam_step, clip_by_global_norm
from sklearn_adam_mlp._network import Network

# The case study's shape: features -> 3 logistic units -> 1 logistic output.
N_SAMPLES, N_FEATURES, N_HIDDEN = 20, 5, 3
ALPHA = 0.7
NETWORK = Network(
    (N_FEATURES, N_HIDDEN, 1), activation="logistic", out_activation="logistic"
)


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    y = (X[:, 0] + 0.5 * rng.standard_normal(N_SAMPLES) > 0).astype(np.float64)
    params = NETWORK.init_params(np.random.RandomState(0))
    return X, y, params


def _assert_verdict(check, implementation, correct):
    """The check passes on a correct implementation and fails on a buggy one."""
    if correct:
        check(implementation)
    else:
        with pytest.raises(AssertionError):
            check(implementation)


# (a) The forward pass: A_1 = sigmoid(X W_1 + b_1), Z_2 = A_1 W_2 + b_2.


def _written_out_forward(params, X, *, normalise_pre_activation=False):
    (W1, W2), (b1, b2) = NETWORK.unpack(params)
    Z1 = X @ W1 + b1
    if normalise_pre_activation:  # bug (a)
        Z1 = Z1 / np.linalg.norm(Z1, axis=1, keepdims=True)
    A1 = expit(Z1)
    return [X, A1, A1 @ W2 + b2]


def check_forward(forward):
    X, _, params = _data()
    (W1, W2), (b1, b2) = NETWORK.unpack(params)
    hidden = 1 / (1 + np.exp(-(X @ W1 + b1)))
    logits = hidden @ W2 + b2

    _, A1, Z2 = forward(params, X)

    assert_allclose(A1, hidden, rtol=1e-12, atol=0)
    assert_allclose(Z2, logits, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "forward, correct",
    [
        pytest.param(NETWORK.forward, True, id="package"),
        pytest.param(_written_out_forward, True, id="written out"),
        pytest.param(
            partial(_written_out_forward, normalise_pre_activation=True),
            False,
            id="bug (a): normalised pre-activation",
        ),
    ],
)
def test_forward_pass_is_a_plain_sigmoid_layer(forward, correct):
    _assert_verdict(check_forward, forward, correct)


# (b) The cost: mean log-loss + alpha / 2 * sum(W**2) / n, and its gradient.


def _package_loss_gradient(params, X, Y, alpha):
    return NETWORK.loss_gradient(params, X, Y, alpha=alpha)


def _written_out_loss_gradient(params, X, Y, alpha, *, gram_penalty=False):
    (W1, W2), (b1, b2) = NETWORK.unpack(params)
    n_samples = X.shape[0]
    A1 = expit(X @ W1 + b1)
    P = expit(A1 @ W2 + b2)
    log_likelihood = Y * np.log(P) + (1 - Y) * np.log(1 - P)
    if gram_penalty:  # bug (b)
        penalty = np.sum(W1.T @ W1) + np.sum(W2.T @ W2)
    else:
        penalty = np.sum(W1**2) + np.sum(W2**2)
    loss = -log_likelihood.mean() + alpha / 2 * penalty / n_samples
    # The gradient of the sum of squares, in both cases: the original code
    # changed the cost but not its gradient.
    gradient = np.empty_like(params)
    (gW1, gW2), (gb1, gb2) = NETWORK.unpack(gradient)
    delta2 = (P - Y) / n_samples
    gW2[...] = A1.T @ delta2 + alpha * W2 / n_samples
    gb2[...] = delta2.sum(axis=0)
    delta1 = (delta2 @ W2.T) * A1 * (1 - A1)
    gW1[...] = X.T @ delta1 + alpha * W1 / n_samples
    gb1[...] = delta1.sum(axis=0)
    return loss, gradient


LOSS_GRADIENTS = [
    pytest.param(_package_loss_gradient, True, id="package"),
    pytest.param(_written_out_loss_gradient, True, id="written out"),
    pytest.param(
        partial(_written_out_loss_gradient, gram_penalty=True),
        False,
        id="bug (b): sum(W.T @ W)",
    ),
]


def check_loss(loss_gradient):
    X, y, params = _data()
    (W1, W2), (b1, b2) = NETWORK.unpack(params)
    probabilities = expit(expit(X @ W1 + b1) @ W2 + b2).ravel()
    expected = log_loss(y, probabilities) + ALPHA / 2 * (
        np.sum(W1**2) + np.sum(W2**2)
    ) / len(y)

    loss, _ = loss_gradient(params, X, y[:, None], ALPHA)

    assert_allclose(loss, expected, rtol=1e-12)


def check_gradient(loss_gradient, step=1e-6):
    X, y, params = _data()
    Y = y[:, None]
    _, gradient = loss_gradient(params, X, Y, ALPHA)
    finite_difference = np.empty_like(params)
    for k in range(params.size):
        shift = np.zeros_like(params)
        shift[k] = step
        plus, _ = loss_gradient(params + shift, X, Y, ALPHA)
        minus, _ = loss_gradient(params - shift, X, Y, ALPHA)
        finite_difference[k] = (plus - minus) / (2 * step)

    assert_allclose(gradient, finite_difference, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss_gradient, correct", LOSS_GRADIENTS)
def test_cost_is_log_loss_plus_sum_of_squares(loss_gradient, correct):
    _assert_verdict(check_loss, loss_gradient, correct)


@pytest.mark.parametrize("loss_gradient, correct", LOSS_GRADIENTS)
def test_gradient_is_the_derivative_of_the_cost(loss_gradient, correct):
    _assert_verdict(check_gradient, loss_gradient, correct)


# (c) Clipping by the global norm scales the whole vector by one factor.


def _written_out_clip(gradient, max_norm, *, by_other_layer=False):
    norm = math.sqrt(float(gradient @ gradient))
    if not by_other_layer:
        if norm > max_norm:
            gradient *= max_norm / norm
        return norm
    # Bug (c): each layer clipped on its own, the first by the second's norm.
    (gW1, gW2), _ = NETWORK.unpack(gradient)
    first, second = np.linalg.norm(gW1), np.linalg.norm(gW2)
    if first > max_norm:
        gW1 *= max_norm / first
    if second > max_norm:
        gW1 *= max_norm / second
    return norm


def check_clip(clip):
    rng = np.random.default_rng(1)
    gradient = rng.standard_normal(NETWORK.n_params)
    # A large last layer, as in a network whose output layer dominates.
    gradient[NETWORK.n_coefs - N_HIDDEN : NETWORK.n_coefs] *= 10
    norm = np.linalg.norm(gradient)
    max_norm = norm / 4

    clipped = gradient.copy()
    returned = clip(clipped, max_norm)

    assert_allclose(returned, norm, rtol=1e-12)
    assert_allclose(np.linalg.norm(clipped), max_norm, rtol=1e-12)
    assert_allclose(clipped, gradient * (max_norm / norm), rtol=1e-12)
    unclipped = gradient.copy()
    clip(unclipped, 2 * norm)
    assert_allclose(unclipped, gradient, rtol=0, atol=0)


@pytest.mark.parametrize(
    "clip, correct",
    [
        pytest.param(clip_by_global_norm, True, id="package"),
        pytest.param(_written_out_clip, True, id="written out"),
        pytest.param(
            partial(_written_out_clip, by_other_layer=True),
            False,
            id="bug (c): first layer clipped by the second's norm",
        ),
    ],
)
def test_clipping_scales_the_whole_gradient(clip, correct):
    _assert_verdict(check_clip, clip, correct)


# (d), (e) Adam against the closed form of Kingma & Ba (2015), Algorithm 1.


def _written_out_adam(
    params,
    gradient,
    state,
    *,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
    overwrite_moments=False,
    correction_from_zero=False,
    times_gradient=False,
):
    t = state.step if correction_from_zero else state.step + 1  # bug (d)
    m, v = state.first_moment, state.second_moment
    m[...] = beta_1 * m + (1 - beta_1) * gradient
    v[...] = beta_2 * v + (1 - beta_2) * gradient**2
    # With t = 0 the corrections divide by 0: that bug turns the step into nan.
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = m / (1 - beta_1**t)
        v_hat = v / (1 - beta_2**t)
        epsilon_hat = epsilon / np.sqrt(1 - beta_2**t)
        update = learning_rate * m_hat / (np.sqrt(v_hat) + epsilon_hat)
    if overwrite_moments:  # bug (d)
        m[...], v[...] = m_hat, v_hat
    if times_gradient:  # bug (e)
        update *= gradient
    params -= update
    state.step += 1
    return params


HYPERPARAMETERS = {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999}
EPSILON = 1e-8
N_STEPS = 6


def _gradients():
    rng = np.random.default_rng(2)
    # Coordinates of very different scales, changing from step to step.
    scales = np.logspace(-3, 2, 8)
    return [scales * rng.standard_normal(scales.size) for _ in range(N_STEPS)]


def check_adam_closed_form(step):
    """Parameters after each of several steps against the closed form.

    m_t = (1 - beta_1) sum_{i<=t} beta_1**(t-i) g_i (and v_t likewise with g**2)
    and p_t = p_{t-1} - lr sqrt(1 - beta_2**t) / (1 - beta_1**t) m_t /
    (sqrt(v_t) + epsilon), the paper's update with epsilon next to sqrt(v).
    """
    lr, beta_1, beta_2 = HYPERPARAMETERS.values()
    gradients = _gradients()
    initial = np.random.default_rng(3).standard_normal(gradients[0].size)
    params = initial.copy()
    state = AdamState(params.size, np.float64)
    expected = initial.copy()
    for t in range(1, N_STEPS + 1):
        seen = np.array(gradients[:t])
        decay_1 = beta_1 ** np.arange(t - 1, -1, -1)[:, None]
        decay_2 = beta_2 ** np.arange(t - 1, -1, -1)[:, None]
        m = (1 - beta_1) * (decay_1 * seen).sum(axis=0)
        v = (1 - beta_2) * (decay_2 * seen**2).sum(axis=0)
        step_size = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        expected -= step_size * m / (np.sqrt(v) + EPSILON)

        step(params, gradients[t - 1], state, **HYPERPARAMETERS, epsilon=EPSILON)

        assert_allclose(params, expected, rtol=1e-12, err_msg=f"step {t}")


def check_adam_first_step(step):
    """The first step moves every coordinate by about lr, whatever its scale."""
    gradient = np.logspace(-3, 3, 7) * np.array([1, -1, 1, 1, -1, -1, 1])
    params = np.zeros_like(gradient)
    state = AdamState(params.size, np.float64)

    step(params, gradient, state, **HYPERPARAMETERS, epsilon=EPSILON)

    assert_allclose(
        params, -HYPERPARAMETERS["learning_rate"] * np.sign(gradient), rtol=1e-3
    )


ADAM_STEPS = [
    pytest.param(adam_step, set(), id="package"),
    pytest.param(_written_out_adam, set(), id="written out"),
    pytest.param(
        partial(_written_out_adam, overwrite_moments=True),
        {"closed form"},
        id="bug (d): moments overwritten",
    ),
    pytest.param(
        partial(_written_out_adam, correction_from_zero=True),
        {"closed form", "first step"},
        id="bug (d): correction from t=0",
    ),
    pytest.param(
        partial(_written_out_adam, overwrite_moments=True, correction_from_zero=True),
        {"closed form", "first step"},
        id="bug (d): both",
    ),
    pytest.param(
        partial(_written_out_adam, times_gradient=True),
        {"closed form", "first step"},
        id="bug (e): times the gradient",
    ),
]


@pytest.mark.parametrize("step, rejected_by", ADAM_STEPS)
def test_adam_matches_its_closed_form(step, rejected_by):
    _assert_verdict(check_adam_closed_form, step, "closed form" not in rejected_by)


@pytest.mark.parametrize("step, rejected_by", ADAM_STEPS)
def test_first_adam_step_is_about_the_learning_rate(step, rejected_by):
    _assert_verdict(check_adam_first_step, step, "first step" not in rejected_by)


# The script that measures the case study.


@pytest.fixture
def case_study(load_benchmark):
    return load_benchmark("case_study")


def test_quick_run_writes_consistent_numbers(case_study, tmp_path, capsys):
    out = tmp_path / "case_study.json"

    assert case_study.main(["--quick", "--output", str(out)]) == 0

    table = capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["model"]["batch_size"] == 569
    studies = document["studies"]
    assert [(s["setting"], s["n_init"]) for s in studies] == [
        ("original", 1),
        ("long", 1),
        ("original", 5),
        ("long", 5),
    ]
    for study in studies:
        summary, runs = study["summary"], study["runs"]
        assert summary["n_seeds"] == len(runs) == 2
        assert [run["seed"] for run in runs] == [0, 1]
        accuracies = [run["train_accuracy"] for run in runs]
        assert_allclose(summary["train_accuracy"]["mean"], np.mean(accuracies))
        assert summary["train_accuracy"]["min"] == min(accuracies)
        assert summary["n_converged"] == sum(run["converged"] for run in runs)
        assert summary["n_minima"] == len(
            {run["minimum"] for run in runs if run["minimum"] is not None}
        )
        assert f"{study['setting']:<9} {study['n_init']:>6}" in table
    # The original budget of 50 full-batch epochs never converges.
    assert studies[0]["summary"]["n_iter_max"] == 50
    assert studies[0]["summary"]["n_converged"] == 0

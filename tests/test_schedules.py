import json
import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

from sklearn_adam_mlp._schedules import SCHEDULES, LearningRateSchedule

TORCH_COSINE = Path(__file__).parent / "torch_reference" / "cosine_schedule.json"


def _schedule(kind, learning_rate_init=0.01, power_t=0.5, n_epochs=10):
    return LearningRateSchedule(
        kind,
        learning_rate_init=learning_rate_init,
        power_t=power_t,
        n_epochs=n_epochs,
    )


@pytest.mark.parametrize("kind", SCHEDULES)
def test_first_epoch_uses_learning_rate_init(kind):
    schedule = _schedule(kind, learning_rate_init=0.003)
    assert schedule.learning_rate == 0.003
    assert schedule.start_epoch(epoch=0, samples_seen=0) == 0.003
    assert schedule.learning_rate == 0.003


def test_constant():
    schedule = _schedule("constant")
    for epoch in range(5):
        assert schedule.start_epoch(epoch=epoch, samples_seen=100 * epoch) == 0.01


@pytest.mark.parametrize("power_t", [0.25, 0.5, 1.0])
def test_invscaling_formula(power_t):
    schedule = _schedule("invscaling", learning_rate_init=0.1, power_t=power_t)
    for epoch, samples_seen in enumerate([0, 7, 150, 3000]):
        rate = schedule.start_epoch(epoch=epoch, samples_seen=samples_seen)
        assert isinstance(rate, float)
        assert_allclose(rate, 0.1 * (samples_seen + 1) ** -power_t, rtol=1e-14)
        assert schedule.learning_rate == rate


@pytest.mark.parametrize("n_epochs", [1, 2, 5, 200])
def test_cosine_formula(n_epochs):
    schedule = _schedule("cosine", learning_rate_init=0.2, n_epochs=n_epochs)
    rates = [
        schedule.start_epoch(epoch=epoch, samples_seen=0) for epoch in range(n_epochs)
    ]
    expected = [
        0.1 * (1 + math.cos(math.pi * epoch / n_epochs)) for epoch in range(n_epochs)
    ]
    assert_allclose(rates, expected, rtol=1e-14)
    assert rates[0] == 0.2
    # Decreasing, and positive up to the last epoch.
    assert np.all(np.diff(rates) < 0)
    assert rates[-1] > 0
    assert_allclose(rates[-1], 0.1 * (1 - math.cos(math.pi / n_epochs)), rtol=1e-9)


def test_cosine_holds_last_rate_after_n_epochs():
    schedule = _schedule("cosine", n_epochs=4)
    last = schedule.start_epoch(epoch=3, samples_seen=0)
    for epoch in (4, 5, 100):
        assert schedule.start_epoch(epoch=epoch, samples_seen=0) == last


def test_cosine_matches_recorded_torch():
    # torch.optim.lr_scheduler.CosineAnnealingLR(T_max=n_epochs, eta_min=0),
    # recorded by tests/torch_reference/generate.py.
    with open(TORCH_COSINE) as file:
        records = json.load(file)["records"]
    for record in records:
        schedule = _schedule(
            "cosine",
            learning_rate_init=record["learning_rate_init"],
            n_epochs=record["n_epochs"],
        )
        rates = [
            schedule.start_epoch(epoch=epoch, samples_seen=0)
            for epoch in range(record["n_epochs"])
        ]
        assert_allclose(rates, record["rates"], rtol=1e-12, atol=1e-17)


def test_adaptive_divides_by_five_until_1e_6():
    schedule = _schedule("adaptive", learning_rate_init=1e-3)
    expected = 1e-3
    for epoch in range(5):
        # The rate holds from epoch to epoch; only a plateau lowers it.
        assert schedule.start_epoch(epoch=2 * epoch, samples_seen=0) == expected
        assert schedule.start_epoch(epoch=2 * epoch + 1, samples_seen=9) == expected
        assert schedule.reduce_on_plateau() is True
        expected /= 5
    # 1e-3 / 5**5 = 3.2e-7: the last reduction was made from 1.6e-6 > 1e-6;
    # the next plateau stops training and leaves the rate as it is.
    assert schedule.learning_rate == expected
    assert_allclose(expected, 3.2e-7, rtol=1e-14)
    assert schedule.reduce_on_plateau() is False
    assert schedule.learning_rate == expected
    assert schedule.reduce_on_plateau() is False


@pytest.mark.parametrize("kind", ["constant", "invscaling", "cosine"])
def test_other_kinds_stop_on_plateau(kind):
    schedule = _schedule(kind)
    rate = schedule.start_epoch(epoch=3, samples_seen=300)
    assert schedule.reduce_on_plateau() is False
    assert schedule.learning_rate == rate


@pytest.mark.parametrize("kind", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("learning_rate_init", [0.1, 1e-3, 2e-6])
def test_matches_sklearn_sgd_schedules(kind, learning_rate_init):
    # MLPClassifier's _fit_stochastic: each epoch trains at
    # optimizer.learning_rate, then t_ += n_samples, iteration_ends(t_), and
    # on a plateau trigger_stopping. Plateaus here at every third epoch.
    n_samples = 37
    optimizer = SGDOptimizer(
        [], learning_rate_init=learning_rate_init, lr_schedule=kind, power_t=0.3
    )
    schedule = _schedule(kind, learning_rate_init=learning_rate_init, power_t=0.3)
    samples_seen = 0
    n_reductions = 0
    for epoch in range(60):
        rate = schedule.start_epoch(epoch=epoch, samples_seen=samples_seen)
        assert rate == optimizer.learning_rate
        samples_seen += n_samples
        optimizer.iteration_ends(samples_seen)
        if epoch % 3 == 2:
            stop = optimizer.trigger_stopping("", verbose=False)
            assert schedule.reduce_on_plateau() is not stop
            if stop:
                break
            n_reductions += 1
    # adaptive reduced several times then stopped; the others stopped at once.
    if kind == "adaptive":
        assert stop
        assert n_reductions == math.ceil(math.log(learning_rate_init / 1e-6, 5))
    else:
        assert epoch == 2


def test_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of.*'step'"):
        _schedule("step")

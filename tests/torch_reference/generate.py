"""Record torch.optim.Adam / AdamW trajectories for the test suite.

The suite compares ``adam_step(..., epsilon_placement='torch')`` with these
records (``tests/test_adam.py``) and the ``'cosine'`` learning-rate schedule
with ``torch.optim.lr_scheduler.CosineAnnealingLR`` (``tests/test_schedules.py``)
without needing torch. To regenerate, from the repository root, in an
environment with torch and numpy::

    python -m pip install torch numpy
    python tests/torch_reference/generate.py

It rewrites ``adam_steps.json`` and ``cosine_schedule.json`` next to this
file. Everything runs in float64 on the CPU, through torch's single-tensor
(``foreach=False``) implementation. Floats are written with ``repr``, so they
read back exactly.
"""

import json
import platform
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
N_PARAMS = 6
N_STEPS = 10
HYPERPARAMETERS = [
    # 1 - beta_1 < 0.5: torch's lerp takes its first form.
    {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
    # 1 - beta_1 >= 0.5: its second form; a large epsilon that matters.
    {"learning_rate": 0.1, "beta_1": 0.3, "beta_2": 0.8, "epsilon": 1e-3},
]
# (torch optimizer, weight_decay, amsgrad). Adam's own weight_decay is a
# coupled L2 term, which the package does not implement, so Adam runs with 0.
OPTIMIZERS = [
    ("Adam", 0.0, False),
    ("Adam", 0.0, True),
    ("AdamW", 0.0, False),
    ("AdamW", 0.1, False),
    ("AdamW", 0.1, True),
]
COSINE_LEARNING_RATE = 0.1
COSINE_N_EPOCHS = [1, 2, 7, 20]


def _gradients(seed):
    """Gradients of mixed scales and signs, large for 3 steps then small.

    The drop makes the second moment decrease, so AMSGrad departs from Adam.
    """
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 2, N_PARAMS)
    return [
        (10.0 if step < 3 else 1.0) * scales * rng.standard_normal(N_PARAMS)
        for step in range(N_STEPS)
    ]


def adam_trajectories(torch):
    """Run every optimizer on each set of hyperparameters; return the records."""
    records = []
    for seed, hyperparameters in enumerate(HYPERPARAMETERS):
        initial = np.random.default_rng(100 + seed).standard_normal(N_PARAMS)
        gradients = _gradients(seed)
        runs = []
        for name, weight_decay, amsgrad in OPTIMIZERS:
            param = torch.tensor(initial, dtype=torch.float64)
            optimizer = getattr(torch.optim, name)(
                [param],
                lr=hyperparameters["learning_rate"],
                betas=(hyperparameters["beta_1"], hyperparameters["beta_2"]),
                eps=hyperparameters["epsilon"],
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                foreach=False,
            )
            params = []
            for gradient in gradients:
                param.grad = torch.tensor(gradient, dtype=torch.float64)
                optimizer.step()
                params.append(param.tolist())
            state = optimizer.state[param]
            runs.append(
                {
                    "optimizer": name,
                    "weight_decay": weight_decay,
                    "amsgrad": amsgrad,
                    "params": params,
                    "first_moment": state["exp_avg"].tolist(),
                    "second_moment": state["exp_avg_sq"].tolist(),
                    "max_second_moment": (
                        state["max_exp_avg_sq"].tolist() if amsgrad else None
                    ),
                }
            )
        records.append(
            {
                "hyperparameters": hyperparameters,
                "initial_params": initial.tolist(),
                "gradients": [gradient.tolist() for gradient in gradients],
                "runs": runs,
            }
        )
    return records


def cosine_rates(torch):
    """Per-epoch rates of CosineAnnealingLR(T_max=n_epochs, eta_min=0)."""
    records = []
    for n_epochs in COSINE_N_EPOCHS:
        param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([param], lr=COSINE_LEARNING_RATE)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=n_epochs, eta_min=0.0
        )
        rates = []
        for _ in range(n_epochs):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        records.append(
            {
                "learning_rate_init": COSINE_LEARNING_RATE,
                "n_epochs": n_epochs,
                "rates": rates,
            }
        )
    return records


def _write(name, torch, records):
    document = {
        "generator": "tests/torch_reference/generate.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "records": records,
    }
    with open(HERE / name, "w") as file:
        json.dump(document, file, indent=1)
        file.write("\n")


def main():
    """Write both reference files."""
    # Imported here so that collecting this file (doctest-modules) never
    # needs torch.
    import torch

    torch.manual_seed(0)
    _write("adam_steps.json", torch, adam_trajectories(torch))
    _write("cosine_schedule.json", torch, cosine_rates(torch))


if __name__ == "__main__":
    main()

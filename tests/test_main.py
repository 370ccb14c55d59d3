import subprocess
import sys

import pytest

from sklearn_adam_mlp import __version__
from sklearn_adam_mlp.__main__ import compare, main


def test_compare_fits_both_models_identically():
    ours, theirs = compare(
        "iris",
        hidden_layer_sizes=(5,),
        max_iter=30,
        learning_rate=0.01,
        random_state=0,
    )
    assert ours["model"] == "AdamMLPClassifier"
    assert theirs["model"] == "MLPClassifier(adam)"
    # Same math, same seed: the same model, up to rounding.
    for key in ["train accuracy", "test accuracy", "epochs"]:
        assert ours[key] == theirs[key]
    assert ours["test log-loss"] == pytest.approx(theirs["test log-loss"], rel=1e-9)
    assert ours["fit seconds"] > 0


def test_main_prints_the_comparison(capsys):
    assert main(["--dataset", "wine", "--hidden", "4,3", "--max-iter", "15"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wine: hidden layers (4, 3), up to 15 epochs")
    assert "AdamMLPClassifier" in out and "MLPClassifier(adam)" in out
    assert "x as fast as MLPClassifier(adam)" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hidden", "0"], "expected positive integers"),
        (["--hidden", "a,b"], "expected positive integers"),
        (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    ],
)
def test_bad_arguments_exit_with_status_2(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_module_runs_as_a_program():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_adam_mlp", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == __version__

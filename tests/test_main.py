import subprocess
import sys

from sklearn_adam_mlp import __main__, __version__, _cli


def test_entry_point_is_the_command_line():
    # The console script sklearn-adam-mlp calls sklearn_adam_mlp.__main__:main.
    assert __main__.main is _cli.main


def test_module_runs_as_a_program():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_adam_mlp", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == __version__


def test_default_command_runs_as_a_program():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_adam_mlp", "--dataset", "iris"]
        + ["--hidden", "5", "--max-iter", "20"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("iris: hidden layers (5,), up to 20 epochs")
    assert lines[1].split() == [
        "model", "train", "acc", "test", "acc", "log-loss", "epochs", "fit", "s",
    ]  # fmt: skip
    assert lines[2].startswith("AdamMLPClassifier")
    assert lines[3].startswith("MLPClassifier(adam)")
    assert lines[4].startswith("speed: AdamMLPClassifier fits")
    assert result.stderr == ""

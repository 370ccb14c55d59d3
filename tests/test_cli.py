import importlib.util
import io
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import skops.io
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_adam_mlp import _cli
from sklearn_adam_mlp._cli import compare, main, progress_bar
from sklearn_adam_mlp._persistence import load_model


class WritesAFileWhenLoaded:
    """Stands for a class outside the allow-list whose loading runs code."""

    def __init__(self, marker):
        self.marker = marker

    def __setstate__(self, state):
        with open(state["marker"], "w") as marker:
            marker.write("code ran")
        self.__dict__.update(state)


def run(*args, cwd):
    """Run the command line in a new process, as a person does."""
    return subprocess.run(
        [sys.executable, "-m", "sklearn_adam_mlp", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def error_line(capsys):
    """The single line a failed command wrote on stderr."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def make_table(n=120, seed=0):
    """A CSV as people have them: missing values, text, booleans, text target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "count": rng.integers(0, 4, n).astype(float),
            "colour": rng.choice(["red", "green", "blue"], n),
            "flag": rng.choice([True, False], n),
        }
    )
    frame["label"] = np.where(
        frame["size"] + (frame["colour"] == "red") > 0.3, "yes", "no"
    )
    frame.loc[::7, "size"] = np.nan
    frame.loc[::11, "count"] = np.nan
    frame.loc[::5, "colour"] = None
    return frame


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli")
    make_table().to_csv(path / "train.csv", index=False)
    new = make_table(n=10, seed=1).drop(columns="label")
    new.loc[0, "colour"] = "purple"  # never seen in training
    new.to_csv(path / "new.csv", index=False)
    return path


# Converges on the table, without any warning.
CONVERGES = ["--hidden", "6", "--max-iter", "500", "--learning-rate", "0.05"]
CONVERGES += ["--param", "activation=tanh", "--param", "alpha=0.1", "--quiet"]
# Quicker, warning that it has not converged.
FIT = ["--hidden", "6", "--max-iter", "40", "--learning-rate", "0.01", "--quiet"]


@pytest.fixture(scope="module")
def fitted(workdir):
    """``fit`` run as a program: its result and the model file."""
    result = run(
        "fit", "train.csv", "--target", "label", *CONVERGES, "--save", "model.skops",
        cwd=workdir,
    )  # fmt: skip
    return result, workdir / "model.skops"


# compare, the default command


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


def test_compare_prints_the_table(capsys):
    argv = ["compare", "--dataset", "wine", "--hidden", "4,3", "--max-iter", "15"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("wine: hidden layers (4, 3), up to 15 epochs")
    assert "AdamMLPClassifier" in out and "MLPClassifier(adam)" in out
    assert "x as fast as MLPClassifier(adam)" in out


@pytest.mark.parametrize(
    "argv, dataset",
    [([], "digits"), (["--dataset", "wine"], "wine"), (["compare"], "digits")],
)
def test_without_a_command_compare_runs(argv, dataset, monkeypatch):
    seen = []
    monkeypatch.setattr(_cli, "run_compare", lambda args: seen.append(args) or 0)
    assert main(argv) == 0
    (args,) = seen
    assert args.dataset == dataset
    assert (args.hidden, args.max_iter, args.learning_rate) == ((100,), 200, 0.001)


# fit and predict


def test_fit_reports_and_saves(fitted):
    result, model_path = fitted
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(
        "train.csv: 120 rows, 4 feature columns (2 numeric, 2 categorical), "
        "target 'label' with 2 classes"
    )
    assert "held-out split, 30 rows:" in out
    for word in ["precision", "recall", "no", "yes", "accuracy"]:
        assert word in out
    assert "5-fold cross-validated accuracy (stratified, all 120 rows): 0." in out
    assert out.rstrip().endswith(
        "saved the pipeline fitted on the 90 training rows to model.skops"
    )
    assert model_path.is_file()
    assert result.stderr == ""  # no warning of any kind
    model = load_model(model_path)
    assert model.named_steps["classifier"].get_params()["hidden_layer_sizes"] == (6,)
    assert_array_equal(model.classes_, ["no", "yes"])


def test_predict_writes_predictions_and_probabilities(fitted, workdir):
    _, model_path = fitted
    result = run(
        "predict", model_path, "new.csv", "--proba", "--output", "out.csv",
        cwd=workdir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote 10 predictions to out.csv\n"
    written = pd.read_csv(workdir / "out.csv")
    assert list(written.columns) == ["prediction", "proba_no", "proba_yes"]
    new = pd.read_csv(workdir / "new.csv")
    model = load_model(model_path)
    assert_array_equal(written["prediction"], model.predict(new))
    assert_allclose(written[["proba_no", "proba_yes"]], model.predict_proba(new))


def test_predict_to_stdout_ignores_the_target(fitted, workdir, capsys, monkeypatch):
    _, model_path = fitted
    monkeypatch.chdir(workdir)
    assert main(["predict", str(model_path), "train.csv"]) == 0
    written = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(written.columns) == ["prediction"]
    train = pd.read_csv("train.csv")
    expected = load_model(model_path).predict(train.drop(columns="label"))
    assert_array_equal(written["prediction"], expected)


def test_fit_options_reach_the_estimator(workdir, capsys):
    # A rare class (3 rows) also means 3 folds instead of 5.
    table = make_table(n=60)
    table.loc[:2, "label"] = "rare"
    table.to_csv(workdir / "rare.csv", index=False)
    model = workdir / "params.skops"
    argv = ["fit", str(workdir / "rare.csv"), "--target", "label", *FIT]
    argv += ["--param", "activation=tanh", "--param", "alpha=1e-3"]
    argv += ["--param", "hidden_layer_sizes=(4, 2)", "--random-state", "3"]
    assert main([*argv, "--save", str(model)]) == 0
    out = capsys.readouterr().out
    assert "3-fold cross-validated accuracy (stratified, all 60 rows; 3 folds" in out
    assert "the rarest class, 'rare', has 3 rows" in out
    params = load_model(model).named_steps["classifier"].get_params()
    assert params["activation"] == "tanh"
    assert params["alpha"] == 1e-3
    assert params["hidden_layer_sizes"] == (4, 2)
    assert params["random_state"] == 3


def test_joblib_works_with_a_warning(workdir, capsys):
    model = str(workdir / "model.joblib")
    train = str(workdir / "train.csv")
    assert main(["fit", train, "--target", "label", *FIT, "--save", model]) == 0
    err = capsys.readouterr().err
    assert f"warning: saving '{model}' as a pickle: a pickle runs code" in err
    assert main(["predict", model, str(workdir / "new.csv")]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        f"warning: loading '{model}' as a pickle: a pickle runs code when it is "
        "loaded, so load only files you made or trust; .skops files do not.\n"
    )
    assert len(pd.read_csv(io.StringIO(captured.out))) == 10


def test_predict_refuses_a_file_that_runs_code(tmp_path, workdir):
    marker = tmp_path / "marker"
    crafted = tmp_path / "crafted.skops"
    skops.io.dump({"payload": WritesAFileWhenLoaded(str(marker))}, crafted)
    result = run("predict", crafted, "new.csv", cwd=workdir)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: refusing to load '{crafted}'")
    refused = f"not trusted: {__name__}.WritesAFileWhenLoaded. Nothing was loaded."
    assert refused in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not marker.exists()


# study


def test_study_summary():
    study = pd.DataFrame(
        {
            "final_loss": [0.1, 0.3, 0.5, 0.1],
            "train_accuracy": [1.0, 0.5, 0.5, 1.0],
            "converged": [True, True, False, True],
            "minimum": pd.array([0, 1, None, 0], dtype="Int64"),
        }
    )
    summary = _cli.summarize_study(study)
    assert summary["final training loss", "mean"] == pytest.approx(0.25)
    assert summary["final training loss", "std"] == pytest.approx(
        np.std([1, 3, 5, 1]) / 10
    )
    assert summary["final training loss", "min"] == 0.1
    assert summary["training accuracy", "max"] == 1.0
    assert summary["runs", "converged"] == "3/4"
    assert summary["runs", "minima"] == 2


def test_study_of_the_case_study_setting(tmp_path, capsys):
    plot = tmp_path / "curves.png"
    argv = ["study", "--seeds", "3", "--n-init", "2", "--max-iter", "15"]
    assert main([*argv, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "restart study on breast cancer data, standardised (569 rows), 3 seeds:"
    )
    assert "activation='logistic'" in out and "hidden_layer_sizes=(3,)" in out
    assert "final training loss" in out and "training accuracy" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("n_init=")]
    assert [row[0] for row in rows] == ["n_init=1", "n_init=2"]
    # 15 epochs at learning rate 0.001: no run has converged, no minimum.
    assert [row[-2:] for row in rows] == [["0/3", "0"], ["0/3", "0"]]
    assert "6 of 6 runs stopped at max_iter=15 before converging" in out
    assert out.rstrip().endswith(f"wrote the loss curves to {plot}")
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_study_of_a_csv(workdir, capsys):
    argv = ["study", str(workdir / "train.csv"), "--target", "label", "--seeds", "2"]
    argv += ["--n-init", "3", "--max-iter", "10", "--hidden", "4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "target 'label', columns prepared as by fit (120 rows), 2 seeds:" in out
    rows = [line.split()[0] for line in out.splitlines() if line.startswith("n_")]
    assert rows == ["n_init=1", "n_init=3"]


# mistakes: one line on stderr, status 2


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad")
    (path / "empty.csv").write_text("")
    (path / "header.csv").write_text("a,b\n")
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=80), "price": rng.normal(size=80)}).to_csv(
        path / "regression.csv", index=False
    )
    pd.DataFrame({"x": range(10), "y": ["a"] * 9 + ["b"]}).to_csv(
        path / "single.csv", index=False
    )
    pd.DataFrame({"x": range(10), "y": ["a"] * 10}).to_csv(
        path / "one_class.csv", index=False
    )
    pd.DataFrame({"x": range(10)}).to_csv(path / "other.csv", index=False)
    return path


GOOD = ["{good}", "--target", "label", "--save", "{save}", "--quiet"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "absent.csv", *GOOD[1:]], "error: no such file: 'absent.csv'"),
        (["fit", "{bad}/empty.csv", *GOOD[1:]], "empty.csv' is empty"),
        (["fit", "{bad}/header.csv", *GOOD[1:]], "header.csv' has a header but no"),
        (
            ["fit", *GOOD, "--target", "nope"],
            "no column 'nope' in '{good}'; its columns are: size, count, colour, "
            "flag, label",
        ),
        (
            ["fit", "{bad}/regression.csv", *GOOD[1:], "--target", "price"],
            "column 'price' has 80 distinct numeric values: it looks like a "
            "regression target",
        ),
        (
            ["fit", "{bad}/single.csv", *GOOD[1:], "--target", "y"],
            "class 'b' of column 'y' has a single row",
        ),
        (
            ["fit", "{bad}/one_class.csv", *GOOD[1:], "--target", "y"],
            "column 'y' holds a single class ('a')",
        ),
        (
            ["fit", *GOOD, "--param", "alpha=-1"],
            "error: The 'alpha' parameter of AdamMLPClassifier must be a float",
        ),
        (
            ["fit", *GOOD, "--param", "activation=softplus"],
            "The 'activation' parameter of AdamMLPClassifier must be a str among",
        ),
        (["fit", *GOOD, "--param", "alphas=1"], "has no parameter 'alphas'"),
        (["fit", *GOOD, "--param", "alpha"], "expected NAME=VALUE, got 'alpha'"),
        (["fit", *GOOD, "--hidden", "0"], "argument --hidden: expected positive"),
        (["fit", *GOOD, "--hidden", "64,a"], "expected positive integers"),
        (["fit", *GOOD, "--test-size", "1.5"], "expected a fraction between 0"),
        (["fit", *GOOD, "--save", "m.txt"], "--save: cannot tell the format of"),
        (["fit", *GOOD, "--save", "{bad}/no/m.skops"], "--save: no such directory"),
        (["fit", "{good}", "--save", "{save}"], "arguments are required: --target"),
        (["predict", "absent.skops", "{good}"], "no such model file: 'absent.skops'"),
        (["predict", "{good}", "{good}"], "cannot tell the format of '{good}'"),
        (["predict", "{model}", "{bad}/other.csv"], "lacks columns the model was"),
        (["study", "--target", "y"], "error: --target needs DATA.csv"),
        (["study", "{good}"], "error: DATA.csv needs --target COLUMN"),
        (["study", "--plot", "curves.jpg"], "--plot: expected a .png file"),
        (["study", "--plot", "{bad}/no/c.png"], "--plot: no such directory"),
        (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["--max-iter", "0"], "expected a positive integer, got '0'"),
        (["train"], "argument COMMAND: invalid choice: 'train'"),
    ],
)
def test_mistakes_print_one_line_and_exit_2(
    argv, message, bad_files, workdir, fitted, capsys
):
    names = {
        "bad": bad_files,
        "good": workdir / "train.csv",
        "model": fitted[1],
        "save": bad_files / "model.skops",
    }
    assert main([word.format(**names) for word in argv]) == 2
    assert message.format(**names) in error_line(capsys)
    assert not names["save"].exists()


@pytest.mark.parametrize(
    "command, words",
    [
        ([], ["compare", "fit", "predict", "study", "--version"]),
        (["compare"], ["--dataset", "--hidden", "--threads"]),
        (["fit"], ["--target", "--save", "--test-size", "--param", "--n-init"]),
        (["predict"], ["MODEL", "--proba", "--output"]),
        (["study"], ["--seeds", "--n-init", "--plot", "--target"]),
    ],
)
def test_every_command_has_help(command, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    for word in words:
        assert word in out


# the progress bar


class RecordsCallbacks:
    def __init__(self):
        self.callbacks = []

    def set_callbacks(self, *callbacks):
        self.callbacks = list(callbacks)
        return self


def test_progress_bar_is_attached_only_while_fitting():
    supported = all(
        importlib.util.find_spec(name) is not None
        for name in ("sklearn.callback", "rich")
    )
    estimator = RecordsCallbacks()
    with progress_bar(estimator, quiet=False):
        attached = [type(callback).__name__ for callback in estimator.callbacks]
    assert attached == (["ProgressBar"] if supported else [])
    assert estimator.callbacks == []
    with progress_bar(estimator, quiet=True):
        assert estimator.callbacks == []
    plain = object()  # no set_callbacks: nothing to do, nothing raised
    with progress_bar(plain, quiet=False):
        pass


def test_fit_with_the_progress_bar_saves_no_callback(workdir, capsys):
    path = workdir / "progress.skops"
    loud = [word for word in FIT if word != "--quiet"]
    train = str(workdir / "train.csv")
    assert main(["fit", train, "--target", "label", *loud, "--save", str(path)]) == 0
    assert "does not support callbacks" not in capsys.readouterr().err
    model = load_model(path)
    for estimator in (model, model.named_steps["classifier"]):
        assert not [name for name in vars(estimator) if "callback" in name]


def test_warnings_are_shown_once_per_category(capsys):
    with _cli._reported_warnings():
        for epochs in (10, 20, 30):
            warnings.warn(
                f"slow after {epochs} epochs", ConvergenceWarning, stacklevel=1
            )
        warnings.warn("pickle", UserWarning, stacklevel=1)
        warnings.warn("pickle", UserWarning, stacklevel=1)
        warnings.warn("once", FutureWarning, stacklevel=1)
    assert capsys.readouterr().err == (
        "warning: slow after 10 epochs (and 2 more like it)\n"
        "warning: pickle (2 times)\n"
        "warning: once\n"
    )

import sys
import warnings
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_adam_mlp import AdamMLPClassifier
from sklearn_adam_mlp._out_of_core import partial_fit_blocks

# The accuracy that partial_fit_blocks promises in its docstring.
ACCURACY_TOLERANCE = 0.02
N_BLOCKS = 20
BLOCK_ROWS = 200
N_EPOCHS = 10
SETTINGS = dict(
    hidden_layer_sizes=(32,),
    batch_size=50,
    tol=0.0,
    n_iter_no_change=1000,
    random_state=0,
)


@pytest.fixture(scope="module")
def split_data():
    X, y = make_classification(
        n_samples=N_BLOCKS * BLOCK_ROWS + 1000,
        n_features=20,
        n_informative=10,
        n_classes=3,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    return train_test_split(
        X, y, train_size=N_BLOCKS * BLOCK_ROWS, stratify=y, random_state=0
    )


@pytest.fixture(scope="module")
def in_memory_accuracy(split_data):
    X_train, X_test, y_train, y_test = split_data
    model = AdamMLPClassifier(max_iter=N_EPOCHS, **SETTINGS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    accuracy = model.score(X_test, y_test)
    # Far from chance (1/3) and from perfect, so that the comparison means something.
    assert 0.7 < accuracy < 0.95
    return accuracy


def _small_data(n_samples=300, seed=0):
    return make_classification(
        n_samples=n_samples,
        n_features=5,
        n_classes=3,
        n_informative=3,
        random_state=seed,
    )


def test_dask_array_blocks_reach_in_memory_accuracy(split_data, in_memory_accuracy):
    da = pytest.importorskip("dask.array")
    X_train, X_test, y_train, y_test = split_data
    X_lazy = da.from_array(X_train, chunks=(BLOCK_ROWS, -1))
    assert X_lazy.numblocks == (N_BLOCKS, 1)

    model = partial_fit_blocks(
        AdamMLPClassifier(**SETTINGS),
        X_lazy,
        y_train,
        classes=np.unique(y_train),
        n_epochs=N_EPOCHS,
        random_state=0,
    )

    assert model.n_iter_ == N_BLOCKS * N_EPOCHS
    accuracy = model.score(X_test, y_test)
    assert abs(accuracy - in_memory_accuracy) <= ACCURACY_TOLERANCE


def test_csv_chunks_reach_in_memory_accuracy(split_data, in_memory_accuracy, tmp_path):
    X_train, X_test, y_train, y_test = split_data
    columns = [f"x{j}" for j in range(X_train.shape[1])]
    path = tmp_path / "train.csv"
    pd.DataFrame(X_train, columns=columns).assign(target=y_train).to_csv(
        path, index=False
    )

    def read_chunks():
        for chunk in pd.read_csv(path, chunksize=BLOCK_ROWS):
            yield chunk.drop(columns="target"), chunk["target"]

    model = partial_fit_blocks(
        AdamMLPClassifier(**SETTINGS),
        read_chunks,
        classes=np.unique(y_train),
        n_epochs=N_EPOCHS,
    )

    assert model.n_iter_ == N_BLOCKS * N_EPOCHS
    assert_array_equal(model.feature_names_in_, columns)
    accuracy = model.score(pd.DataFrame(X_test, columns=columns), y_test)
    assert abs(accuracy - in_memory_accuracy) <= ACCURACY_TOLERANCE


def _partial_fit_loop(X, y, bounds, *, n_epochs, sample_weight=None):
    model = AdamMLPClassifier((8,), batch_size=16, random_state=0)
    for _ in range(n_epochs):
        for start, stop in pairwise(bounds):
            weights = None if sample_weight is None else sample_weight[start:stop]
            model.partial_fit(
                X[start:stop], y[start:stop], classes=[0, 1, 2], sample_weight=weights
            )
    return model


@pytest.mark.parametrize("weighted", [False, True])
def test_dask_blocks_in_order_are_a_partial_fit_loop(weighted):
    da = pytest.importorskip("dask.array")
    X, y = _small_data()
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    row_chunks = (50, 70, 30, 90, 60)
    bounds = np.cumsum((0, *row_chunks))
    expected = _partial_fit_loop(
        X, y, bounds, n_epochs=2, sample_weight=sample_weight if weighted else None
    )

    # Columns split in two, y and the weights chunked unlike X: all realigned.
    X_lazy = da.from_array(X, chunks=(row_chunks, 3))
    y_lazy = da.from_array(y, chunks=100)
    model = partial_fit_blocks(
        AdamMLPClassifier((8,), batch_size=16, random_state=0),
        X_lazy,
        y_lazy,
        sample_weight=da.from_array(sample_weight, chunks=45) if weighted else None,
        classes=[0, 1, 2],
        n_epochs=2,
        shuffle_blocks=False,
    )

    assert_array_equal(model._params, expected._params)
    assert model.loss_curve_ == expected.loss_curve_


def test_in_memory_targets_are_split_at_the_blocks():
    da = pytest.importorskip("dask.array")
    X, y = _small_data()
    sample_weight = np.linspace(0.5, 2.0, len(y))
    row_chunks = (100, 80, 120)
    expected = _partial_fit_loop(
        X, y, np.cumsum((0, *row_chunks)), n_epochs=1, sample_weight=sample_weight
    )

    model = partial_fit_blocks(
        AdamMLPClassifier((8,), batch_size=16, random_state=0),
        da.from_array(X, chunks=(row_chunks, -1)),
        pd.Series(y, index=np.arange(len(y))[::-1]),
        sample_weight=list(sample_weight),
        classes=[0, 1, 2],
        shuffle_blocks=False,
    )

    assert_array_equal(model._params, expected._params)


def test_one_unshuffled_block_is_fit():
    X, y = _small_data()
    settings = dict(
        hidden_layer_sizes=(8,), batch_size=16, shuffle=False, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = AdamMLPClassifier(max_iter=4, tol=0, **settings).fit(X, y)

    model = partial_fit_blocks(
        AdamMLPClassifier(**settings), [(X, y)], classes=[0, 1, 2], n_epochs=4
    )

    assert_array_equal(model._params, expected._params)
    assert model.loss_curve_ == expected.loss_curve_


def _logged_dask_array(X, row_chunks, log):
    """A dask array whose blocks append their index to ``log`` when computed."""
    import dask
    import dask.array as da

    def load(index, start, stop):
        log.append(index)
        return X[start:stop]

    bounds = np.cumsum((0, *row_chunks))
    return da.concatenate(
        [
            da.from_delayed(
                dask.delayed(load)(index, start, stop),
                shape=(stop - start, X.shape[1]),
                dtype=X.dtype,
            )
            for index, (start, stop) in enumerate(pairwise(bounds))
        ]
    )


@pytest.mark.parametrize("shuffle_blocks", [False, True])
def test_dask_blocks_are_loaded_one_at_a_time(shuffle_blocks, monkeypatch):
    pytest.importorskip("dask.array")
    X, y = _small_data()
    row_chunks = (60, 60, 60, 60, 60)
    log = []
    model = AdamMLPClassifier((8,), random_state=0)
    calls = []
    partial_fit = model.partial_fit

    def spy(X_block, y_block, **kwargs):
        calls.append((len(log), type(X_block), X_block.shape, y_block.shape))
        return partial_fit(X_block, y_block, **kwargs)

    monkeypatch.setattr(model, "partial_fit", spy)
    n_epochs = 3
    partial_fit_blocks(
        model,
        _logged_dask_array(X, row_chunks, log),
        y,
        classes=[0, 1, 2],
        n_epochs=n_epochs,
        shuffle_blocks=shuffle_blocks,
        random_state=0,
    )

    # The k-th partial_fit call sees exactly k loaded blocks: nothing ahead.
    n_calls = len(row_chunks) * n_epochs
    assert calls == [
        (k + 1, np.ndarray, (60, X.shape[1]), (60,)) for k in range(n_calls)
    ]
    epochs = [log[i : i + len(row_chunks)] for i in range(0, n_calls, 5)]
    assert all(sorted(epoch) == list(range(len(row_chunks))) for epoch in epochs)
    if shuffle_blocks:
        assert len({tuple(epoch) for epoch in epochs}) > 1
    else:
        assert all(epoch == list(range(len(row_chunks))) for epoch in epochs)


def test_shuffled_blocks_are_reproducible():
    da = pytest.importorskip("dask.array")
    X, y = _small_data()
    X_lazy = da.from_array(X, chunks=(50, -1))

    def train(random_state):
        return partial_fit_blocks(
            AdamMLPClassifier((8,), random_state=0),
            X_lazy,
            y,
            classes=[0, 1, 2],
            n_epochs=2,
            random_state=random_state,
        )._params

    assert_array_equal(train(0), train(0))
    assert not np.array_equal(train(0), train(1))


def test_lazy_parts_of_a_block_are_computed_together():
    dask = pytest.importorskip("dask")
    X, y = _small_data()
    bounds = np.arange(0, 301, 100)
    loads = []

    def load(start, stop):
        loads.append(start)
        return pd.DataFrame(X[start:stop]).assign(target=y[start:stop])

    def lazy_blocks():
        # As the partitions of a dask DataFrame read from one file would be.
        for start, stop in pairwise(bounds):
            frame = dask.delayed(load)(start, stop)
            yield frame.drop(columns="target"), frame["target"]

    model = partial_fit_blocks(
        AdamMLPClassifier((8,), random_state=0),
        lazy_blocks,
        classes=[0, 1, 2],
        n_epochs=2,
    )

    assert loads == [0, 100, 200, 0, 100, 200]
    assert model.n_iter_ == 6


def test_weighted_tuples_are_passed_on():
    X, y = _small_data()
    sample_weight = np.linspace(0.5, 2.0, len(y))
    bounds = np.array([0, 150, 300])
    expected = _partial_fit_loop(X, y, bounds, n_epochs=2, sample_weight=sample_weight)

    blocks = [
        (X[start:stop], y[start:stop], sample_weight[start:stop])
        for start, stop in pairwise(bounds)
    ]
    model = partial_fit_blocks(
        AdamMLPClassifier((8,), batch_size=16, random_state=0),
        blocks,
        classes=[0, 1, 2],
        n_epochs=2,
    )

    assert_array_equal(model._params, expected._params)


def test_training_continues_from_a_fitted_model():
    X, y = _small_data()
    blocks = [(X[:150], y[:150]), (X[150:], y[150:])]
    expected = AdamMLPClassifier((8,), random_state=0)
    for X_block, y_block in blocks * 2:
        expected.partial_fit(X_block, y_block, classes=[0, 1, 2])

    model = partial_fit_blocks(
        AdamMLPClassifier((8,), random_state=0), blocks, classes=[0, 1, 2]
    )
    model = partial_fit_blocks(model, blocks)

    assert_array_equal(model._params, expected._params)


@pytest.mark.parametrize(
    "estimator, weights",
    [
        (MLPClassifier((8,), random_state=0), lambda model: model.coefs_),
        (SGDClassifier(random_state=0), lambda model: [model.coef_]),
    ],
    ids=["MLPClassifier", "SGDClassifier"],
)
def test_other_partial_fit_classifiers(estimator, weights):
    X, y = _small_data()
    blocks = [(X[:150], y[:150]), (X[150:], y[150:])]
    expected = clone(estimator)
    for X_block, y_block in blocks * 2:
        expected.partial_fit(X_block, y_block, classes=[0, 1, 2])

    model = partial_fit_blocks(clone(estimator), blocks, classes=[0, 1, 2], n_epochs=2)

    for got, want in zip(weights(model), weights(expected), strict=True):
        assert_array_equal(got, want)


def test_plain_iterables_do_not_import_dask(monkeypatch):
    # None in sys.modules makes any import of dask fail.
    for name in [name for name in sys.modules if name.split(".")[0] == "dask"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask", None)
    X, y = _small_data()

    model = partial_fit_blocks(
        AdamMLPClassifier((8,), random_state=0),
        [(X[:150], y[:150]), (X[150:], y[150:])],
        classes=[0, 1, 2],
        n_epochs=2,
    )

    assert model.n_iter_ == 4


def test_an_iterator_is_read_once():
    X, y = _small_data()
    blocks = iter([(X[:150], y[:150]), (X[150:], y[150:])])
    with pytest.raises(ValueError, match="n_epochs=2 reads the blocks more than once"):
        partial_fit_blocks(
            AdamMLPClassifier((8,)), blocks, classes=[0, 1, 2], n_epochs=2
        )


@pytest.mark.parametrize(
    "X, kwargs, message",
    [
        ("blocks", {"y": "y"}, "only accepted with a dask array X"),
        ("array", {"y": "y"}, "only accepted with a dask array X"),
        (3, {}, "X must be a dask array, an iterable"),
        ("array", {}, "Each block must be a tuple .* got a ndarray"),
        ("triples4", {}, "got a tuple of length 4"),
    ],
)
def test_invalid_blocks_are_refused(X, kwargs, message):
    X_array, y = _small_data()
    values = {
        "blocks": [(X_array, y)],
        "array": X_array,
        "triples4": [(X_array, y, y, y)],
        "y": y,
    }
    X = values.get(X, X) if isinstance(X, str) else X
    kwargs = {key: values[value] for key, value in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        partial_fit_blocks(AdamMLPClassifier((8,)), X, classes=[0, 1, 2], **kwargs)


def test_dask_targets_must_match_the_rows():
    da = pytest.importorskip("dask.array")
    X, y = _small_data()
    X_lazy = da.from_array(X, chunks=(100, -1))
    with pytest.raises(ValueError, match="y is required"):
        partial_fit_blocks(AdamMLPClassifier((8,)), X_lazy, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="y has 299 rows but X has 300"):
        partial_fit_blocks(AdamMLPClassifier((8,)), X_lazy, y[1:], classes=[0, 1, 2])
    with pytest.raises(ValueError, match="must be 2-D"):
        partial_fit_blocks(AdamMLPClassifier((8,)), X_lazy[:, 0], y, classes=[0, 1, 2])


def test_early_stopping_is_refused():
    X, y = _small_data()
    with pytest.raises(ValueError, match="does not support early_stopping=True"):
        partial_fit_blocks(
            AdamMLPClassifier((8,), early_stopping=True), [(X, y)], classes=[0, 1, 2]
        )


@pytest.mark.parametrize(
    "estimator, kwargs, message",
    [
        (AdamMLPClassifier(), {"n_epochs": 0}, "'n_epochs' parameter"),
        (AdamMLPClassifier(), {"shuffle_blocks": "yes"}, "'shuffle_blocks'"),
        (LinearRegression(), {}, "implementing 'partial_fit'"),
    ],
)
def test_invalid_parameters_are_refused(estimator, kwargs, message):
    X, y = _small_data()
    with pytest.raises(ValueError, match=message):
        partial_fit_blocks(estimator, [(X, y)], classes=[0, 1, 2], **kwargs)


def test_missing_classes_are_reported_by_partial_fit():
    X, y = _small_data()
    with pytest.raises(ValueError, match="classes must be passed"):
        partial_fit_blocks(AdamMLPClassifier((8,)), [(X, y)])

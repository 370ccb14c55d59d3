"""Training diagnostics: inactive units, stalls, gradient checks, restart studies.

The first two functions are cheap enough for the training loop, which calls
them; the others fit or evaluate an estimator on the user's data to answer
"is my gradient right?" and "is Adam stuck in a local minimum?".
"""

import math
import warnings

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

# A logistic unit is saturated when its output is within this of 0 or 1: its
# derivative A (1 - A) is then below 0.0099, under 4% of its maximum 0.25.
LOGISTIC_MARGIN = 0.01
# A tanh unit is saturated when |A| exceeds this: its derivative 1 - A**2 is
# then below 0.0199, under 2% of its maximum 1.
TANH_THRESHOLD = 0.99

# stall_message: the number of last epochs whose progress is measured ...
_WINDOW = 10
# ... a loss is "far from zero" above this fraction of log(n_classes) ...
_FAR_FROM_ZERO = 0.25
# ... and "flat" when it fell by less than this fraction over the window.
_FLAT = 0.01
# Evidence of a stall: a hidden layer with at least this fraction of units
# inactive, a gradient norm this many times below its largest value, inputs
# whose largest column root-mean-square is outside this range.
_INACTIVE = 0.5
_VANISHED = 1e-3
_INPUT_SCALE_RANGE = (0.1, 3.0)


class StalledTrainingWarning(ConvergenceWarning):
    """Warning that training stalled, with the likely causes and what to try.

    Raised once at the end of :meth:`AdamMLPClassifier.fit` when the training
    loss stayed far from zero and either stopped falling (with units saturated
    or dead, gradients vanished, inputs not standardised, or too few hidden
    units as evidence) or was still falling, but slowly, when ``max_iter``
    ended the fit. The message comes from :func:`stall_message`. A subclass of
    :class:`sklearn.exceptions.ConvergenceWarning`, so the filters set on
    that class apply to it as well; when ``max_iter`` ends a stalled fit, it
    replaces the plain ``ConvergenceWarning`` (a fit warns once at most).

    See Also
    --------
    stall_message : Decides whether training stalled and writes the message.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import load_wine
    >>> from sklearn_adam_mlp import AdamMLPClassifier, StalledTrainingWarning
    >>> X, y = load_wine(return_X_y=True)  # not standardised
    >>> model = AdamMLPClassifier(learning_rate_init=0.1, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = model.fit(X, y)
    >>> [warning.category.__name__ for warning in caught]
    ['StalledTrainingWarning']
    >>> print(caught[0].message)
    Training stalled: the training loss stayed at 1.11 for the last 10 epochs ...
    """


# Each returns a boolean per unit: inactive on every row of the batch.


def _by_unit(A):
    # numpy reduces a narrow C-ordered array over its rows one short row at a
    # time; a few units are faster as contiguous rows of their own.
    return np.ascontiguousarray(A.T) if A.shape[1] <= 16 else A.T


def _saturated_logistic(A):
    distance = np.subtract(_by_unit(A), 0.5)
    np.abs(distance, out=distance)
    return distance.min(axis=1) >= 0.5 - LOGISTIC_MARGIN


def _saturated_tanh(A):
    return np.abs(_by_unit(A)).min(axis=1) >= TANH_THRESHOLD


def _dead_relu(A):
    return _by_unit(A).max(axis=1) <= 0


_INACTIVE_UNITS = {
    "logistic": _saturated_logistic,
    "tanh": _saturated_tanh,
    "relu": _dead_relu,
}

_INACTIVE_WORDS = {
    "logistic": (
        "saturated (output within 0.01 of 0 or 1 on every sample of the last "
        "mini-batch), so almost no gradient flows through them"
    ),
    "tanh": (
        "saturated (|output| above 0.99 on every sample of the last "
        "mini-batch), so almost no gradient flows through them"
    ),
    "relu": (
        "dead (output 0 on every sample of the last mini-batch), so no "
        "gradient flows through them; a smaller learning_rate_init keeps "
        "units alive"
    ),
}


def inactive_unit_fractions(hidden_activations, activation):
    """Fraction of the units of each hidden layer that are inactive on a batch.

    A unit is inactive when its derivative is (nearly) zero on every row of
    the batch, so that it passes (almost) no gradient back and learns
    (almost) nothing from that batch.

    Parameters
    ----------
    hidden_activations : list of ndarray of shape (n_rows, n_units)
        Outputs ``A = f(Z)`` of the hidden layers on one batch, in order.
        Not modified.

    activation : {'identity', 'logistic', 'tanh', 'relu'}
        The hidden activation ``f``.

    Returns
    -------
    fractions : ndarray of shape (n_hidden_layers,)
        For each hidden layer, the fraction (float64, in [0, 1]) of its units
        inactive on every row. 0 for a batch without rows.

    Notes
    -----
    Inactive means, on every row of the batch:

    - ``'logistic'``: saturated, ``A <= 0.01`` or ``A >= 0.99`` (``|Z|`` at
      least 4.6), where the derivative ``A (1 - A)`` is below 0.0099;
    - ``'tanh'``: saturated, ``|A| >= 0.99`` (``|Z|`` at least 2.65), where
      the derivative ``1 - A**2`` is below 0.0199;
    - ``'relu'``: dead, ``A == 0``, where the derivative is 0;
    - ``'identity'``: never (the derivative is 1).

    A unit saturated towards 0 on some rows and towards 1 on others counts as
    inactive. The cost is one reduction over the batch per layer (and, for
    logistic and tanh, one temporary of the batch's size), so the training
    loop calls it once per epoch, on the epoch's last mini-batch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adam_mlp._diagnostics import inactive_unit_fractions
    >>> A = np.array([[0.001, 0.5, 0.999, 0.995],
    ...               [0.002, 0.9, 0.998, 0.003]])
    >>> inactive_unit_fractions([A], "logistic")
    array([0.75])
    >>> inactive_unit_fractions([np.array([[0.0, 1.0], [0.0, 0.0]])], "relu")
    array([0.5])
    """
    fractions = np.zeros(len(hidden_activations), dtype=np.float64)
    if activation == "identity":
        return fractions
    if activation not in _INACTIVE_UNITS:
        raise ValueError(
            "activation must be one of 'identity', 'logistic', 'tanh', 'relu'; "
            f"got {activation!r}."
        )
    inactive = _INACTIVE_UNITS[activation]
    for layer, A in enumerate(hidden_activations):
        if A.shape[0] > 0:
            fractions[layer] = np.count_nonzero(inactive(A)) / A.shape[1]
    return fractions


def _column_scales(X):
    """Root-mean-square of each column of ``X``, dense or sparse, in float64."""
    # Overflow to inf only happens for absurd scales, which inf reports fine.
    with np.errstate(over="ignore"):
        if sp.issparse(X):
            squares = X.copy()
            squares.data = squares.data.astype(np.float64) ** 2
            sums = np.asarray(squares.sum(axis=0)).ravel()
        else:
            X = np.asarray(X)
            sums = np.einsum("ij,ij->j", X, X, dtype=np.float64)
    return np.sqrt(sums / max(X.shape[0], 1))


def _causes(
    X, activation, hidden_layer_sizes, n_classes, inactive_units_curve, gradients
):
    """List, as phrases, the likely causes of a stall that the records show."""
    causes = []
    scales = _column_scales(X)
    if scales.size:
        largest = float(scales.max())
        low, high = _INPUT_SCALE_RANGE
        if largest > high:
            causes.append(
                "the inputs are not standardised (the largest column "
                f"root-mean-square is {largest:.3g}; scale them, for example "
                "with sklearn.preprocessing.StandardScaler in a pipeline)"
            )
        elif largest < low:
            causes.append(
                "the inputs are not standardised (every column root-mean-square "
                f"is at most {largest:.3g}; scale them, for example with "
                "sklearn.preprocessing.StandardScaler in a pipeline)"
            )
    if inactive_units_curve is not None and len(inactive_units_curve):
        for layer, fraction in enumerate(np.asarray(inactive_units_curve[-1])):
            if fraction >= _INACTIVE and activation in _INACTIVE_WORDS:
                causes.append(
                    f"{fraction:.0%} of the units of hidden layer {layer + 1} are "
                    f"{_INACTIVE_WORDS[activation]}"
                )
    if gradients.size and np.all(np.isfinite(gradients)):
        largest, last = float(gradients.max()), float(gradients[-1])
        if last < _VANISHED * largest:
            causes.append(
                f"the gradient norm fell to {last:.3g}, from {largest:.3g} at "
                "most: a plateau or a poor local minimum"
            )
    for layer, units in enumerate(hidden_layer_sizes):
        if units < n_classes:
            causes.append(
                f"hidden layer {layer + 1} has {units} units, fewer than the "
                f"{n_classes} classes: too few hidden units, use more"
            )
    return causes


def stall_message(
    *,
    loss_curve,
    gradient_norm_curve,
    inactive_units_curve,
    X,
    activation,
    learning_rate_init,
    hidden_layer_sizes,
    n_classes,
):
    """Decide whether training stalled, and say why and what to try.

    Parameters
    ----------
    loss_curve : sequence of float
        Training loss after each epoch.

    gradient_norm_curve : sequence of float or None
        Norm of the gradient after each epoch (see
        ``AdamMLPClassifier.gradient_norm_curve_``); None or empty if not
        recorded.

    inactive_units_curve : sequence of ndarray of shape (n_hidden_layers,) \
            or None
        Fractions of inactive hidden units after each epoch, from
        :func:`inactive_unit_fractions`; None or empty if not recorded.

    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The training inputs; only their column scales are read, and only
        when the loss is far from zero.

    activation : {'identity', 'logistic', 'tanh', 'relu'}
        Hidden activation.

    learning_rate_init : float
        Adam's step size.

    hidden_layer_sizes : sequence of int
        Units of each hidden layer.

    n_classes : int
        Number of classes (of labels, for multilabel targets).

    Returns
    -------
    message : str or None
        One message naming what the records show and what to try, or None
        when training did not stall.

    See Also
    --------
    StalledTrainingWarning : The warning the classifier raises with it.
    inactive_unit_fractions : What counts as an inactive unit.

    Notes
    -----
    Let ``L`` be the final loss, ``L_ref = log(max(n_classes, 2))`` (about the
    loss of a prediction that ignores the inputs) and ``drop`` the fall of the
    loss over the last ``w = 10`` epochs: the loss ``w`` epochs before the end
    minus the lowest loss since, relative to ``L``. Nothing is said with
    ``w`` epochs or fewer (too early to judge), a non-finite loss, or
    ``L <= 0.25 * L_ref``: a low loss is not a stall. Otherwise:

    - ``drop >= 1%``: the loss is still falling. When, at the pace of the
      last ``w`` epochs, halving it would take more epochs than were run,
      progress is slow and training has not converged: the message gives
      that number of epochs and suggests a larger ``max_iter`` or
      ``learning_rate_init`` (Adam moves each weight by about
      ``learning_rate_init`` per step at most). A faster fall gives no
      message: ``max_iter``'s ``ConvergenceWarning`` says enough.
    - ``drop < 1%``: the loss is flat far from zero. That is only reported
      when the records show why, as one or more of these causes:

      * inputs not standardised: the largest column root-mean-square
        ``sqrt(mean(X[:, j]**2))`` is above 3, or all are below 0.1
        (standardised columns have 1);
      * at least half of the units of a hidden layer inactive in the last
        epoch (see :func:`inactive_unit_fractions`);
      * the last gradient norm is below 1e-3 times its largest value;
      * a hidden layer with fewer units than ``n_classes``.

      The message lists them and suggests ``n_init`` (more initialisations,
      the best kept). A flat, high loss without any of them is what a model
      fitted to overlapping classes looks like, and gives no message.

    The causes found are added to the message of a slow fit too.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adam_mlp._diagnostics import stall_message
    >>> X = np.random.default_rng(0).normal(scale=500, size=(50, 4))
    >>> message = stall_message(
    ...     loss_curve=[0.7] * 20,
    ...     gradient_norm_curve=[1e-2] + [1e-6] * 19,
    ...     inactive_units_curve=[np.array([1.0])] * 20,
    ...     X=X,
    ...     activation="logistic",
    ...     learning_rate_init=0.001,
    ...     hidden_layer_sizes=[3],
    ...     n_classes=2,
    ... )
    >>> print(message[:56])
    Training stalled: the training loss stayed at 0.7 for th
    >>> "not standardised" in message
    True
    """
    losses = np.asarray(loss_curve, dtype=np.float64)
    n_epochs = losses.size
    if n_epochs <= _WINDOW or not np.all(np.isfinite(losses)):
        return None
    reference = math.log(max(n_classes, 2))
    final = float(losses[-1])
    if final <= _FAR_FROM_ZERO * reference:
        return None
    decrease = float(losses[-_WINDOW - 1] - losses[-_WINDOW:].min())
    drop = decrease / final
    falling = drop >= _FLAT
    if falling:
        epochs_to_halve = math.ceil(0.5 * final * _WINDOW / decrease)
        if epochs_to_halve <= n_epochs:
            return None
    gradients = np.asarray(
        [] if gradient_norm_curve is None else gradient_norm_curve, dtype=np.float64
    )
    causes = _causes(
        X,
        activation,
        [int(units) for units in hidden_layer_sizes],
        n_classes,
        inactive_units_curve,
        gradients,
    )
    baseline = f"an uninformed prediction scores about {reference:.3g}"
    if falling:
        message = (
            f"Training is slow and has not converged: after {n_epochs} epochs "
            f"the training loss is {final:.3g} ({baseline}) and still falling, "
            f"by {drop:.1%} over the last {_WINDOW} epochs; at that pace it "
            f"needs about {epochs_to_halve} more epochs to halve. Raise "
            f"max_iter, or learning_rate_init (now {learning_rate_init:g}; "
            "Adam moves each weight by about that much per step at most)."
        )
        if causes:
            message += " Also: " + "; ".join(causes) + "."
        return message
    if not causes:
        return None
    return (
        f"Training stalled: the training loss stayed at {final:.3g} for the "
        f"last {_WINDOW} epochs ({baseline}). Likely causes: "
        + "; ".join(causes)
        + ". Also try n_init > 1: several random initialisations, the best kept."
    )


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _training_arrays(estimator, X, y, sample_weight):
    """Validate ``X``, ``y`` and weights as ``fit`` does, in float64.

    Return ``X``, the indicator targets ``Y`` and the sample weights (with
    ``class_weight`` folded in). ``X`` must have the features the estimator
    was fitted on and ``y`` only its classes.
    """
    if not hasattr(estimator, "_network"):
        raise TypeError(
            "The estimator must be an AdamMLPClassifier, got "
            f"{type(estimator).__name__}."
        )
    X, _, Y, sample_weight = estimator._validate_training_data(
        X, y, sample_weight, classes=None, incremental=False, reset=False
    )
    X = X.astype(np.float64)
    if sp.issparse(X):
        X = X.tocsr()
    Y = Y.astype(np.float64)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(np.float64)
    return X, Y, sample_weight


def _fitted(estimator, X, y, sample_weight):
    """Return the estimator if fitted, else a clone fitted for one epoch."""
    if _is_fitted(estimator):
        return estimator
    one_epoch = clone(estimator).set_params(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return one_epoch.fit(X, y, sample_weight=sample_weight)


def check_gradients(
    estimator,
    X,
    y,
    *,
    sample_weight=None,
    step=1e-5,
    max_samples=200,
    max_coordinates=50,
    random_state=0,
):
    """Compare backpropagation with central finite differences of the cost.

    The check runs on the estimator's own architecture, activation, ``alpha``
    and parameters and on the given data, in float64.

    Parameters
    ----------
    estimator : AdamMLPClassifier
        Fitted: its current parameters are checked. Not fitted: a clone with
        ``max_iter=1`` is fitted on ``X, y`` (its ``ConvergenceWarning``
        silenced) and the parameters after that one epoch are checked. The
        estimator itself is never modified.

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input data, with the features the estimator was fitted on.

    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Targets, with only classes the estimator was fitted on.

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights; multiplied by the estimator's ``class_weight``, as in
        ``fit``.

    step : float, default=1e-5
        Finite-difference step ``h``. The error of a central difference is
        about ``h**2`` times the third derivative plus the rounding error of
        the cost, about ``1e-16 / h``; ``h`` near ``1e-5`` balances the two.

    max_samples : int or None, default=200
        Largest number of rows used: a random subset (drawn from
        ``random_state``) when ``X`` has more; None uses all.

    max_coordinates : int or None, default=50
        Largest number of coordinates checked in each layer's weights and in
        each layer's biases: a random subset when there are more; None checks
        all. Each one costs two evaluations of the cost.

    random_state : int, RandomState instance or None, default=0
        Draws the subsets of rows and coordinates.

    Returns
    -------
    errors : pandas.DataFrame
        One row per layer and kind of parameter, in the order of the flat
        parameter vector, with the columns:

        - ``layer``: index ``i`` of ``coefs_[i]`` / ``intercepts_[i]``;
        - ``parameter``: ``'coefs'`` or ``'intercepts'``;
        - ``n_params``, ``n_checked``: coordinates in all and checked;
        - ``max_abs_error``: ``max |g_bp - g_fd|`` over the checked ones;
        - ``relative_error``: ``||g_bp - g_fd|| / max(||g_bp|| + ||g_fd||,
          tiny)``, with ``tiny`` the smallest positive float64.

    See Also
    --------
    restart_study : Fits from several seeds to tell minima apart.

    Notes
    -----
    ``g_bp`` is the gradient from ``Network.loss_gradient`` and ``g_fd`` its
    central difference ``(cost(p + h e_k) - cost(p - h e_k)) / (2 h)`` for each
    checked coordinate ``k``, with the cost (mean log-loss plus
    ``alpha / 2 * sum(W**2) / sum(sample_weight)``) evaluated by the same
    function on the same rows. The relative error lies in [0, 1]: correct
    gradients give about 1e-7 or less (a little more where the gradient is
    tiny and rounding dominates; ``max_abs_error`` then stays tiny too), a
    wrong one about 1e-3 or more. With ``'relu'``, a step that crosses the
    kink of ``max(0, z)`` for some row can give a larger error on a
    coordinate without any bug.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_adam_mlp import AdamMLPClassifier, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> errors = check_gradients(AdamMLPClassifier((5,), "tanh"), X, y)
    >>> errors[["layer", "parameter", "n_params", "n_checked"]]
       layer   parameter  n_params  n_checked
    0      0       coefs        20         20
    1      0  intercepts         5          5
    2      1       coefs        15         15
    3      1  intercepts         3          3
    >>> bool((errors["relative_error"] < 1e-6).all())
    True
    """
    import pandas as pd  # not at module level: the training loop imports us

    if step <= 0:
        raise ValueError(f"step must be positive, got {step!r}.")
    for name, value in (
        ("max_samples", max_samples),
        ("max_coordinates", max_coordinates),
    ):
        if value is not None and value < 1:
            raise ValueError(f"{name} must be None or at least 1, got {value!r}.")
    random_state = check_random_state(random_state)
    estimator = _fitted(estimator, X, y, sample_weight)
    X, Y, sample_weight = _training_arrays(estimator, X, y, sample_weight)
    n_samples = X.shape[0]
    if max_samples is not None and n_samples > max_samples:
        rows = np.sort(random_state.choice(n_samples, max_samples, replace=False))
        X, Y = X[rows], Y[rows]
        if sample_weight is not None:
            sample_weight = sample_weight[rows]
        n_samples = max_samples
    network = estimator._network
    params = np.array(estimator._params, dtype=np.float64)
    buffers = network.allocate(n_samples, np.float64)
    scratch = np.empty_like(params)

    def cost(params):
        loss, _ = network.loss_gradient(
            params,
            X,
            Y,
            alpha=estimator.alpha,
            sample_weight=sample_weight,
            gradient=scratch,
            buffers=buffers,
        )
        return loss

    _, backprop = network.loss_gradient(
        params, X, Y, alpha=estimator.alpha, sample_weight=sample_weight
    )
    coef_indices, intercept_indices = network.unpack(np.arange(network.n_params))
    records = []
    for layer, blocks in enumerate(zip(coef_indices, intercept_indices, strict=True)):
        for kind, block in zip(("coefs", "intercepts"), blocks, strict=True):
            indices = block.ravel()
            if max_coordinates is not None and indices.size > max_coordinates:
                indices = np.sort(
                    random_state.choice(indices, max_coordinates, replace=False)
                )
            finite_difference = np.empty(indices.size)
            for position, index in enumerate(indices):
                value = params[index]
                params[index] = value + step
                cost_plus = cost(params)
                params[index] = value - step
                cost_minus = cost(params)
                params[index] = value
                finite_difference[position] = (cost_plus - cost_minus) / (2 * step)
            error = backprop[indices] - finite_difference
            scale = np.linalg.norm(backprop[indices]) + np.linalg.norm(
                finite_difference
            )
            records.append(
                {
                    "layer": layer,
                    "parameter": kind,
                    "n_params": block.size,
                    "n_checked": indices.size,
                    "max_abs_error": float(np.max(np.abs(error))),
                    "relative_error": float(
                        np.linalg.norm(error) / max(scale, np.finfo(np.float64).tiny)
                    ),
                }
            )
    return pd.DataFrame.from_records(records)


def _fit_one_seed(estimator, X, y, sample_weight, seed):
    """Fit a clone from ``seed`` and describe where it ended; for ``joblib``."""
    model = clone(estimator).set_params(random_state=seed)
    # The columns say what the warnings would: read from the fitted model,
    # since capturing warnings is not thread-safe (threading, dask backends).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=sample_weight)
    X_checked, Y, weights = _training_arrays(model, X, y, sample_weight)
    message = stall_message(
        loss_curve=model.loss_curve_,
        gradient_norm_curve=model.gradient_norm_curve_,
        inactive_units_curve=model.inactive_units_curve_,
        X=X_checked,
        activation=model.activation,
        learning_rate_init=model.learning_rate_init,
        hidden_layer_sizes=model._network.layer_units[1:-1],
        n_classes=len(model.classes_),
    )
    loss, gradient = model._network.loss_gradient(
        np.asarray(model._params, dtype=np.float64),
        X_checked,
        Y,
        alpha=model.alpha,
        sample_weight=weights,
    )
    return {
        "seed": seed,
        "n_iter": model.n_iter_,
        "converged": model.n_iter_ < model.max_iter,
        "stalled": message is not None,
        "final_loss": loss,
        "gradient_norm": float(np.linalg.norm(gradient)),
        "train_accuracy": float(model.score(X, y, sample_weight=sample_weight)),
        "loss_curve": list(model.loss_curve_),
    }


def _group_minima(losses, converged, *, loss_rtol, loss_atol):
    """Label converged runs by groups of agreeing final loss, lowest first."""
    labels = np.full(losses.shape[0], -1)
    order = [i for i in np.argsort(losses, kind="stable") if converged[i]]
    group, previous = -1, None
    for i in order:
        if previous is None or losses[i] - previous > loss_rtol * previous + loss_atol:
            group += 1
        labels[i] = group
        previous = losses[i]
    return labels


def restart_study(
    estimator,
    X,
    y,
    *,
    n_seeds=20,
    seeds=None,
    sample_weight=None,
    loss_rtol=0.05,
    n_jobs=None,
):
    """Fit from several seeds; tell different minima from unfinished runs.

    Parameters
    ----------
    estimator : AdamMLPClassifier
        The model to study; it is cloned, never modified. Its ``max_iter``,
        ``tol`` and ``n_iter_no_change`` decide when a run converged; with
        ``n_init > 1`` every run keeps the best of its own restarts.

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.

    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Targets.

    n_seeds : int, default=20
        Number of runs, with the seeds ``0, 1, ..., n_seeds - 1``. Ignored
        when ``seeds`` is given.

    seeds : sequence of int, default=None
        The seeds, passed as ``random_state`` to each run.

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights of every fit (and of the losses and accuracies
        reported).

    loss_rtol : float, default=0.05
        Relative tolerance on the final loss within one minimum; see Notes.

    n_jobs : int, default=None
        Runs fitted in parallel through :class:`joblib.Parallel`, so any
        joblib backend (``joblib.parallel_config(backend="dask")``, for
        example) spreads them. None means 1 unless in a
        :func:`joblib.parallel_config` context; -1 means all processors.

    Returns
    -------
    study : pandas.DataFrame
        One row per seed, in the order of the seeds, with the columns:

        - ``seed``: the run's ``random_state``;
        - ``n_iter``: epochs run (``n_iter_``);
        - ``converged``: whether the stopping rule (``tol``,
          ``n_iter_no_change``) ended the fit before ``max_iter`` epochs;
        - ``stalled``: whether the fit's records show a stall, that is,
          whether ``fit`` warned with a :class:`StalledTrainingWarning`;
        - ``final_loss``: the cost (mean log-loss plus the L2 penalty, with
          the sample and class weights) at the final parameters, on all of
          ``X``;
        - ``gradient_norm``: the L2 norm of the gradient of that cost, over
          all the parameters;
        - ``train_accuracy``: ``score(X, y)`` of the fitted run;
        - ``minimum``: for converged runs, the group of runs that reached the
          same final loss, numbered from 0 for the lowest (nullable
          ``Int64``); ``<NA>`` for runs that did not converge;
        - ``loss_curve``: the run's ``loss_curve_``, a list.

    See Also
    --------
    plot_restart_study : Draws the loss curves of a study.
    check_gradients : Rules out a wrong gradient first.

    Notes
    -----
    A spread of the final loss or accuracy between seeds has two different
    explanations, which the study separates:

    - **not converged yet**: ``max_iter`` ended the run while the loss was
      still falling by more than ``tol`` per epoch (``converged`` is False).
      Its final loss says nothing about minima; give it more epochs (or a
      larger learning rate) before comparing.
    - **different minima**: runs that converged, grouped by final loss. The
      converged runs are sorted by final loss ``L``; a run starts a new group
      when its loss exceeds the previous run's ``L_prev`` by more than
      ``loss_rtol * L_prev + tol`` (single linkage: a chain of close losses
      is one group). Several groups mean the runs settled at different costs.

    Losses tell minima apart only up to the precision of the stopping rule:
    a loose ``tol`` stops runs on a long, slow descent, which then look like
    minima with a ``gradient_norm`` that is not small; lower ``tol`` (raise
    ``max_iter``) to confirm. Minima of equal cost (for example the same
    network with its hidden units permuted) count as one. A run that the
    stopping rule ends exactly at epoch ``max_iter`` counts as not converged.
    The ``ConvergenceWarning`` and :class:`StalledTrainingWarning` of the
    fits are not shown: the columns ``converged`` and ``stalled`` hold them
    (with a thread-based joblib backend some may still show, as Python's
    warning filters are shared by all threads).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_adam_mlp import AdamMLPClassifier, restart_study
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> model = AdamMLPClassifier((5,), learning_rate_init=0.01, max_iter=20)
    >>> study = restart_study(model, X, y, n_seeds=3)
    >>> study[["seed", "n_iter", "converged"]]
       seed  n_iter  converged
    0     0      20      False
    1     1      20      False
    2     2      20      False
    >>> bool(study["minimum"].isna().all())
    True
    """
    import pandas as pd  # not at module level: the training loop imports us

    if seeds is None:
        if int(n_seeds) != n_seeds or n_seeds < 1:
            raise ValueError(f"n_seeds must be a positive integer, got {n_seeds!r}.")
        seeds = range(int(n_seeds))
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed.")
    if loss_rtol < 0:
        raise ValueError(f"loss_rtol must be non-negative, got {loss_rtol!r}.")
    rows = Parallel(n_jobs=n_jobs)(
        delayed(_fit_one_seed)(estimator, X, y, sample_weight, seed) for seed in seeds
    )
    study = pd.DataFrame.from_records(rows)
    minimum = _group_minima(
        study["final_loss"].to_numpy(),
        study["converged"].to_numpy(),
        loss_rtol=loss_rtol,
        loss_atol=estimator.get_params()["tol"],
    )
    study.insert(
        study.columns.get_loc("loss_curve"),
        "minimum",
        pd.array(np.where(minimum >= 0, minimum, None), dtype="Int64"),
    )
    return study


def plot_restart_study(study, *, ax=None):
    """Plot the loss curves of a restart study, by converged or not.

    Parameters
    ----------
    study : pandas.DataFrame
        The result of :func:`restart_study` (its ``loss_curve`` and
        ``converged`` columns are used).

    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; None creates a figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes, with one curve per run on a logarithmic loss scale: blue
        for the runs that converged, orange for those ``max_iter`` cut.

    Raises
    ------
    ImportError
        If matplotlib is not installed; ``pip install sklearn-adam-mlp[plot]``
        installs it.

    See Also
    --------
    restart_study : Makes the study.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_adam_mlp import AdamMLPClassifier, restart_study
    >>> from sklearn_adam_mlp import plot_restart_study
    >>> X, y = load_iris(return_X_y=True)
    >>> study = restart_study(AdamMLPClassifier((5,), max_iter=5), X, y, n_seeds=2)
    >>> ax = plot_restart_study(study)
    >>> ax.get_yscale()
    'log'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "plot_restart_study needs matplotlib: pip install 'sklearn-adam-mlp[plot]'"
        ) from error
    if ax is None:
        _, ax = plt.subplots()
    styles = {
        True: ("C0", "converged"),
        False: ("C1", "not converged (max_iter reached)"),
    }
    for converged, (color, label) in styles.items():
        curves = study.loc[study["converged"] == converged, "loss_curve"]
        for position, curve in enumerate(curves):
            ax.plot(
                np.arange(1, len(curve) + 1),
                curve,
                color=color,
                alpha=0.7,
                linewidth=1,
                label=f"{label}: {len(curves)}" if position == 0 else None,
            )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    if len(study):
        ax.legend()
    return ax

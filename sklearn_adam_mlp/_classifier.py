"""AdamMLPClassifier: the scikit-learn face of the network and Adam modules."""

import copy
import math
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning, InconsistentVersionWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._activations import (
    log_output_probabilities,
    output_loss_and_probabilities,
    output_probabilities,
)
from ._adam import AdamState, adam_step, clip_by_global_norm, global_norm
from ._callbacks import (
    NO_CALLBACKS,
    CallbackSupportMixin,
    fit_callback_context,
    has_callbacks,
)
from ._diagnostics import (
    StalledTrainingWarning,
    inactive_unit_fractions,
    stall_message,
)
from ._network import Network
from ._schedules import LearningRateSchedule
from ._version import __version__

# Version of the layout of the fitted state; a pickle of another layout cannot
# be read. Bump it when private fitted attributes change meaning.
_STATE_FORMAT = 1

_PREDICT_CHUNK_ROWS = 4096


# Passed as ``random_state`` to continue training the current model.
_CONTINUE = object()

_INTERRUPTED = (UserWarning, "Training interrupted by user.")


class _DivergenceError(ValueError):
    """Training diverged; the model keeps its last finite parameters."""


@contextmanager
def _unchanged_on_error(estimator):
    """Put back the estimator's attributes if the block raises.

    The random stream is put back too: the validation split draws from it in
    place. A divergence is the exception: its error says that the model keeps
    the last finite parameters it reached, and it does.
    """
    saved = dict(estimator.__dict__)
    random_state = saved.get("_random_state")
    stream = None if random_state is None else random_state.get_state()
    try:
        yield
    except _DivergenceError:
        raise
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        if stream is not None:
            random_state.set_state(stream)
        raise


class AdamMLPClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier trained with Adam.

    A drop-in for ``MLPClassifier(solver='adam')``: the parameters it shares
    with scikit-learn's MLP have the same names, defaults and meanings, the
    same ``random_state`` gives the same initial weights, and with the same
    settings the same weights after training. It adds class weights,
    early stopping on the validation log-loss, and ``warm_start`` /
    ``partial_fit`` that keep Adam's moments and step count.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,) or int, \
            default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function of the hidden layers: ``f(x) = x``,
        ``1 / (1 + exp(-x))``, ``tanh(x)`` or ``max(0, x)``.

    alpha : float, default=0.0001
        Strength of the L2 penalty on the weights (not the biases). The
        penalty ``alpha / 2 * sum(W**2)`` is divided by the batch's total
        sample weight when added to the batch's mean loss.

    batch_size : int or 'auto', default='auto'
        Size of the mini-batches. ``'auto'`` uses ``min(200, n_samples)``.
        A larger value is clipped to ``n_samples`` with a warning.

    learning_rate_init : float, default=0.001
        Adam's step size ``lr``.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data) in one call
        to :meth:`fit`. Each gradient step uses one mini-batch.

    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch.

    random_state : int, RandomState instance or None, default=None
        Determines the initial weights, the validation split when
        ``early_stopping=True``, and the shuffling. The draws are made as
        scikit-learn's MLP makes them. Pass an int for reproducible results.
        See :term:`Glossary <random_state>`.

    tol : float, default=1e-4
        Tolerance for stopping. When the training loss (or, with
        ``early_stopping=True``, the validation score) does not improve by at
        least ``tol`` for ``n_iter_no_change`` consecutive epochs, training
        stops.

    verbose : bool, default=False
        Whether to print the loss (and validation score) after each epoch.

    warm_start : bool, default=False
        When True, :meth:`fit` continues from the previous solution,
        including Adam's moments and step count; otherwise it starts anew.
        See :term:`the Glossary <warm_start>`.

    early_stopping : bool, default=False
        Whether to set aside ``validation_fraction`` of the training data and
        stop when the validation score has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs; the parameters with the
        best validation score are restored at the end. The split is
        stratified except for multilabel targets. It is drawn once, when the
        model is initialised, and reused by later ``warm_start`` fits and
        ``partial_fit`` calls on the same data.

    validation_fraction : float, default=0.1
        Proportion of the training data set aside for early stopping, in
        [0, 1). Only used if ``early_stopping=True``.

    beta_1 : float, default=0.9
        Exponential decay rate of Adam's first moment estimates, in [0, 1).

    beta_2 : float, default=0.999
        Exponential decay rate of Adam's second moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Added to ``sqrt(v)`` in Adam's denominator, for numerical stability.

    n_iter_no_change : int, default=10
        Number of consecutive epochs without an improvement of at least
        ``tol`` after which training stops.

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, ``{class_label: weight}``; they multiply
        ``sample_weight``. ``'balanced'`` uses
        ``n_samples / (n_classes * np.bincount(y))``. Not available for
        multilabel targets, nor ``'balanced'`` in :meth:`partial_fit`.

    scoring : {'accuracy', 'loss'}, default='accuracy'
        Validation score used for early stopping: the (weighted) accuracy, as
        ``MLPClassifier`` uses, or ``'loss'``, the negated mean log-loss on
        the validation set, which moves smoothly where the accuracy is flat.
        Only used if ``early_stopping=True``.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'}, \
            default='constant'
        Schedule of Adam's step size, set at the start of each epoch. The
        names mean what they mean for ``MLPClassifier``'s SGD solver (whose
        Adam ignores them):

        - ``'constant'``: ``learning_rate_init`` throughout;
        - ``'invscaling'``: ``learning_rate_init / (t_ + 1) ** power_t``,
          with ``t_`` the number of training samples seen;
        - ``'adaptive'``: reduce on plateau. Each time the stopping rule
          (see ``tol``) would end training, the rate is divided by 5 instead,
          until it falls below 1e-6;
        - ``'cosine'``: cosine decay from ``learning_rate_init`` towards 0
          over the ``max_iter`` epochs of each call to :meth:`fit`
          (Loshchilov & Hutter, 2017); over the first ``max_iter`` calls of
          :meth:`partial_fit`.

    power_t : float, default=0.5
        Exponent of the ``'invscaling'`` schedule.

    amsgrad : bool, default=False
        Whether to use AMSGrad (Reddi et al., 2018): the denominator uses the
        running maximum of the second moment, so the step size of a
        coordinate never grows. Cannot change on a warm start.

    weight_decay : float, default=0.0
        Decoupled weight decay (AdamW, Loshchilov & Hutter, 2019): before each
        step, every parameter, biases included, is multiplied by
        ``1 - lr * weight_decay``. Unlike ``alpha``, it does not enter the cost
        or the gradient.

    clip_norm : float or None, default=None
        If set, each mini-batch gradient whose global L2 norm (over all
        weights and biases together) exceeds ``clip_norm`` is rescaled to
        that norm before the Adam step; its direction is kept.

    epsilon_placement : {'sklearn', 'torch'}, default='sklearn'
        Where ``epsilon`` enters Adam's denominator. ``'sklearn'`` adds it to
        ``sqrt(v)`` with the bias correction folded into the step size, as
        ``MLPClassifier`` does; ``'torch'`` adds it to the bias-corrected
        ``sqrt(v / (1 - beta_2**t))``, as ``torch.optim.Adam`` and ``AdamW``
        do, so that the same hyperparameters give the same steps.

    n_init : int, default=1
        Number of independent initialisations (restarts) run by :meth:`fit`.
        The restart with the lowest final training loss is kept, or, with
        ``early_stopping=True``, the one with the best validation score.
        Restart ``i`` uses the seed ``restart_seeds_[i]``, drawn from
        ``random_state``; with ``n_init=1`` the single run uses
        ``random_state`` itself, exactly as ``MLPClassifier`` does. A
        warm-started fit of a fitted model, and :meth:`partial_fit`, run once.
        Ctrl-C ends the restart under way and skips those not yet started;
        the best one so far is kept.

    n_jobs : int or None, default=None
        Number of restarts run in parallel through joblib (so a joblib
        backend such as dask's spreads them over a cluster). ``None`` means 1
        unless in a :obj:`joblib.parallel_config` context; ``-1`` means all
        processors. See :term:`Glossary <n_jobs>`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    loss_ : float
        Training cost of the last epoch: the sample-weighted mean over its
        mini-batches of each batch's cost, including the L2 penalty; ``inf``
        if training was interrupted before its first epoch ended.

    best_loss_ : float or None
        Lowest ``loss_`` reached. None when ``early_stopping=True``; see
        ``best_validation_score_``.

    loss_curve_ : list of float
        ``loss_`` after each epoch since the model was initialised.

    validation_scores_ : list of float or None
        Validation score after each epoch (see ``scoring``), or None when
        ``early_stopping=False``.

    validation_loss_curve_ : list of float or None
        Mean log-loss on the validation set after each epoch, or None when
        ``early_stopping=False``.

    best_validation_score_ : float or None
        Best validation score, whose parameters were restored; None when
        ``early_stopping=False``.

    gradient_norm_curve_ : list of float
        Per epoch, the sample-weighted mean over its mini-batches of the
        global L2 norm of the batch gradient (before clipping). Values near
        zero while the loss is high mean vanishing gradients.

    inactive_units_curve_ : list of ndarray of shape (`n_layers_` - 2,)
        Per epoch, for each hidden layer, the fraction of its units that were
        inactive on every sample of the epoch's last mini-batch: saturated
        logistic or tanh units, dead ReLU units (0 for the identity). See
        :func:`~sklearn_adam_mlp.check_gradients` and
        :class:`~sklearn_adam_mlp.StalledTrainingWarning`.

    restart_losses_ : ndarray of shape (n_init,)
        Final training loss (``loss_``) of each restart; ``inf`` for a
        restart that diverged, or that Ctrl-C skipped.

    restart_seeds_ : ndarray of shape (n_init,) or None
        Seed of each restart, or None when ``n_init=1``.

    best_restart_ : int
        Index of the restart that was kept.

    t_ : int
        Number of training samples seen since initialisation.

    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix of layer ``i``, of shape
        ``(n_units[i], n_units[i + 1])``. A view into the single flat
        parameter vector; assigning a list of arrays of the same shapes
        copies them in.

    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer ``i + 1``. A view, as
        ``coefs_``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    n_iter_ : int
        Number of epochs run since initialisation (``len(loss_curve_)``),
        counting warm-started fits and :meth:`partial_fit` calls.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units: 1 for binary targets, the number of classes
        otherwise.

    out_activation_ : str
        Output activation: ``'logistic'`` (binary and multilabel) or
        ``'softmax'`` (multiclass).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's multilayer
        perceptron, with the L-BFGS and SGD solvers as well.

    Notes
    -----
    The cost of a mini-batch with sample weights ``s`` is its weighted mean
    log-loss plus ``alpha / 2 * sum(W**2) / sum(s)``, as in scikit-learn's
    MLP; the gradient is exact backpropagation. The Adam update, with ``t``
    counted from 1, is::

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        params -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)

    which is the paper's update with the bias correction folded into the step
    size and ``epsilon`` added to ``sqrt(v)``, as scikit-learn does.

    When training stalls (the loss flat far above zero, vanishing gradients,
    saturated or dead units), :meth:`fit` ends with a
    :class:`~sklearn_adam_mlp.StalledTrainingWarning` that names the likely
    causes.

    Differences from ``MLPClassifier(solver='adam')``: ``warm_start`` and
    ``partial_fit`` keep Adam's moments and step count (scikit-learn starts a
    new optimiser on each warm-started fit); ``n_iter_`` counts every epoch
    since initialisation; the multiclass validation split is stratified, as
    scikit-learn documents (its code stratifies binary targets only);
    ``partial_fit`` supports early stopping; the reported loss is computed
    from the logits, exact where scikit-learn clips probabilities.

    References
    ----------
    Kingma, D. P. and Ba, J. (2015). "Adam: A method for stochastic
    optimization." ICLR. arXiv:1412.6980.

    Reddi, S. J., Kale, S. and Kumar, S. (2018). "On the convergence of Adam
    and beyond." ICLR.

    Loshchilov, I. and Hutter, F. (2017). "SGDR: Stochastic gradient descent
    with warm restarts." ICLR.

    Loshchilov, I. and Hutter, F. (2019). "Decoupled weight decay
    regularization." ICLR.

    Glorot, X. and Bengio, Y. (2010). "Understanding the difficulty of
    training deep feedforward neural networks." AISTATS.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_adam_mlp import AdamMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X, y, stratify=y, random_state=0)
    >>> model = make_pipeline(
    ...     StandardScaler(),
    ...     AdamMLPClassifier(
    ...         (16,), learning_rate_init=0.01, max_iter=300, random_state=0
    ...     ),
    ... ).fit(X_train, y_train)
    >>> model.predict_proba(X_test[:1]).shape
    (1, 3)
    >>> bool(model.score(X_test, y_test) > 0.9)
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "scoring": [StrOptions({"accuracy", "loss"})],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "amsgrad": ["boolean"],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "epsilon_placement": [StrOptions({"sklearn", "torch"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        class_weight=None,
        scoring="accuracy",
        learning_rate="constant",
        power_t=0.5,
        amsgrad=False,
        weight_decay=0.0,
        clip_norm=None,
        epsilon_placement="sklearn",
        n_init=1,
        n_jobs=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.scoring = scoring
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.amsgrad = amsgrad
        self.weight_decay = weight_decay
        self.clip_norm = clip_norm
        self.epsilon_placement = epsilon_placement
        self.n_init = n_init
        self.n_jobs = n_jobs

    # The fitted weights are views into one flat vector, ``_params``.

    @property
    def coefs_(self):
        """Weight matrices, as views into the flat parameter vector."""
        return self._fitted_network().unpack(self._params)[0]

    @coefs_.setter
    def coefs_(self, coefs):
        self._assign_layers(coefs, 0)

    @property
    def intercepts_(self):
        """Bias vectors, as views into the flat parameter vector."""
        return self._fitted_network().unpack(self._params)[1]

    @intercepts_.setter
    def intercepts_(self, intercepts):
        self._assign_layers(intercepts, 1)

    def _fitted_network(self):
        if "_network" not in self.__dict__:
            raise AttributeError(
                f"This {type(self).__name__} instance is not fitted yet: it has "
                "no coefs_ or intercepts_."
            )
        return self._network

    def _assign_layers(self, arrays, part):
        views = self._fitted_network().unpack(self._params)[part]
        arrays = list(arrays)
        if len(arrays) != len(views) or any(
            np.shape(a) != v.shape for a, v in zip(arrays, views, strict=True)
        ):
            raise ValueError(
                "The assigned arrays must have the shapes "
                f"{[v.shape for v in views]}, got {[np.shape(a) for a in arrays]}."
            )
        for view, array in zip(views, arrays, strict=True):
            view[...] = array

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or a binary indicator matrix for multilabel
            classification.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None weighs all equally.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, classes=None, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one epoch over the given data.

        Adam's moments and step count carry over from call to call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or a binary indicator matrix for multilabel
            classification.

        classes : array-like of shape (n_classes,), default=None
            All the classes that can appear in any call. Required on the first
            call (except for multilabel targets); later calls may omit it or
            must pass the same classes.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; None weighs all equally.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

    def _fit(self, X, y, sample_weight, *, classes, incremental):
        fitted = "_params" in self.__dict__
        reset = not fitted or (not incremental and not self.warm_start)
        # Everything that can fail on bad input happens before any training;
        # a failure (other than a divergence) leaves the model as it was.
        with _unchanged_on_error(self):
            X, y, Y, sample_weight = self._validate_training_data(
                X,
                y,
                sample_weight,
                classes=classes,
                incremental=incremental,
                reset=reset,
            )
            if not reset:
                if self.amsgrad != (self._adam.max_second_moment is not None):
                    raise ValueError(
                        "amsgrad cannot change when training continues "
                        "(warm_start or partial_fit); fit the model anew."
                    )
                X = X.astype(self._params.dtype, copy=False)
            if sp.issparse(X):
                X = X.tocsr()
            if incremental and not reset and self._stopped_early:
                warnings.warn(
                    "Early stopping ended training in an earlier partial_fit "
                    "call; the model keeps its best parameters and is not "
                    "updated. Call fit to train anew.",
                    UserWarning,
                    stacklevel=3,
                )
                return self
            data = (X, y, Y, sample_weight)
            n_restarts = self.n_init if reset and not incremental else 1
            if n_restarts > 1:
                callback_ctx = fit_callback_context(self, max_subtasks=n_restarts)
            else:
                callback_ctx = fit_callback_context(
                    self, max_subtasks=1 if incremental else self.max_iter
                )
            callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y)
            if n_restarts > 1:
                fit_warnings = self._fit_restarts(data, n_restarts, callback_ctx)
            else:
                fit_warnings, _ = self._fit_once(
                    data,
                    callback_ctx,
                    random_state=self.random_state if reset else _CONTINUE,
                    incremental=incremental,
                )
        for category, message in fit_warnings:
            warnings.warn(message, category, stacklevel=3)
        callback_ctx.call_on_fit_task_end(estimator=self, X=X, y=y)
        return self

    def _fit_once(self, data, callback_ctx, *, random_state, incremental):
        """Initialise from ``random_state`` (or continue) and train one model.

        Returns the warnings for the user, as ``(category, message)`` pairs,
        and whether training was interrupted (Ctrl-C).
        """
        X, y, Y, sample_weight = data
        if random_state is not _CONTINUE:
            self._initialize(X.shape[1], Y.shape[1], X.dtype, random_state)
        train, validation = self._split_validation(X, y, Y, sample_weight)
        outcome = self._train(train, validation, callback_ctx, incremental=incremental)
        self.restart_losses_ = np.array([self.loss_])
        return outcome

    def _fit_restarts(self, data, n_restarts, callback_ctx):
        """Train ``n_restarts`` models from different seeds; keep the best."""
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=n_restarts
        )
        # Ctrl-C in one restart skips the ones not yet started (when they run
        # in this process); the best restart so far is kept.
        interrupted = {"flag": False}
        outcomes = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_restart)(
                copy.copy(self),
                data,
                seed,
                callback_ctx.subcontext(task_name="restart", max_subtasks=self.max_iter)
                if has_callbacks(self)
                else NO_CALLBACKS,
                interrupted,
            )
            for seed in seeds
        )
        trained = [outcome for outcome in outcomes if outcome is not None]
        losses = np.array(
            [
                np.inf if outcome is None or outcome[2] else outcome[0].loss_
                for outcome in outcomes
            ]
        )
        errors = [error for _, _, error in trained if error is not None]
        if len(errors) == len(trained):
            # Every restart diverged: keep the first one's last finite
            # parameters, as the error message says.
            self._keep_restart(trained[0][0], losses, seeds, 0)
            raise errors[0]
        if self.early_stopping:
            scores = [
                -np.inf if loss == np.inf else outcome[0].best_validation_score_
                for outcome, loss in zip(outcomes, losses, strict=True)
            ]
            best = int(np.argmax(scores))
        else:
            best = int(np.argmin(losses))
        restart, fit_warnings, _ = outcomes[best]
        self._keep_restart(restart, losses, seeds, best)
        # The kept restart's warnings (not converged, stalled) are the model's.
        if interrupted["flag"] and _INTERRUPTED not in fit_warnings:
            fit_warnings = [*fit_warnings, _INTERRUPTED]
        return fit_warnings

    def _keep_restart(self, restart, losses, seeds, best):
        """Take the fitted state of ``restart``, one of the restarts."""
        self.__dict__.update(
            (name, value)
            for name, value in restart.__dict__.items()
            if not name.startswith(("_callback", "_skl_callbacks"))
        )
        self.restart_losses_ = losses
        self.restart_seeds_ = seeds
        self.best_restart_ = best

    def _validate_training_data(
        self, X, y, sample_weight, *, classes, incremental, reset
    ):
        hidden_layer_sizes = np.atleast_1d(self.hidden_layer_sizes)
        if hidden_layer_sizes.ndim != 1 or not all(
            isinstance(n, Integral) and n > 0 for n in hidden_layer_sizes.tolist()
        ):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        multilabel = type_of_target(y).startswith("multilabel")

        if incremental and not multilabel:
            if reset and classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            if not reset and classes is not None:
                if not np.array_equal(np.unique(classes), self.classes_):
                    raise ValueError(
                        f"`classes={np.unique(classes).tolist()}` is not the same "
                        f"as on the first call to partial_fit, "
                        f"{self.classes_.tolist()}."
                    )
        if reset:
            binarizer = LabelBinarizer()
            if classes is not None and not multilabel:
                binarizer.fit(column_or_1d(classes))
            else:
                binarizer.fit(y)
            if len(binarizer.classes_) < 2:
                raise ValueError(
                    f"y contains only one class ({binarizer.classes_[0]}); the "
                    "classifier needs samples of at least 2 classes."
                )
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        elif multilabel != self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError(
                "The type of target changed since the model was fitted: "
                f"now {type_of_target(y)!r}, before "
                f"{self._label_binarizer.y_type_!r}."
            )
        if not multilabel:
            unseen = np.setdiff1d(unique_labels(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y has classes {unseen.tolist()} that are not in classes_ "
                    f"{self.classes_.tolist()}; pass every class in `classes` on "
                    "the first call to partial_fit, or fit anew."
                )
        # Boolean, as scikit-learn's MLP keeps it: an eighth of float64.
        Y = self._label_binarizer.transform(y).astype(bool)

        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        if self.class_weight is not None:
            if multilabel:
                raise ValueError("class_weight is not supported for multilabel y.")
            if self.class_weight == "balanced" and incremental:
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit: pass "
                    "a dict, for example from sklearn.utils.compute_class_weight."
                )
            # Over every class of the model, so that a partial_fit batch that
            # lacks some classes still gets the weights of the ones it has.
            class_weights = compute_class_weight(
                self.class_weight, classes=self.classes_, y=y
            )
            class_index = np.searchsorted(self.classes_, y)
            class_sample_weight = class_weights[class_index].astype(X.dtype)
            if sample_weight is None:
                sample_weight = class_sample_weight
            else:
                sample_weight = sample_weight * class_sample_weight
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError(
                "The sample weights (times class_weight) sum to zero: there is "
                "nothing to fit."
            )
        return X, y, Y, sample_weight

    def _initialize(self, n_features, n_outputs, dtype, random_state):
        self._random_state = check_random_state(random_state)
        hidden_layer_sizes = np.atleast_1d(self.hidden_layer_sizes).tolist()
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(hidden_layer_sizes) + 2
        if self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        self._network = Network(
            [n_features, *hidden_layer_sizes, n_outputs],
            activation=self.activation,
            out_activation=self.out_activation_,
        )
        self._params = self._network.init_params(self._random_state, dtype)
        self._adam = AdamState(self._network.n_params, dtype, amsgrad=self.amsgrad)
        self._schedule = None
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_ = np.inf  # until an epoch ends
        self.loss_curve_ = []
        self.gradient_norm_curve_ = []
        self.inactive_units_curve_ = []
        self.restart_losses_ = None
        self.restart_seeds_ = None
        self.best_restart_ = 0
        self._no_improvement_count = 0
        self._stopped_early = False
        self._validation_random_state = None
        if self.early_stopping:
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
        self.validation_scores_ = None
        self.validation_loss_curve_ = None
        self.best_validation_score_ = None

    def _split_validation(self, X, y, Y, sample_weight):
        """Return ``(X, Y, sample_weight)`` for training and for validation.

        The split is drawn once, from the main random stream right after the
        initial weights (where scikit-learn's MLP draws it); a copy of the
        stream as it was then redraws the same split in later calls.
        """
        # A warm start may switch early stopping on or off: start its records.
        if not self.early_stopping:
            if self.best_loss_ is None:
                self.best_loss_ = np.inf
            return (X, Y, sample_weight), None
        if self.validation_scores_ is None:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self._best_params = self._params.copy()
        if self._validation_random_state is None:
            self._validation_random_state = copy.deepcopy(self._random_state)
            random_state = self._random_state
        else:
            random_state = copy.deepcopy(self._validation_random_state)
        if self.n_outputs_ == 1 or self.out_activation_ == "softmax":
            stratify = y
        else:
            stratify = None
        # train_test_split's size of a fractional test set.
        n_validation = math.ceil(self.validation_fraction * X.shape[0])
        n_classes = 2 if stratify is None else len(np.unique(stratify))
        if n_validation < max(2, n_classes):
            raise ValueError(
                f"The validation set is too small: validation_fraction="
                f"{self.validation_fraction} of {X.shape[0]} samples gives "
                f"{n_validation}, and early stopping needs at least "
                f"{max(2, n_classes)} (one per class for a stratified split). "
                "Increase 'validation_fraction' or the size of your dataset."
            )
        train_idx, val_idx = train_test_split(
            np.arange(X.shape[0]),
            test_size=self.validation_fraction,
            random_state=random_state,
            stratify=stratify,
        )
        if sample_weight is None:
            sw_train = sw_val = None
        else:
            sw_train, sw_val = sample_weight[train_idx], sample_weight[val_idx]
        return (
            (X[train_idx], Y[train_idx], sw_train),
            (X[val_idx], Y[val_idx], sw_val),
        )

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"Got batch_size={self.batch_size} larger than the {n_samples} "
                "training samples; it is clipped to the number of samples.",
                stacklevel=2,
            )
        return min(self.batch_size, n_samples)

    def _train(self, train, validation, callback_ctx, *, incremental):
        """Run one epoch (``partial_fit``) or up to ``max_iter`` (``fit``).

        Returns the warnings for the user, as ``(category, message)`` pairs,
        and whether training was interrupted (Ctrl-C). The warnings are left
        to the caller, which keeps only those of the restart it keeps.
        """
        if not incremental:
            # Each call to fit gets n_iter_no_change fresh epochs and a fresh
            # learning-rate schedule; partial_fit calls continue them.
            self._no_improvement_count = 0
            self._stopped_early = False
        if not incremental or self._schedule is None:
            self._schedule = LearningRateSchedule(
                self.learning_rate,
                learning_rate_init=self.learning_rate_init,
                power_t=self.power_t,
                n_epochs=self.max_iter,
            )
            self._schedule_first_epoch = self.n_iter_
        converged = interrupted = False
        # Overflow only comes from divergence, which _run_epochs detects and
        # reports with advice; numpy's warnings would only add noise.
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                converged = self._run_epochs(
                    train,
                    validation,
                    callback_ctx,
                    n_epochs=1 if incremental else self.max_iter,
                )
            except KeyboardInterrupt:
                interrupted = True
        if validation is not None and (converged or not incremental):
            self._params[...] = self._best_params
            self._stopped_early = incremental
        if interrupted:
            return [_INTERRUPTED], True
        if incremental:
            return [], False
        stalled = stall_message(
            loss_curve=self.loss_curve_,
            gradient_norm_curve=self.gradient_norm_curve_,
            inactive_units_curve=self.inactive_units_curve_,
            X=train[0],
            activation=self.activation,
            learning_rate_init=self.learning_rate_init,
            hidden_layer_sizes=self._network.layer_units[1:-1],
            n_classes=len(self.classes_),
        )
        # One warning per fit: a stall explains a missed convergence.
        if converged:
            if stalled is None:
                return [], False
            return [(StalledTrainingWarning, stalled)], False
        message = (
            f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
            "reached and the optimization hasn't converged yet."
        )
        if stalled is None:
            return [(ConvergenceWarning, message)], False
        return [(StalledTrainingWarning, f"{message} {stalled}")], False

    def _run_epochs(self, train, validation, callback_ctx, *, n_epochs):
        """Run up to ``n_epochs`` epochs; return True if a stopping rule fired.

        The rules are the no-improvement rule (see ``tol``) and a callback
        asking to stop.
        """
        X, Y, sample_weight = train
        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        # The batches' slices, made once rather than every epoch.
        batches = list(gen_batches(n_samples, batch_size))
        buffers = self._network.allocate(batch_size, self._params.dtype)
        hidden_activations = buffers[: self.n_layers_ - 2]
        gradient = np.empty_like(self._params)
        checkpoint = _Checkpoint(self._params, self._adam)
        checkpoint.save()
        order = np.arange(n_samples)
        if not has_callbacks(self):
            callback_ctx = NO_CALLBACKS
        for _ in range(n_epochs):
            epoch_ctx = callback_ctx.subcontext(task_name="epoch")
            epoch_ctx.call_on_fit_task_begin(estimator=self, X=X)
            learning_rate = self._schedule.start_epoch(
                epoch=self.n_iter_ - self._schedule_first_epoch, samples_seen=self.t_
            )
            if self.shuffle:
                # The draws of scikit-learn's per-epoch sklearn.utils.shuffle.
                order = order[self._random_state.permutation(n_samples)]
            loss, gradient_norm, last_rows = self._run_epoch(
                X,
                Y,
                sample_weight,
                order,
                batches,
                buffers,
                gradient,
                learning_rate,
                checkpoint,
            )
            if not (np.isfinite(loss) and np.isfinite(self._params).all()):
                checkpoint.restore()
                raise _DivergenceError(
                    f"Training diverged in epoch {self.n_iter_ + 1}: the loss or "
                    "the weights became non-finite. The model keeps its last "
                    "finite parameters (and Adam starts afresh). Standardise the "
                    "features (for example with StandardScaler) or lower "
                    "learning_rate_init."
                )
            self.n_iter_ += 1
            self.t_ += n_samples
            self.loss_ = loss
            self.loss_curve_.append(loss)
            self.gradient_norm_curve_.append(gradient_norm)
            self.inactive_units_curve_.append(
                inactive_unit_fractions(
                    [A[:last_rows] for A in hidden_activations], self.activation
                )
            )
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            stop = self._stopping_criterion_met(validation)
            if epoch_ctx.call_on_fit_task_end(
                estimator=self,
                X=X,
                reconstruction_attributes=lambda: {"_params": self._params.copy()},
            ):
                stop = True
            if stop:
                return True
        return False

    def _run_epoch(
        self,
        X,
        Y,
        sample_weight,
        order,
        batches,
        buffers,
        gradient,
        learning_rate,
        checkpoint,
    ):
        """One pass of mini-batch Adam.

        Returns the epoch's mean batch cost, the mean global norm of the batch
        gradients (both sample-weighted) and the row count of the last batch.
        The cost is NaN, and the epoch cut short, at the first batch whose cost
        is not finite. Before the epoch's first step, whose batch cost was
        finite, the parameters go to ``checkpoint``: a diverged epoch rolls
        back to a model whose cost was seen to be finite.
        """
        n_samples = X.shape[0]
        accumulated_loss = accumulated_norm = 0.0
        rows_in_buffers = 0
        first_step = True
        for batch in batches:
            rows = order[batch] if self.shuffle else batch
            if sample_weight is None:
                batch_sample_weight = None
                batch_weight = batch.stop - batch.start
            else:
                batch_sample_weight = _take_rows(sample_weight, rows)
                batch_weight = batch_sample_weight.sum()
                if batch_weight == 0:
                    continue
            loss, _ = self._network.loss_gradient(
                self._params,
                _take_rows(X, rows),
                _take_rows(Y, rows),
                alpha=self.alpha,
                sample_weight=batch_sample_weight,
                gradient=gradient,
                buffers=buffers,
            )
            if not math.isfinite(loss):
                return np.nan, np.nan, rows_in_buffers
            if first_step:
                checkpoint.save()
                first_step = False
            rows_in_buffers = batch.stop - batch.start
            if self.clip_norm is None:
                norm = global_norm(gradient)
            else:
                norm = clip_by_global_norm(gradient, self.clip_norm)
            adam_step(
                self._params,
                gradient,
                self._adam,
                learning_rate=learning_rate,
                beta_1=self.beta_1,
                beta_2=self.beta_2,
                epsilon=self.epsilon,
                weight_decay=self.weight_decay,
                epsilon_placement=self.epsilon_placement,
                overwrite_gradient=True,
            )
            accumulated_loss += loss * batch_weight
            accumulated_norm += norm * batch_weight
        total_weight = n_samples if sample_weight is None else sample_weight.sum()
        return (
            float(accumulated_loss / total_weight),
            float(accumulated_norm / total_weight),
            rows_in_buffers,
        )

    def _stopping_criterion_met(self, validation):
        """Update the no-improvement count; True when training should stop."""
        if validation is None:
            loss = self.loss_curve_[-1]
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, loss)
        else:
            score, validation_loss = self._validation_score(*validation)
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(validation_loss)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params[...] = self._params
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        quantity = "Validation score" if validation else "Training loss"
        message = (
            f"{quantity} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        if self._schedule.reduce_on_plateau():
            self._no_improvement_count = 0
            if self.verbose:
                print(
                    f"{message} Setting learning rate to "
                    f"{self._schedule.learning_rate:f}"
                )
            return False
        if self.verbose:
            print(f"{message} Stopping.")
        return True

    def _validation_score(self, X, Y, sample_weight):
        """Return the validation score (see ``scoring``) and mean log-loss."""
        P = self._logits(X)
        loss = output_loss_and_probabilities(P, Y, self.out_activation_, sample_weight)
        loss /= X.shape[0] if sample_weight is None else sample_weight.sum()
        if self.scoring == "loss":
            return -loss, loss
        if self.out_activation_ == "softmax":
            correct = P.argmax(axis=1) == Y.argmax(axis=1)
        else:
            correct = ((P > 0.5) == (Y > 0.5)).all(axis=1)
        return float(np.average(correct, weights=sample_weight)), loss

    def _logits(self, X):
        """Output logits of validated ``X``, computed in bounded row chunks."""
        n_samples = X.shape[0]
        dtype = np.result_type(X.dtype, self._params.dtype)
        # Chunks of at most _PREDICT_CHUNK_ROWS rows, fewer if scikit-learn's
        # working_memory (MiB) asks for less: memory stays bounded on any X.
        row_bytes = sum(self._network.layer_units[1:]) * dtype.itemsize
        memory_rows = get_config()["working_memory"] * 2**20 // row_bytes
        chunk = int(max(1, min(n_samples, _PREDICT_CHUNK_ROWS, memory_rows)))
        if chunk == n_samples:
            return self._network.forward(self._params, X)[-1]
        buffers = self._network.allocate(chunk, dtype, backward=False)
        logits = np.empty((n_samples, self.n_outputs_), dtype=dtype)
        for rows in gen_batches(n_samples, chunk):
            forward = self._network.forward(self._params, X[rows], buffers=buffers)
            logits[rows] = forward[-1]
        return logits

    def _validated_logits(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        if sp.issparse(X):
            X = X.tocsr()
        return self._logits(X)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``. Rows sum
            to one, except for multilabel targets, where each column is the
            probability of its label.
        """
        P = output_probabilities(self._validated_logits(X), self.out_activation_)
        if self.n_outputs_ == 1:
            return np.hstack([1 - P, P])
        return P

    def predict_log_proba(self, X):
        """Log of probability estimates, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``;
            finite for finite inputs even where ``predict_proba`` rounds to 0.
        """
        logits = self._validated_logits(X)
        return log_output_probabilities(logits, self.out_activation_)

    def predict(self, X):
        """Predict classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted class of each sample: the class of highest probability,
            or, for multilabel targets, the indicator of the labels of
            probability above one half.
        """
        proba = self.predict_proba(X)
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return self._label_binarizer.inverse_transform(proba)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags

    def __getstate__(self):
        # A copy: object.__getstate__ returns the instance's own __dict__.
        state = dict(super().__getstate__())
        if "_params" in state:
            state["_sklearn_adam_mlp_version"] = __version__
            state["_sklearn_adam_mlp_state_format"] = _STATE_FORMAT
        return state

    def __setstate__(self, state):
        version = state.pop("_sklearn_adam_mlp_version", None)
        state_format = state.pop("_sklearn_adam_mlp_state_format", None)
        if "_params" in state and state_format != _STATE_FORMAT:
            raise ValueError(
                f"This {type(self).__name__} was saved by sklearn_adam_mlp "
                f"{version or 'of an unknown version'}, whose fitted state this "
                f"version ({__version__}) cannot read. Load it with that version, "
                "or fit the model again."
            )
        if version is not None and version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=f"{type(self).__name__} (sklearn_adam_mlp)",
                    current_sklearn_version=__version__,
                    original_sklearn_version=version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)


def _fit_restart(estimator, data, seed, callback_ctx, interrupted):
    """Train ``estimator`` (a copy) from ``seed``; for ``joblib``.

    Returns None if an earlier restart was interrupted, else the trained copy,
    its warnings as ``(category, message)`` pairs, and the divergence error
    that stopped it or None. Any other error propagates.
    """
    if interrupted["flag"]:
        return None
    X = data[0]
    callback_ctx.call_on_fit_task_begin(estimator=estimator, X=X)
    try:
        fit_warnings, interrupted["flag"] = estimator._fit_once(
            data, callback_ctx, random_state=seed, incremental=False
        )
    except _DivergenceError as error:
        return estimator, [], error
    callback_ctx.call_on_fit_task_end(estimator=estimator, X=X)
    return estimator, fit_warnings, None


class _Checkpoint:
    """A copy of the parameters, to roll back a diverged epoch.

    Only the parameters are kept (the moments would triple the memory): a
    rollback also starts Adam afresh, with zero moments and step count.
    """

    def __init__(self, params, adam):
        self._params, self._adam = params, adam
        self._saved = np.empty_like(params)

    def save(self):
        self._saved[...] = self._params

    def restore(self):
        self._params[...] = self._saved
        for moment in (
            self._adam.first_moment,
            self._adam.second_moment,
            self._adam.max_second_moment,
        ):
            if moment is not None:
                moment.fill(0)
        self._adam.step = 0


def _take_rows(X, rows):
    """``X[rows]``; ``take`` copies shuffled rows of a dense array faster."""
    if isinstance(rows, slice) or sp.issparse(X):
        return X[rows]
    return X.take(rows, axis=0)

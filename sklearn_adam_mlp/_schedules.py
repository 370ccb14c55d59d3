"""Learning-rate schedules, one rate per epoch."""

import math

SCHEDULES = ("constant", "invscaling", "adaptive", "cosine")

# scikit-learn's SGDOptimizer stops 'adaptive' training at this rate.
MIN_ADAPTIVE_LEARNING_RATE = 1e-6


class LearningRateSchedule:
    """The learning rate of each epoch.

    Parameters
    ----------
    kind : {'constant', 'invscaling', 'adaptive', 'cosine'}
        How the rate changes from epoch to epoch; see Notes.

    learning_rate_init : float
        The rate of the first epoch, ``lr_0``.

    power_t : float
        Exponent of the ``'invscaling'`` schedule.

    n_epochs : int
        Length of the ``'cosine'`` decay, in epochs (``max_iter``), >= 1.

    Attributes
    ----------
    learning_rate : float
        The current rate: that of the epoch last started, as lowered by
        :meth:`reduce_on_plateau` since.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Its ``learning_rate`` parameter
        (solver ``'sgd'``) names the same ``'constant'``, ``'invscaling'`` and
        ``'adaptive'`` schedules.

    Notes
    -----
    The caller calls :meth:`start_epoch` before each epoch and uses the rate
    it returns for every update of that epoch; when the stopping rule fires it
    calls :meth:`reduce_on_plateau` and stops unless that returns True. With
    ``epoch`` counted from 0 and ``samples_seen`` the number of training
    samples seen before the epoch, the rate is:

    - ``'constant'``: ``lr_0``.
    - ``'invscaling'``: ``lr_0 / (samples_seen + 1) ** power_t``, the value
      scikit-learn's ``SGDOptimizer.iteration_ends`` sets at the end of the
      previous epoch (``lr_0`` for the first).
    - ``'adaptive'``: ``lr_0`` until a plateau; then
      :meth:`reduce_on_plateau` divides the current rate by 5, or stops
      training when it is already at most 1e-6, as scikit-learn's
      ``SGDOptimizer.trigger_stopping``.
    - ``'cosine'``: ``0.5 * lr_0 * (1 + cos(pi * min(epoch, n_epochs - 1) /
      n_epochs))``, the annealing of SGDR (Loshchilov & Hutter, 2017, Eq. 5)
      with ``eta_min = 0``, ``T_cur = epoch``, ``T_i = n_epochs`` and no warm
      restart; the same values as ``torch.optim.lr_scheduler.CosineAnnealingLR``
      stepped once per epoch with ``T_max = n_epochs``. The first epoch uses
      ``lr_0``, the rate decreases every epoch and the last of the
      ``n_epochs``, ``0.5 * lr_0 * (1 - cos(pi / n_epochs))``, is still
      positive: the rate 0 the curve reaches at ``epoch = n_epochs`` is never
      used. Epochs beyond ``n_epochs`` keep the rate of the last one.

    Only ``'adaptive'`` reduces on a plateau; for the others
    :meth:`reduce_on_plateau` returns False (stop) and changes nothing.

    References
    ----------
    Loshchilov, I. and Hutter, F. (2017). "SGDR: Stochastic gradient descent
    with warm restarts." ICLR. arXiv:1608.03983.

    Examples
    --------
    >>> from sklearn_adam_mlp._schedules import LearningRateSchedule
    >>> schedule = LearningRateSchedule(
    ...     "cosine", learning_rate_init=0.1, power_t=0.5, n_epochs=4
    ... )
    >>> [round(schedule.start_epoch(epoch=e, samples_seen=0), 4) for e in range(4)]
    [0.1, 0.0854, 0.05, 0.0146]
    >>> schedule.reduce_on_plateau()
    False
    """

    def __init__(self, kind, *, learning_rate_init, power_t, n_epochs):
        if kind not in SCHEDULES:
            raise ValueError(f"kind must be one of {SCHEDULES}, got {kind!r}.")
        self.kind = kind
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.n_epochs = n_epochs
        self.learning_rate = float(learning_rate_init)

    def start_epoch(self, *, epoch, samples_seen):
        """Set and return the rate of the epoch about to run.

        Parameters
        ----------
        epoch : int
            Index of the epoch, counted from 0.

        samples_seen : int
            Number of training samples seen before this epoch.

        Returns
        -------
        float
            The rate for every update of the epoch, also stored in
            ``learning_rate``.
        """
        if self.kind == "constant":
            self.learning_rate = float(self.learning_rate_init)
        elif self.kind == "invscaling":
            # scikit-learn's expression, for identical rounding.
            self.learning_rate = (
                float(self.learning_rate_init) / (samples_seen + 1) ** self.power_t
            )
        elif self.kind == "cosine":
            progress = min(epoch, self.n_epochs - 1) / self.n_epochs
            self.learning_rate = (
                0.5 * self.learning_rate_init * (1 + math.cos(math.pi * progress))
            )
        return self.learning_rate

    def reduce_on_plateau(self):
        """Lower the rate after a plateau, if the schedule does.

        Returns
        -------
        bool
            True when training continues at the lowered rate (``'adaptive'``
            with a rate above 1e-6, which is divided by 5); False when it
            should stop.
        """
        if self.kind != "adaptive" or self.learning_rate <= MIN_ADAPTIVE_LEARNING_RATE:
            return False
        self.learning_rate /= 5.0
        return True

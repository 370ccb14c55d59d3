"""Adam over flat arrays: its state, one in-place update and gradient clipping."""

import math

import numpy as np

EPSILON_PLACEMENTS = ("sklearn", "torch")


class AdamState:
    """Moments and step counter of Adam for one flat parameter vector.

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.

    dtype : numpy dtype
        Dtype of the parameters; the moments use the same.

    amsgrad : bool, default=False
        Whether to keep the running maximum of the second moment, which
        :func:`adam_step` then uses in the denominator (AMSGrad).

    Attributes
    ----------
    first_moment : ndarray of shape (n_params,)
        Running mean of the gradients, ``m``. Never bias-corrected in place.

    second_moment : ndarray of shape (n_params,)
        Running mean of the squared gradients, ``v``. Never bias-corrected in
        place.

    max_second_moment : ndarray of shape (n_params,) or None
        Element-wise maximum of ``v`` over the updates made so far, ``v_max``;
        None when ``amsgrad`` is False.

    step : int
        Number of updates made so far, ``t``; the next update is step
        ``t + 1``, so the first one uses ``t = 1`` in the bias correction.

    See Also
    --------
    adam_step : The update that reads and advances this state.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adam_mlp._adam import AdamState
    >>> state = AdamState(3, np.float32, amsgrad=True)
    >>> state.step, state.first_moment.dtype, state.max_second_moment
    (0, dtype('float32'), array([0., 0., 0.], dtype=float32))
    """

    def __init__(self, n_params, dtype, *, amsgrad=False):
        self.first_moment = np.zeros(n_params, dtype=dtype)
        self.second_moment = np.zeros(n_params, dtype=dtype)
        self.max_second_moment = np.zeros(n_params, dtype=dtype) if amsgrad else None
        self.step = 0
        self._scratch = np.empty(n_params, dtype=dtype)
        self._numerator = None

    def _numerator_buffer(self, gradient, overwrite_gradient):
        """Return the buffer for the update's numerator.

        ``gradient`` itself, or a second scratch vector made on first use.
        """
        if overwrite_gradient:
            return gradient
        if self._numerator is None:
            self._numerator = np.empty_like(self._scratch)
        return self._numerator


def bias_corrected_learning_rate(learning_rate, *, beta_1, beta_2, step):
    """Step size with Adam's bias correction folded in.

    Parameters
    ----------
    learning_rate : float
        The base step size, ``lr``.

    beta_1, beta_2 : float
        Decay rates of the first and second moments.

    step : int
        The update being made, counted from 1.

    Returns
    -------
    float
        ``lr * sqrt(1 - beta_2**step) / (1 - beta_1**step)``.
    """
    return learning_rate * math.sqrt(1 - beta_2**step) / (1 - beta_1**step)


def adam_step(
    params,
    gradient,
    state,
    *,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
    weight_decay=0.0,
    epsilon_placement="sklearn",
    overwrite_gradient=False,
):
    """Make one Adam update of ``params`` in place.

    Plain Adam, AMSGrad when ``state`` keeps ``max_second_moment``, and
    decoupled weight decay (AdamW) when ``weight_decay > 0``.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Flat parameter vector; updated in place.

    gradient : ndarray of shape (n_params,)
        Gradient of the cost at ``params``, in the dtype of ``params``. Not
        modified, unless ``overwrite_gradient``.

    state : AdamState
        Moments and step counter; updated in place. Its scratch space holds
        the temporaries, so the update allocates no array (after the first
        call).

    learning_rate : float
        Base step size ``lr``.

    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates, in [0, 1).

    epsilon : float
        Added to the square root of the second moment in the denominator;
        ``epsilon_placement`` says which one.

    weight_decay : float, default=0.0
        Decoupled weight decay ``wd``: before the Adam step the parameters are
        multiplied by ``1 - lr * wd``. This is not an L2 term in the cost and
        does not go through the moments.

    epsilon_placement : {'sklearn', 'torch'}, default='sklearn'
        ``'sklearn'``: scikit-learn's ``MLPClassifier`` update, epsilon added
        to ``sqrt(v)`` and the bias correction folded into the step size.
        ``'torch'``: ``torch.optim.Adam`` / ``torch.optim.AdamW``, epsilon
        added to ``sqrt(v_hat)``. See Notes.

    overwrite_gradient : bool, default=False
        Whether ``gradient`` may serve as scratch space once the moments have
        read it (its content is then lost): the update then needs one
        scratch vector instead of two, which a training loop that recomputes
        the gradient anyway can spare.

    Returns
    -------
    params : ndarray of shape (n_params,)
        The same array, updated.

    See Also
    --------
    AdamState : The moments and step counter.
    clip_by_global_norm : Rescale the gradient before the step.

    Notes
    -----
    With ``g`` the gradient, ``t`` counted from 1, ``lr`` the learning rate and
    ``wd`` the weight decay, one call makes the following update; lines marked
    ``[amsgrad]`` run only when ``state.max_second_moment`` is not None, the
    ``params *= ...`` line only when ``wd > 0``. All arithmetic on arrays is
    done in the dtype of ``params``.

    ``epsilon_placement='sklearn'`` (Kingma & Ba, 2015, Algorithm 1 in the
    efficient form of their Section 2, the form of scikit-learn's
    ``MLPClassifier``)::

        t      = t + 1
        params = params * (1 - lr * wd)
        m      = beta_1 * m + (1 - beta_1) * g
        v      = beta_2 * v + (1 - beta_2) * g**2
        v_max  = maximum(v_max, v)                          [amsgrad]
        lr_t   = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        params = params - lr_t * m / (sqrt(v) + epsilon)
                 (sqrt(v_max) in place of sqrt(v) with amsgrad)

    The bias correction lives in ``lr_t``; ``m`` and ``v`` keep their running
    values. This is the paper's ``lr * m_hat / (sqrt(v_hat) + eps)`` with
    ``m_hat = m / (1 - beta_1**t)``, ``v_hat = v / (1 - beta_2**t)`` and
    ``eps = epsilon / sqrt(1 - beta_2**t)``. With ``wd = 0`` and no AMSGrad
    the operations, and so the results, are those of scikit-learn's
    ``AdamOptimizer``.

    ``epsilon_placement='torch'`` (``torch.optim.Adam`` and
    ``torch.optim.AdamW``, single-tensor path, which is the paper's
    Algorithm 1 with epsilon next to ``sqrt(v_hat)``)::

        t      = t + 1
        params = params * (1 - lr * wd)
        w      = 1 - beta_1
        m      = m + w * (g - m)                    if w < 0.5
                 g - (1 - w) * (g - m)              otherwise
        v      = beta_2 * v + ((1 - beta_2) * g) * g
        v_max  = maximum(v_max, v)                          [amsgrad]
        step_size = lr / (1 - beta_1**t)
        denom  = sqrt(v) / (1 - beta_2**t) ** 0.5 + epsilon
                 (sqrt(v_max) in place of sqrt(v) with amsgrad)
        params = params + (-step_size * m) / denom

    The ``m`` update is torch's ``lerp`` and every line follows torch's order
    of operations. Torch's CPU kernels still round differently in three
    places: ``lerp`` and ``addcmul`` (the ``m`` and ``v`` updates) use fused
    multiply-adds in their vectorised loops, and ``sqrt`` comes from a vector
    math library that is not always correctly rounded. The trajectories
    therefore agree to within a few units in the last place per step, not
    bit for bit; the test suite checks them against recorded torch runs.

    AMSGrad (Reddi et al., 2018) replaces ``v`` by its running maximum in the
    denominator; as in torch, the bias correction of ``v`` is kept. Decoupled
    weight decay (Loshchilov & Hutter, 2019) shrinks the parameters by the
    base ``lr`` (not ``lr_t``) before the step, in both placements, as
    ``torch.optim.AdamW`` does; an L2 penalty in the cost (``alpha``) would
    instead pass through ``m`` and ``v``.

    References
    ----------
    Kingma, D. P. and Ba, J. (2015). "Adam: A method for stochastic
    optimization." ICLR. arXiv:1412.6980.

    Reddi, S. J., Kale, S. and Kumar, S. (2018). "On the convergence of Adam
    and beyond." ICLR. arXiv:1904.09237.

    Loshchilov, I. and Hutter, F. (2019). "Decoupled weight decay
    regularization." ICLR. arXiv:1711.05101.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adam_mlp._adam import AdamState, adam_step
    >>> params = np.array([1.0, -2.0])
    >>> state = AdamState(2, np.float64)
    >>> adam_step(params, np.array([0.5, -0.1]), state, learning_rate=0.1,
    ...           beta_1=0.9, beta_2=0.999, epsilon=0.0)
    array([ 0.9, -1.9])
    """
    if epsilon_placement not in EPSILON_PLACEMENTS:
        raise ValueError(
            f"epsilon_placement must be one of {EPSILON_PLACEMENTS}, "
            f"got {epsilon_placement!r}."
        )
    state.step += 1
    if weight_decay:
        params *= 1 - learning_rate * weight_decay
    numerator = state._numerator_buffer(gradient, overwrite_gradient)
    update = _sklearn_update if epsilon_placement == "sklearn" else _torch_update
    update(params, gradient, numerator, state, learning_rate, beta_1, beta_2, epsilon)
    return params


def _sklearn_update(
    params, gradient, numerator, state, learning_rate, beta_1, beta_2, epsilon
):
    """Moments and step in scikit-learn's order of operations (see adam_step)."""
    m, v = state.first_moment, state.second_moment
    # ``numerator`` may be ``gradient`` itself: it is written only after the
    # second moment has read the gradient for the last time.
    denominator = state._scratch
    m *= beta_1
    np.multiply(gradient, 1 - beta_1, out=denominator)
    m += denominator
    v *= beta_2
    np.multiply(gradient, gradient, out=denominator)
    denominator *= 1 - beta_2
    v += denominator
    if state.max_second_moment is not None:
        v = np.maximum(state.max_second_moment, v, out=state.max_second_moment)
    step_size = bias_corrected_learning_rate(
        learning_rate, beta_1=beta_1, beta_2=beta_2, step=state.step
    )
    np.multiply(m, -step_size, out=numerator)
    np.sqrt(v, out=denominator)
    denominator += epsilon
    numerator /= denominator
    params += numerator


def _torch_update(
    params, gradient, numerator, state, learning_rate, beta_1, beta_2, epsilon
):
    """Moments and step in torch's order of operations (see adam_step)."""
    m, v = state.first_moment, state.second_moment
    # ``numerator`` may be ``gradient`` itself: it is written only after the
    # second moment has read the gradient for the last time.
    denominator = state._scratch
    # torch's lerp(m, g, w) takes one of two algebraically equal forms,
    # chosen by the size of w, for accuracy.
    weight = 1 - beta_1
    np.subtract(gradient, m, out=denominator)
    if weight < 0.5:
        denominator *= weight
        m += denominator
    else:
        denominator *= 1 - weight
        np.subtract(gradient, denominator, out=m)
    v *= beta_2
    np.multiply(gradient, 1 - beta_2, out=denominator)
    denominator *= gradient
    v += denominator
    if state.max_second_moment is not None:
        v = np.maximum(state.max_second_moment, v, out=state.max_second_moment)
    step_size = learning_rate / (1 - beta_1**state.step)
    np.sqrt(v, out=denominator)
    denominator /= (1 - beta_2**state.step) ** 0.5
    denominator += epsilon
    np.multiply(m, -step_size, out=numerator)
    numerator /= denominator
    params += numerator


def global_norm(gradient):
    """Euclidean norm of the whole gradient vector.

    Parameters
    ----------
    gradient : ndarray of shape (n_params,)
        The flat gradient: all layers' weights and biases together.

    Returns
    -------
    float
        ``sqrt(sum(gradient**2))``; inf or nan when ``gradient`` holds a
        non-finite value.

    See Also
    --------
    clip_by_global_norm : Rescale the gradient to a maximum global norm.

    Notes
    -----
    The sum of squares is accumulated in the dtype of ``gradient`` (a dot
    product). When it overflows although every entry is finite (a float32
    gradient of norm above about 1e19), or underflows to 0 although an entry
    is not (every float32 entry below about 1e-23), the norm is recomputed on
    the gradient divided by its largest magnitude and scaled back, which
    allocates temporaries in those cases only.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adam_mlp._adam import global_norm
    >>> global_norm(np.array([3.0, 0.0, -4.0]))
    5.0
    """
    with np.errstate(over="ignore"):
        squared_norm = float(np.dot(gradient, gradient))
    overflowed = math.isinf(squared_norm) and np.isfinite(gradient).all()
    underflowed = squared_norm == 0 and gradient.any()
    if overflowed or underflowed:
        largest = float(np.max(np.abs(gradient)))
        scaled = gradient / largest
        return largest * math.sqrt(float(np.dot(scaled, scaled)))
    return math.sqrt(squared_norm)


def clip_by_global_norm(gradient, max_norm):
    """Rescale the whole gradient in place to a global norm of at most ``max_norm``.

    Parameters
    ----------
    gradient : ndarray of shape (n_params,)
        The flat gradient: all layers' weights and biases together. Rescaled
        in place when its norm exceeds ``max_norm``.

    max_norm : float
        Largest global norm allowed, > 0.

    Returns
    -------
    norm : float
        The global norm of ``gradient`` before clipping.

    See Also
    --------
    global_norm : The norm that is compared with ``max_norm``.

    Notes
    -----
    With ``norm = sqrt(sum(gradient**2))`` over the WHOLE vector::

        if norm > max_norm:
            gradient = gradient * (max_norm / norm)

    Every component, of every layer, is multiplied by the same factor, so the
    direction of the gradient is kept and only its length changes (Pascanu
    et al., 2013). Clipping each layer by its own norm, or worse by another
    layer's norm, changes the direction and is a common bug. A gradient that
    holds inf or nan is left as it is; the returned norm is then not finite.

    References
    ----------
    Pascanu, R., Mikolov, T. and Bengio, Y. (2013). "On the difficulty of
    training recurrent neural networks." ICML. arXiv:1211.5063.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_adam_mlp._adam import clip_by_global_norm
    >>> gradient = np.array([3.0, 0.0, -4.0])
    >>> clip_by_global_norm(gradient, 1.0)
    5.0
    >>> gradient
    array([ 0.6,  0. , -0.8])
    """
    norm = global_norm(gradient)
    if math.isfinite(norm) and norm > max_norm:
        gradient *= max_norm / norm
    return norm

"""Adam over flat arrays: its state and one in-place update."""

import numpy as np


class AdamState:
    """Moments and step counter of Adam for one flat parameter vector.

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.

    dtype : numpy dtype
        Dtype of the parameters; the moments use the same.

    Attributes
    ----------
    first_moment : ndarray of shape (n_params,)
        Running mean of the gradients, ``m``. Never bias-corrected in place.

    second_moment : ndarray of shape (n_params,)
        Running mean of the squared gradients, ``v``. Never bias-corrected in
        place.

    step : int
        Number of updates made so far, ``t``; the next update is step
        ``t + 1``, so the first one uses ``t = 1`` in the bias correction.
    """

    def __init__(self, n_params, dtype):
        self.first_moment = np.zeros(n_params, dtype=dtype)
        self.second_moment = np.zeros(n_params, dtype=dtype)
        self.step = 0
        self._scratch = np.empty((2, n_params), dtype=dtype)


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
    return float(learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step))


def adam_step(params, gradient, state, *, learning_rate, beta_1, beta_2, epsilon):
    """Make one Adam update of ``params`` in place.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Flat parameter vector; updated in place.

    gradient : ndarray of shape (n_params,)
        Gradient of the cost at ``params``. Not modified.

    state : AdamState
        Moments and step counter; updated in place. Its scratch space holds
        the temporaries, so the update allocates nothing.

    learning_rate : float
        Base step size ``lr``.

    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates, in [0, 1).

    epsilon : float
        Added to ``sqrt(v)`` in the denominator.

    Returns
    -------
    params : ndarray of shape (n_params,)
        The same array, updated.

    Notes
    -----
    With ``g`` the gradient and ``t`` counted from 1 (Kingma & Ba, 2015,
    Algorithm 1, in the efficient form of their Section 2, which is the form
    scikit-learn's ``MLPClassifier`` uses)::

        t   = t + 1
        m   = beta_1 * m + (1 - beta_1) * g
        v   = beta_2 * v + (1 - beta_2) * g**2
        lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        params = params - lr_t * m / (sqrt(v) + epsilon)

    The bias correction lives in ``lr_t``; ``m`` and ``v`` keep their running
    values. This is the paper's ``lr * m_hat / (sqrt(v_hat) + eps)`` with
    ``m_hat = m / (1 - beta_1**t)``, ``v_hat = v / (1 - beta_2**t)`` and
    ``eps = epsilon / sqrt(1 - beta_2**t)``: the two forms differ only in where
    epsilon sits. All arithmetic is done in the dtype of ``params``.

    References
    ----------
    Kingma, D. P. and Ba, J. (2015). "Adam: A method for stochastic
    optimization." ICLR. arXiv:1412.6980.
    """
    m, v = state.first_moment, state.second_moment
    numerator, denominator = state._scratch
    state.step += 1
    m *= beta_1
    np.multiply(gradient, 1 - beta_1, out=numerator)
    m += numerator
    v *= beta_2
    np.multiply(gradient, gradient, out=denominator)
    denominator *= 1 - beta_2
    v += denominator
    step_size = bias_corrected_learning_rate(
        learning_rate, beta_1=beta_1, beta_2=beta_2, step=state.step
    )
    np.multiply(m, -step_size, out=numerator)
    np.sqrt(v, out=denominator)
    denominator += epsilon
    numerator /= denominator
    params += numerator
    return params

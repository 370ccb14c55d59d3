"""Activation functions, their derivatives, and the stable output losses.

Hidden activations work in place on a pre-activation array ``Z`` and turn it
into the activation ``A = f(Z)``. Their derivatives are written on the output
``A``, as in scikit-learn's MLP, so backpropagation never keeps ``Z``: for
``logistic`` ``f' = A (1 - A)``, for ``tanh`` ``f' = 1 - A**2``, for ``relu``
``f' = [A > 0]`` and for ``identity`` ``f' = 1``.

The output layer is handled from the logits ``Z`` directly. The log-loss and
the log-probabilities are computed with log-sum-exp and softplus, so they stay
finite and exact where the probabilities round to 0 or 1, and no floating-point
warning is raised, as long as the log-probabilities themselves (about the gaps
between logits) are representable: for ``|Z|`` up to 1e300 in float64.
"""

import numpy as np
from scipy.special import expit

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
OUTPUT_ACTIVATIONS = ("logistic", "softmax")


def _identity(Z):
    return Z


def _logistic(Z):
    return expit(Z, out=Z)


def _tanh(Z):
    return np.tanh(Z, out=Z)


def _relu(Z):
    return np.maximum(Z, 0, out=Z)


def _identity_derivative(A, delta):
    return delta


def _logistic_derivative(A, delta):
    delta *= A
    delta *= 1 - A
    return delta


def _tanh_derivative(A, delta):
    delta *= 1 - A**2
    return delta


def _relu_derivative(A, delta):
    delta *= A > 0
    return delta


_ACTIVATIONS = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": _tanh,
    "relu": _relu,
}

_DERIVATIVES = {
    "identity": _identity_derivative,
    "logistic": _logistic_derivative,
    "tanh": _tanh_derivative,
    "relu": _relu_derivative,
}


def activate(Z, name):
    """Apply a hidden activation function in place.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_units)
        Pre-activations; overwritten with the activations.

    name : {'identity', 'logistic', 'tanh', 'relu'}
        The activation function.

    Returns
    -------
    A : ndarray of shape (n_samples, n_units)
        ``Z`` itself, now holding ``f(Z)``.
    """
    return _ACTIVATIONS[name](Z)


def multiply_by_derivative(A, delta, name):
    """Multiply ``delta`` in place by the activation's derivative.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_units)
        Output of the activation ``f`` in the forward pass.

    delta : ndarray of shape (n_samples, n_units)
        Gradient of the cost with respect to ``A``; overwritten with the
        gradient with respect to the pre-activation, ``delta * f'(Z)``.

    name : {'identity', 'logistic', 'tanh', 'relu'}
        The activation function.

    Returns
    -------
    delta : ndarray of shape (n_samples, n_units)
        The same array as the ``delta`` passed in.
    """
    return _DERIVATIVES[name](A, delta)


def output_probabilities(Z, name):
    """Turn output logits into probabilities, in place.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        Output logits; overwritten with the probabilities.

    name : {'logistic', 'softmax'}
        ``'logistic'`` gives one independent probability per column
        (binary and multilabel targets); ``'softmax'`` gives rows that sum
        to one (multiclass targets).

    Returns
    -------
    P : ndarray of shape (n_samples, n_outputs)
        ``Z`` itself, now holding the probabilities.
    """
    if name == "logistic":
        return expit(Z, out=Z)
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def log_output_probabilities(Z, name):
    """Return log-probabilities of every class from output logits.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        Output logits. Not modified.

    name : {'logistic', 'softmax'}
        The output activation.

    Returns
    -------
    log_proba : ndarray of shape (n_samples, n_classes)
        For ``'softmax'``, ``Z - logsumexp(Z)`` row by row. For ``'logistic'``
        with one output column, the two columns ``log(1 - p)`` and ``log(p)``;
        with several columns (multilabel), ``log(p)`` per column. Finite
        whenever the differences between logits are finite.

    Notes
    -----
    ``log(sigmoid(z)) = -softplus(-z)`` and ``log(1 - sigmoid(z)) =
    -softplus(z)``, with ``softplus(z) = logaddexp(0, z)``.
    """
    if name == "logistic":
        if Z.shape[1] == 1:
            return -np.logaddexp(0, np.hstack([Z, -Z]))
        return -np.logaddexp(0, -Z)
    shifted = Z - Z.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def output_loss_and_probabilities(Z, Y, name, sample_weight=None):
    """Weighted log-loss summed over samples, then probabilities, in place.

    The loss is taken from the logits before they are overwritten, so it is
    exact where a probability rounds to 0 or 1; the probabilities then reuse
    the quantities the loss needed (the row maxima and exponentials).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_outputs)
        Output logits; overwritten with the probabilities, as
        :func:`output_probabilities` would give.

    Y : ndarray of shape (n_samples, n_outputs)
        Indicator targets in the dtype of ``Z`` (one-hot rows for
        ``'softmax'``).

    name : {'logistic', 'softmax'}
        The output activation.

    sample_weight : ndarray of shape (n_samples,), default=None
        Weight of each sample's loss; ``None`` weighs every sample 1.

    Returns
    -------
    loss_sum : float
        ``sum_i s_i * l_i`` where, for ``'logistic'``,
        ``l_i = sum_k softplus(z_ik) - y_ik z_ik`` (binary cross-entropy summed
        over the outputs) and, for ``'softmax'``,
        ``l_i = logsumexp(z_i) - sum_k y_ik z_ik`` (categorical cross-entropy).
        Divide by ``sum(s)`` for the mean.
    """
    if name == "logistic":
        per_sample = np.logaddexp(0, Z).sum(axis=1)
        per_sample -= np.einsum("ij,ij->i", Z, Y)
        expit(Z, out=Z)
    else:
        Z -= Z.max(axis=1, keepdims=True)
        per_sample = -np.einsum("ij,ij->i", Z, Y)
        np.exp(Z, out=Z)
        row_sum = Z.sum(axis=1)
        per_sample += np.log(row_sum)
        Z /= row_sum[:, None]
    if sample_weight is None:
        return float(per_sample.sum())
    return float(per_sample @ sample_weight)

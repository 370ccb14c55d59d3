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
    # numpy's maximum with a scalar runs a slow loop; with a row of zeros,
    # broadcast over the rows, it runs its vectorised one, to the same result:
    # twice as fast or more from about 16 units, slower on narrower rows.
    if Z.shape[1] < 16:
        return np.maximum(Z, 0, out=Z)
    return np.maximum(Z, np.zeros(Z.shape[1], dtype=Z.dtype), out=Z)


def _identity_derivative(A, delta, work):
    return delta


def _logistic_derivative(A, delta, work):
    delta *= A
    delta *= np.subtract(1, A, out=work)
    return delta


def _tanh_derivative(A, delta, work):
    np.square(A, out=work)
    delta *= np.subtract(1, work, out=work)
    return delta


def _relu_derivative(A, delta, work):
    active = np.greater(A, 0, out=work)
    # The mask read as bytes (0 or 1) spares numpy's slower cast from bool;
    # the products are the same.
    delta *= active.view(np.uint8)
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


def multiply_by_derivative(A, delta, name, *, work=None):
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

    work : ndarray of shape (n_samples, n_units), default=None
        Scratch space, so that no array is allocated: for ``f'`` in the dtype
        of ``delta`` for ``'logistic'`` and ``'tanh'``, boolean for the mask
        ``A > 0`` of ``'relu'``. ``None`` allocates it; ``'identity'`` needs
        none.

    Returns
    -------
    delta : ndarray of shape (n_samples, n_units)
        The same array as the ``delta`` passed in.

    Notes
    -----
    The products are rounded as scikit-learn's in-place derivatives round
    them: ``(delta * A) * (1 - A)`` for ``'logistic'`` and
    ``delta * (1 - A**2)`` for ``'tanh'``.
    """
    if work is None and name != "identity":
        work = np.empty(delta.shape, dtype=derivative_work_dtype(name, delta.dtype))
    return _DERIVATIVES[name](A, delta, work)


def derivative_work_dtype(name, dtype):
    """Dtype of the scratch space :func:`multiply_by_derivative` needs.

    Parameters
    ----------
    name : {'identity', 'logistic', 'tanh', 'relu'}
        The activation function.

    dtype : numpy dtype
        Dtype of the deltas.

    Returns
    -------
    numpy dtype or None
        ``bool`` for ``'relu'``, ``dtype`` for ``'logistic'`` and ``'tanh'``,
        None for ``'identity'``, which needs no scratch space.
    """
    if name == "identity":
        return None
    return np.dtype(bool) if name == "relu" else np.dtype(dtype)


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


def output_loss_and_probabilities(Z, Y, name, sample_weight=None, *, work=None):
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
        Indicator targets, boolean or in the dtype of ``Z`` (one-hot rows for
        ``'softmax'``).

    name : {'logistic', 'softmax'}
        The output activation.

    sample_weight : ndarray of shape (n_samples,), default=None
        Weight of each sample's loss; ``None`` weighs every sample 1.

    work : ndarray of shape (n_work,), default=None
        Contiguous scratch space in the dtype of ``Z``, of at least
        :func:`output_work_size` elements, so that without sample weights
        no array is allocated; ``None`` allocates it.

    Returns
    -------
    loss_sum : float
        ``sum_i s_i * l_i`` where, for ``'logistic'``,
        ``l_i = sum_k softplus(z_ik) - y_ik z_ik`` (binary cross-entropy summed
        over the outputs) and, for ``'softmax'``,
        ``l_i = logsumexp(z_i) - sum_k y_ik z_ik`` (categorical cross-entropy).
        Divide by ``sum(s)`` for the mean.

    Notes
    -----
    ``softplus(z) = max(z, 0) + log1p(exp(-|z|))`` and
    ``logsumexp(z_i) = max_k z_ik + log(sum_k exp(z_ik - max_k z_ik))``: no
    exponential overflows. The probabilities are rounded as scikit-learn
    rounds them: ``expit(Z)``, or ``exp(Z - max) / sum(exp(Z - max))`` row by
    row.
    """
    n_samples, n_outputs = Z.shape
    if work is None:
        work = np.empty(output_work_size(n_samples, n_outputs), dtype=Z.dtype)
    if name == "logistic":
        work = work[: Z.size].reshape(Z.shape)
        loss_sum = _binary_log_loss_sum(Z, Y, sample_weight, work)
        expit(Z, out=Z)
        return loss_sum
    # A column of scratch holds the row maxima, then the row sums.
    row = work[:n_samples].reshape(n_samples, 1)
    _row_max(Z, out=row, work=work[n_samples:])
    Z -= row
    target_logits = _weighted_sum_of_products(Z, Y, sample_weight)
    np.exp(Z, out=Z)
    np.add.reduce(Z, axis=1, keepdims=True, out=row)
    Z /= row
    log_normalisers = np.log(row, out=row)[:, 0]
    if sample_weight is None:
        return float(log_normalisers.sum() - target_logits)
    return float(log_normalisers @ sample_weight - target_logits)


def output_work_size(n_samples, n_outputs):
    """Elements of scratch :func:`output_loss_and_probabilities` needs.

    Parameters
    ----------
    n_samples, n_outputs : int
        Shape of the logits.

    Returns
    -------
    int
        ``n_samples * (n_outputs + 1)``.
    """
    return n_samples * (n_outputs + 1)


def _row_max(Z, *, out, work):
    """``Z.max(axis=1, keepdims=True)`` into ``out``; a maximum is exact.

    numpy reduces along short rows slowly. Up to 64 columns, copying ``Z``
    transposed into ``work`` (``Z.size`` elements) and taking the elementwise
    maximum of its rows, a vectorised reduction, is two to four times faster.
    """
    n_samples, n_columns = Z.shape
    if n_columns == 2:
        return np.maximum(Z[:, :1], Z[:, 1:], out=out)
    if not 2 < n_columns <= 64:
        return np.maximum.reduce(Z, axis=1, keepdims=True, out=out)
    columns = work[: Z.size].reshape(n_columns, n_samples)
    np.copyto(columns, Z.T)
    np.maximum.reduce(columns, axis=0, out=out[:, 0])
    return out


def _weighted_sum_of_products(Z, Y, sample_weight):
    """``sum_i s_i sum_k z_ik y_ik``, with one dot product when unweighted."""
    if sample_weight is None:
        return float(np.vdot(Z, Y))
    return float(np.einsum("ij,ij,i->", Z, Y, sample_weight))


def _binary_log_loss_sum(Z, Y, sample_weight, work):
    """``sum_i s_i sum_k softplus(z_ik) - y_ik z_ik`` from the logits."""
    softplus_tail = np.abs(Z, out=work)
    if sample_weight is None:
        # sum(max(z, 0)) = (sum(|z|) + sum(z)) / 2 spares a pass.
        positive_part = 0.5 * float(np.add.reduce(softplus_tail, axis=None))
        positive_part += 0.5 * float(np.add.reduce(Z, axis=None))
    else:
        positive_part = float(np.einsum("ij,i->", np.maximum(Z, 0), sample_weight))
    np.negative(softplus_tail, out=softplus_tail)
    np.exp(softplus_tail, out=softplus_tail)
    np.log1p(softplus_tail, out=softplus_tail)
    if sample_weight is None:
        tail = float(np.add.reduce(softplus_tail, axis=None))
    else:
        tail = float(np.einsum("ij,i->", softplus_tail, sample_weight))
    return tail + positive_part - _weighted_sum_of_products(Z, Y, sample_weight)

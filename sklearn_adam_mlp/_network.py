"""A multilayer perceptron as plain math over one flat parameter vector."""

from itertools import accumulate, pairwise

import numpy as np
import scipy.sparse as sp

from ._activations import (
    activate,
    derivative_work_dtype,
    multiply_by_derivative,
    output_loss_and_probabilities,
    output_work_size,
)


def _matmul_into(A, B, out):
    """Write ``A @ B`` into ``out``; ``A`` may be a scipy sparse matrix."""
    if sp.issparse(A):
        out[...] = A @ B
    else:
        np.matmul(A, B, out=out)
    return out


class Network:
    """A multilayer perceptron: its shape, and the math over its parameters.

    All weights and biases live in one contiguous 1-D vector ``params``: first
    every weight matrix, layer by layer and each in C order, then every bias
    vector (the order of scikit-learn's ``_pack``). :meth:`unpack` returns
    per-layer views into it, so an optimiser, a gradient check or a restart
    works on the single array while the forward pass reads matrices. The
    gradient uses the same layout.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer: ``n_features``, the hidden layer sizes, then
        ``n_outputs``.

    activation : {'identity', 'logistic', 'tanh', 'relu'}
        Activation of the hidden layers.

    out_activation : {'logistic', 'softmax'}
        Activation of the output layer: ``'logistic'`` for binary and
        multilabel targets, ``'softmax'`` for multiclass targets.

    Attributes
    ----------
    n_params : int
        Length of the flat parameter vector.

    n_coefs : int
        Number of weights (not biases); ``params[:n_coefs]`` holds every
        weight matrix, which is what the L2 penalty sums over.

    Notes
    -----
    With ``A_0 = X``, the forward pass is ``Z_l = A_{l-1} W_l + b_l`` and
    ``A_l = f(Z_l)`` for the hidden layers, and ``P = g(Z_L)`` at the output,
    with ``g`` the logistic or softmax function. The cost of a batch with
    sample weights ``s_i`` (all 1 when none are given) is::

        cost = sum_i s_i * l_i / sum(s) + alpha / 2 * sum_l ||W_l||^2 / sum(s)

    where ``l_i`` is the cross-entropy of sample ``i`` (summed over the
    outputs for logistic outputs) and biases are not penalised: the
    convention of scikit-learn's ``MLPClassifier``. Backpropagation starts
    from ``delta_L = s * (P - Y)``, exact for both canonical output/loss
    pairs, and goes ``delta_{l-1} = (delta_l W_l^T) * f'(A_{l-1})``, giving::

        grad W_l = (A_{l-1}^T delta_l + alpha W_l) / sum(s)
        grad b_l = sum_i delta_l[i] / sum(s)
    """

    def __init__(self, layer_units, *, activation, out_activation):
        self.layer_units = tuple(int(n) for n in layer_units)
        self.activation = activation
        self.out_activation = out_activation
        shapes = list(pairwise(self.layer_units))
        self._coef_shapes = shapes
        # Python ints, not numpy's, in the slices: skops stores them as JSON.
        bounds = list(accumulate((a * b for a, b in shapes), initial=0))
        self.n_coefs = bounds[-1]
        bias_bounds = list(accumulate((b for _, b in shapes), initial=self.n_coefs))
        self.n_params = bias_bounds[-1]
        self._coef_slices = [slice(a, b) for a, b in pairwise(bounds)]
        self._intercept_slices = [slice(a, b) for a, b in pairwise(bias_bounds)]

    @property
    def n_layers(self):
        """Number of layers, input and output included."""
        return len(self.layer_units)

    def unpack(self, params):
        """Per-layer views into a flat vector.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameter (or gradient) vector.

        Returns
        -------
        coefs : list of ndarray
            ``coefs[l]`` has shape ``(layer_units[l], layer_units[l + 1])``.

        intercepts : list of ndarray
            ``intercepts[l]`` has shape ``(layer_units[l + 1],)``.
        """
        coefs = [
            params[s].reshape(shape)
            for s, shape in zip(self._coef_slices, self._coef_shapes, strict=True)
        ]
        intercepts = [params[s] for s in self._intercept_slices]
        return coefs, intercepts

    def init_params(self, random_state, dtype=np.float64):
        """Draw Glorot-uniform initial parameters, as scikit-learn's MLP does.

        For each layer in turn, the weight matrix and then the bias vector are
        drawn from ``U(-bound, bound)`` with
        ``bound = sqrt(factor / (fan_in + fan_out))``, ``factor = 2`` for the
        logistic activation and 6 otherwise. The draws are float64 and in the
        same order as ``MLPClassifier``, so the same ``RandomState`` gives the
        same starting point.

        Parameters
        ----------
        random_state : numpy.random.RandomState
            Source of the draws; advanced by the call.

        dtype : {numpy.float64, numpy.float32}, default=numpy.float64
            Dtype of the returned vector.

        Returns
        -------
        params : ndarray of shape (n_params,)
            The flat parameter vector.
        """
        params = np.empty(self.n_params, dtype=dtype)
        coefs, intercepts = self.unpack(params)
        factor = 2.0 if self.activation == "logistic" else 6.0
        for coef, intercept in zip(coefs, intercepts, strict=True):
            fan_in, fan_out = coef.shape
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef[...] = random_state.uniform(-bound, bound, coef.shape)
            intercept[...] = random_state.uniform(-bound, bound, fan_out)
        return params

    def allocate(self, n_rows, dtype, *, backward=True):
        """Work arrays for the forward (and backward) pass of up to ``n_rows``.

        Parameters
        ----------
        n_rows : int
            Largest number of samples a pass will see.

        dtype : numpy dtype
            Dtype of the parameters and data.

        backward : bool, default=True
            Whether to add the arrays :meth:`loss_gradient` needs for
            backpropagation; :meth:`forward` alone needs only the activations.

        Returns
        -------
        buffers : Workspace
            A list holding one ``(n_rows, units)`` array per non-input layer
            for the activations, then, with ``backward=True``, one per hidden
            layer for the backpropagated deltas. A smaller batch uses the
            leading rows. Pass it as ``buffers`` to :meth:`forward` and
            :meth:`loss_gradient`, which then allocate nothing.
        """
        return Workspace(self, n_rows, dtype, backward=backward)

    def forward(self, params, X, *, buffers=None):
        """Forward pass up to the output logits.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameter vector.

        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Input batch, in the dtype of ``params``.

        buffers : Workspace, default=None
            From :meth:`allocate` with at least ``n_samples`` rows; written
            into, so that a training loop allocates nothing. ``None``
            allocates, in the dtype of ``X @ params``.

        Returns
        -------
        activations : list of ndarray
            ``[X, A_1, ..., A_{L-1}, Z_L]``: the input, the hidden activations
            and the output logits (not yet through the output activation).
        """
        n_samples = X.shape[0]
        if buffers is None:
            dtype = np.result_type(X.dtype, params.dtype)
            buffers = self.allocate(n_samples, dtype, backward=False)
        coefs, intercepts = buffers.unpack(params)
        activations = [X]
        last = self.n_layers - 2
        for layer, (coef, intercept) in enumerate(zip(coefs, intercepts, strict=True)):
            Z = _matmul_into(activations[-1], coef, buffers[layer][:n_samples])
            Z += intercept
            if layer != last:
                activate(Z, self.activation)
            activations.append(Z)
        return activations

    def loss_gradient(
        self, params, X, Y, *, alpha, sample_weight=None, gradient=None, buffers=None
    ):
        """Cost of a batch and its exact gradient by backpropagation.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            Flat parameter vector.

        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Input batch, in the dtype of ``params``.

        Y : ndarray of shape (n_samples, n_outputs)
            Indicator targets, boolean or in the dtype of ``params``.

        alpha : float
            Strength of the L2 penalty on the weights.

        sample_weight : ndarray of shape (n_samples,), default=None
            Per-sample weights; ``None`` weighs every sample 1.

        gradient : ndarray of shape (n_params,), default=None
            Written with the gradient when given; otherwise allocated.

        buffers : Workspace, default=None
            Work arrays from :meth:`allocate`; ``None`` allocates. The hidden
            activations of the batch are left in them; the other arrays
            hold intermediate values.

        Returns
        -------
        loss : float
            The cost given in the class Notes.

        gradient : ndarray of shape (n_params,)
            Its gradient with respect to ``params``, in the same layout.

        Notes
        -----
        Each number is rounded as in scikit-learn's ``MLPClassifier``
        (``grad W_l`` as ``(A_{l-1}^T delta_l + alpha W_l) / sum(s)``), so the
        two give the same gradient bit for bit. When the output has one
        column, ``delta_L W_L^T`` is an outer product and is computed as one
        broadcast multiplication.
        """
        n_samples = X.shape[0]
        if buffers is None:
            buffers = self.allocate(n_samples, params.dtype)
        if gradient is None:
            gradient = np.empty_like(params)
        sw_sum = n_samples if sample_weight is None else sample_weight.sum()

        activations = self.forward(params, X, buffers=buffers)
        # The output buffer goes logits -> probabilities -> output delta.
        delta = activations[-1]
        loss = output_loss_and_probabilities(
            delta,
            Y,
            self.out_activation,
            sample_weight,
            work=buffers.output_work,
        )
        loss /= sw_sum
        if alpha:
            weights = params[: self.n_coefs]
            loss += (0.5 * alpha) * float(weights @ weights) / sw_sum
        delta -= Y
        if sample_weight is not None:
            delta *= sample_weight[:, None]

        coefs, _ = buffers.unpack(params)
        coef_grads, intercept_grads = buffers.unpack(gradient)
        hidden_deltas = buffers.deltas
        for layer in range(self.n_layers - 2, -1, -1):
            _matmul_into(activations[layer].T, delta, coef_grads[layer])
            _column_sums(delta, out=intercept_grads[layer])
            if layer > 0:
                previous = hidden_deltas[layer - 1][:n_samples]
                if delta.shape[1] == 1:
                    np.multiply(delta, coefs[layer].T, out=previous)
                else:
                    np.matmul(delta, coefs[layer].T, out=previous)
                multiply_by_derivative(
                    activations[layer],
                    previous,
                    self.activation,
                    work=buffers.derivative_work(previous),
                )
                delta = previous
        # The penalty and the division by sum(s), once over the flat vector.
        if alpha:
            _add_scaled(
                gradient[: self.n_coefs],
                params[: self.n_coefs],
                alpha,
                work=buffers.free_after_backward,
            )
        gradient /= sw_sum
        return loss, gradient


def _column_sums(delta, *, out):
    """``np.sum(delta, axis=0)`` into ``out``, with the same rounding, faster.

    numpy adds the rows of a C-ordered array one after the other, and so does
    ``einsum``, whose loop is faster on narrow arrays. A single column is
    summed pairwise by numpy, which ``einsum`` would not do.
    """
    if 1 < delta.shape[1] <= 16:
        return np.einsum("ij->j", delta, out=out)
    return np.add.reduce(delta, axis=0, out=out)


def _add_scaled(target, source, scale, *, work):
    """``target += scale * source`` through ``work``, without a temporary.

    Rounded as that expression is (the product, then the sum), in chunks of
    the size of ``work``.
    """
    size = work.shape[0]
    for start in range(0, target.shape[0], size):
        chunk = target[start : start + size]
        chunk += np.multiply(
            source[start : start + size], scale, out=work[: chunk.shape[0]]
        )


class Workspace(list):
    """Work arrays for the passes of a :class:`Network` over up to ``n_rows`` rows.

    Made by :meth:`Network.allocate`. As a list it holds one array of shape
    ``(n_rows, units)`` per non-input layer for the activations (the last one
    for the output logits), then, for the backward pass, one per hidden layer
    for the deltas; a batch of fewer rows uses the leading rows. It also holds
    the scratch space of the loss and of the derivatives, and remembers the
    per-layer views of the last two flat vectors it served (the parameters and
    the gradient in a training loop), so that a pass allocates nothing.

    Parameters
    ----------
    network : Network
        The network whose passes use the arrays.

    n_rows : int
        Largest number of samples a pass will see.

    dtype : numpy dtype
        Dtype of the parameters and data.

    backward : bool, default=True
        Whether to add what :meth:`Network.loss_gradient` needs.

    Attributes
    ----------
    deltas : list of ndarray
        The delta arrays, one per hidden layer (empty without ``backward``).

    output_work : ndarray of shape (n_work,)
        Scratch space of the output loss (empty without ``backward``).

    free_after_backward : ndarray of shape (n_scratch,)
        One flat array over the output logits and the deltas, free once the
        gradient has been backpropagated.
    """

    def __init__(self, network, n_rows, dtype, *, backward=True):
        hidden = network.layer_units[1:-1]
        n_outputs = network.layer_units[-1]
        super().__init__(np.empty((n_rows, n), dtype=dtype) for n in hidden)
        # The logits and the deltas share one block, reused as scratch once
        # the gradient is formed.
        units = (n_outputs, *hidden) if backward else (n_outputs,)
        block = np.empty(n_rows * sum(units), dtype=dtype)
        starts = n_rows * np.cumsum([0, *units[:-1]])
        arrays = [
            block[start : start + n_rows * n].reshape(n_rows, n)
            for start, n in zip(starts.tolist(), units, strict=True)
        ]
        self.extend(arrays)
        self.deltas = arrays[1:]
        self.free_after_backward = block
        self.output_work = np.empty(
            output_work_size(n_rows, n_outputs) if backward else 0, dtype=dtype
        )
        work_dtype = derivative_work_dtype(network.activation, dtype)
        if backward and hidden and work_dtype is not None:
            self._derivative_block = np.empty(n_rows * max(hidden), dtype=work_dtype)
        else:
            self._derivative_block = None
        self._network = network
        self._unpacked = []

    def unpack(self, vector):
        """:meth:`Network.unpack`, remembered for the last two vectors seen."""
        for seen, views in self._unpacked:
            if seen is vector:
                return views
        views = self._network.unpack(vector)
        self._unpacked = [(vector, views), *self._unpacked[:1]]
        return views

    def derivative_work(self, delta):
        """Scratch space for :func:`multiply_by_derivative` on ``delta``.

        Parameters
        ----------
        delta : ndarray of shape (n_samples, n_units)
            A hidden layer's delta.

        Returns
        -------
        work : ndarray of shape (n_samples, n_units) or None
            Contiguous scratch for the derivative (see
            :func:`multiply_by_derivative`); None for ``'identity'``, which
            needs none.
        """
        if self._derivative_block is None:
            return None
        return self._derivative_block[: delta.size].reshape(delta.shape)

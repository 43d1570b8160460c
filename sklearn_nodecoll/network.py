"""The multilayer perceptron that forms the right-hand side of the ODE.

The network maps the concatenation ``x = [y, u]`` of the scaled states and
inputs to the scaled state derivative. Layer ``l`` computes
``a_l = act(a_{l-1} @ W_l + b_l)``, with ``W_l`` of shape
(fan_in, fan_out) as in scikit-learn's ``MLPRegressor.coefs_``, and the
output layer is linear.

All weights and biases are packed into one flat vector ``theta``: for each
layer in turn, ``W_l`` in row-major order followed by ``b_l``. Every backend
unpacks ``theta`` with this layout.
"""

import numpy as np

# Each activation: (function, its derivative). All are smooth, because IPOPT
# needs second derivatives; ReLU is left out for that reason.
ACTIVATIONS = {
    "tanh": (np.tanh, lambda a: 1.0 - np.tanh(a) ** 2),
    "logistic": (
        lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)),
        lambda a: 0.25 * (1.0 - np.tanh(0.5 * a) ** 2),
    ),
    "softplus": (
        lambda a: np.logaddexp(0.0, a),
        lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)),
    ),
    "identity": (lambda a: a, np.ones_like),
}


def layer_shapes(layer_sizes):
    """Return the (fan_in, fan_out) shape of each weight matrix."""
    return [(layer_sizes[i], layer_sizes[i + 1]) for i in range(len(layer_sizes) - 1)]


def n_parameters(layer_sizes):
    """Return the length of the packed parameter vector."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in layer_shapes(layer_sizes))


def pack(coefs, intercepts):
    """Pack lists of weight matrices and bias vectors into one vector."""
    parts = []
    for W, b in zip(coefs, intercepts):
        parts.append(np.asarray(W, dtype=float).ravel())
        parts.append(np.asarray(b, dtype=float).ravel())
    return np.concatenate(parts)


def unpack(theta, layer_sizes):
    """Unpack a parameter vector into lists of weight matrices and biases.

    Returns
    -------
    coefs : list of ndarray
        ``coefs[l]`` of shape (layer_sizes[l], layer_sizes[l + 1]).
    intercepts : list of ndarray
        ``intercepts[l]`` of shape (layer_sizes[l + 1],).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll import network
    >>> theta = np.arange(network.n_parameters((2, 3, 2)), dtype=float)
    >>> coefs, intercepts = network.unpack(theta, (2, 3, 2))
    >>> [W.shape for W in coefs], bool((network.pack(coefs, intercepts) == theta).all())
    ([(2, 3), (3, 2)], True)
    """
    theta = np.asarray(theta, dtype=float)
    expected = n_parameters(layer_sizes)
    if theta.shape != (expected,):
        raise ValueError(
            f"theta must have shape ({expected},) for layer sizes "
            f"{tuple(layer_sizes)}, got {theta.shape}."
        )
    coefs, intercepts = [], []
    offset = 0
    for fan_in, fan_out in layer_shapes(layer_sizes):
        coefs.append(theta[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out))
        offset += fan_in * fan_out
        intercepts.append(theta[offset : offset + fan_out])
        offset += fan_out
    return coefs, intercepts


def xavier_init(layer_sizes, random_state):
    """Draw weights by Glorot (Xavier) uniform initialisation; biases are zero.

    With inputs of unit scale, this keeps every pre-activation of order one.

    Parameters
    ----------
    layer_sizes : sequence of int
    random_state : numpy.random.RandomState

    Returns
    -------
    theta : ndarray of shape (n_parameters(layer_sizes),)
    """
    coefs, intercepts = [], []
    for fan_in, fan_out in layer_shapes(layer_sizes):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        coefs.append(random_state.uniform(-bound, bound, size=(fan_in, fan_out)))
        intercepts.append(np.zeros(fan_out))
    return pack(coefs, intercepts)


def forward(x, coefs, intercepts, activation):
    """Evaluate the network at the rows of ``x``.

    Parameters
    ----------
    x : ndarray of shape (n_points, n_features)
    coefs, intercepts : lists of ndarray
        As returned by :func:`unpack`.
    activation : str
        A key of :data:`ACTIVATIONS`.

    Returns
    -------
    output : ndarray of shape (n_points, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll import network
    >>> coefs = [np.eye(2), np.eye(2)]
    >>> intercepts = [np.zeros(2), np.zeros(2)]
    >>> network.forward(np.array([[0.0, 1.0]]), coefs, intercepts, "identity").tolist()
    [[0.0, 1.0]]
    """
    act = ACTIVATIONS[activation][0]
    a = x
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        a = act(a @ W + b)
    return a @ coefs[-1] + intercepts[-1]


def input_jacobian(x, coefs, intercepts, activation):
    """Return the derivative of the network output with respect to its input.

    Parameters
    ----------
    x : ndarray of shape (n_features,)
        One input point.

    Returns
    -------
    jacobian : ndarray of shape (n_outputs, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll import network
    >>> coefs = [2.0 * np.eye(2), np.eye(2)]
    >>> intercepts = [np.zeros(2), np.zeros(2)]
    >>> network.input_jacobian(np.zeros(2), coefs, intercepts, "tanh").tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    act, act_prime = ACTIVATIONS[activation]
    a = np.asarray(x, dtype=float)
    jacobian = np.eye(a.shape[0])
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        z = a @ W + b
        jacobian = act_prime(z)[:, None] * (W.T @ jacobian)
        a = act(z)
    return coefs[-1].T @ jacobian

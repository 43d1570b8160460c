"""Initial weights for the collocation problem.

Starting IPOPT from random weights on a long horizon takes hundreds of
iterations, because the constraints ``D Y = f_theta(Y, u)`` then disagree
with the smoothed states everywhere. Derivative matching first fits the
weights alone to the smoothed states:

.. math::

    \\min_\\theta \\; \\frac{1}{n} \\lVert D Y_s - f_\\theta(Y_s, u) \\rVert^2
        + \\alpha \\lVert \\theta \\rVert^2,

with ``Y_s`` the initial guess of the node states (LOWESS-smoothed data)
and ``n`` the number of residual entries. This is a small nonlinear least
squares problem in ``theta`` (the "two-stage" or gradient-matching
estimate).
"""

import logging

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from threadpoolctl import threadpool_limits

from . import network

logger = logging.getLogger(__name__)


def parameter_jacobian(x, coefs, intercepts, activation):
    """Return the derivative of the network output with respect to the packed parameters.

    Parameters
    ----------
    x : ndarray of shape (n_points, n_features)
    coefs, intercepts : lists of ndarray
        As returned by :func:`network.unpack`.
    activation : str

    Returns
    -------
    jacobian : ndarray of shape (n_points, n_outputs, n_parameters)
        Columns in the packing order of :func:`network.pack`.
    """
    act, act_prime = network.ACTIVATIONS[activation]
    layer_inputs, slopes = [np.asarray(x, dtype=float)], []
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        pre_activation = layer_inputs[-1] @ W + b
        slopes.append(act_prime(pre_activation))
        layer_inputs.append(act(pre_activation))

    n_points = layer_inputs[0].shape[0]
    n_outputs = coefs[-1].shape[1]
    # delta[p, o, j]: derivative of output o with respect to the
    # pre-activation j of the current layer, at point p.
    delta = np.broadcast_to(np.eye(n_outputs), (n_points, n_outputs, n_outputs))
    blocks = []
    for layer in range(len(coefs) - 1, -1, -1):
        a = layer_inputs[layer]
        weight_block = np.einsum("pi,poj->poij", a, delta).reshape(n_points, n_outputs, -1)
        blocks.append(np.concatenate([weight_block, delta], axis=2))
        if layer > 0:
            delta = np.einsum("poj,ij->poi", delta, coefs[layer]) * slopes[layer - 1][:, None, :]
    return np.concatenate(blocks[::-1], axis=2)


def derivative_matching(problem, params_init, max_iter=50, tol=1e-6):
    """Fit the weights to the slopes of the initial node states.

    Runs Levenberg-Marquardt iterations on the normal equations, whose
    matrix has the size of ``theta`` whatever the number of nodes.

    Parameters
    ----------
    problem : CollocationProblem
        Its ``states_init`` are the states to match.
    params_init : ndarray of shape (n_parameters,)
        Starting weights, for example from :func:`network.xavier_init`.
    max_iter : int, default=50
        Maximum number of Jacobian evaluations.
    tol : float, default=1e-6
        Stop when an accepted step lowers the cost by less than this
        fraction.

    Returns
    -------
    params : ndarray of shape (n_parameters,)
    """
    # The matrices are small (the size of theta), and multithreaded BLAS
    # spends far longer synchronising than computing on them when the cores
    # are busy: a 194 x 194 Cholesky factorisation took 0.25 s with two
    # OpenBLAS threads on a loaded 2-core machine and 3 ms with one.
    with threadpool_limits(limits=1, user_api="blas"):
        return _derivative_matching(problem, params_init, max_iter, tol)


def complete_rows(problem):
    """Return a mask of the collocation rows whose trajectory observes every state.

    A state never observed in a trajectory has only a placeholder initial
    guess there, whose slopes carry no information about the dynamics.
    """
    observed_per_node = np.asarray(problem.obs_matrix.T @ problem.obs_mask) != 0
    complete_nodes = np.zeros(problem.n_nodes, dtype=bool)
    for nodes in problem.trajectory_nodes:
        complete_nodes[nodes] = observed_per_node[nodes].any(axis=0).all()
    return complete_nodes[problem.collocation_index]


def _derivative_matching(problem, params_init, max_iter, tol):
    rows = complete_rows(problem)
    if not rows.any():
        logger.info(
            "Derivative matching skipped: every trajectory has a state it never observes."
        )
        return np.asarray(params_init, dtype=float).copy()
    states = problem.states_init
    slopes = np.asarray(problem.diff_matrix @ states)[rows]
    features = problem.network_inputs(states)[rows]
    data_weight = 1.0 / slopes.size
    alpha = problem.alpha

    def residuals(theta):
        coefs, intercepts = network.unpack(theta, problem.layer_sizes)
        return (network.forward(features, coefs, intercepts, problem.activation) - slopes).ravel()

    def cost(theta, residual):
        return data_weight * float(residual @ residual) + alpha * float(theta @ theta)

    theta = np.asarray(params_init, dtype=float).copy()
    residual = residuals(theta)
    current = initial = cost(theta, residual)
    damping = 1e-3
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        coefs, intercepts = network.unpack(theta, problem.layer_sizes)
        jacobian = parameter_jacobian(features, coefs, intercepts, problem.activation)
        jacobian = jacobian.reshape(slopes.size, theta.size)
        # Gauss-Newton model of the cost, halved: gradient and curvature.
        gradient = data_weight * (jacobian.T @ residual) + alpha * theta
        curvature = data_weight * (jacobian.T @ jacobian) + alpha * np.eye(theta.size)
        diagonal = np.diag(curvature).copy()
        improved = False
        while damping < 1e10:
            system = curvature + damping * np.diag(diagonal)
            try:
                step = -cho_solve(cho_factor(system), gradient)
            except LinAlgError:
                damping *= 10.0
                continue
            candidate = theta + step
            candidate_residual = residuals(candidate)
            candidate_cost = cost(candidate, candidate_residual)
            if np.isfinite(candidate_cost) and candidate_cost < current:
                improved = True
                break
            damping *= 10.0
        if not improved:
            break
        decrease = (current - candidate_cost) / current
        theta, residual, current = candidate, candidate_residual, candidate_cost
        damping = max(damping / 10.0, 1e-12)
        if decrease < tol:
            break
    logger.debug(
        "Derivative matching: cost %.4g -> %.4g in %d iterations.", initial, current, n_iter
    )
    return theta

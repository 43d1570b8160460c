"""One description of the collocation training problem, shared by all backends.

Every backend (CasADi, Pyomo) solves the same nonlinear program, built here
from scaled data:

.. math::

    \\min_{Y, \\theta} \\; \\frac{1}{|O|} \\sum_{(o, i) \\in O}
        \\big( (P Y)_{o i} - y_{o i} \\big)^2 + \\alpha \\lVert \\theta \\rVert_2^2
    \\quad \\text{s.t.} \\quad (D Y)_c = f_\\theta(Y_{k_c}, u_{k_c})
    \\;\\; \\text{for every collocation row } c,

where ``Y`` contains the scaled states at the nodes, ``P`` interpolates node
values to the observation times, ``O`` is the set of observed (not missing)
entries, ``D`` contains the rows of the differentiation matrix and ``f_theta``
is the network of :mod:`sklearn_nodecoll.network`.
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from . import network


@dataclass
class Scaling:
    """Affine maps between user units and the scaled units of the problem.

    ``tau = (t - time_offset) / time_scale``,
    ``z = (y - state_mean) / state_scale`` and
    ``v = (u - input_mean) / input_scale``.
    """

    time_offset: float
    time_scale: float
    state_mean: np.ndarray
    state_scale: np.ndarray
    input_mean: np.ndarray
    input_scale: np.ndarray

    def scale_time(self, t):
        return (np.asarray(t, dtype=float) - self.time_offset) / self.time_scale

    def unscale_time(self, tau):
        return np.asarray(tau, dtype=float) * self.time_scale + self.time_offset

    def scale_states(self, y):
        return (np.asarray(y, dtype=float) - self.state_mean) / self.state_scale

    def unscale_states(self, z):
        return np.asarray(z, dtype=float) * self.state_scale + self.state_mean

    def scale_inputs(self, u):
        return (np.asarray(u, dtype=float) - self.input_mean) / self.input_scale


@dataclass
class CollocationProblem:
    """The discretised training problem in scaled units.

    Attributes
    ----------
    layer_sizes : tuple of int
        ``(n_states + n_inputs, *hidden_layer_sizes, n_states)``.
    activation : str
        Hidden-layer activation, a key of ``network.ACTIVATIONS``.
    alpha : float
        Weight of the L2 penalty on the packed parameters.
    node_times : ndarray of shape (n_nodes,)
        Scaled times of all nodes, trajectory after trajectory.
    diff_matrix : scipy.sparse.csr_matrix of shape (n_rows, n_nodes)
        Block-diagonal differentiation rows of all trajectories.
    collocation_index : ndarray of shape (n_rows,)
        Node at which each collocation row evaluates the network.
    node_inputs : ndarray of shape (n_nodes, n_inputs)
        Scaled inputs at the nodes.
    obs_matrix : scipy.sparse.csr_matrix of shape (n_obs, n_nodes)
        Interpolation from node values to observation times.
    obs_values : ndarray of shape (n_obs, n_states)
        Scaled observations; zero where missing.
    obs_mask : ndarray of shape (n_obs, n_states)
        1.0 where an entry is observed, 0.0 where it is missing.
    states_init : ndarray of shape (n_nodes, n_states)
        Initial guess of the scaled states at the nodes.
    params_init : ndarray of shape (n_parameters,)
        Initial guess of the packed network parameters.
    trajectory_nodes : list of ndarray
        Node indices of each trajectory; the first is its initial node.
    grids : list of collocation.Grid
        The grid of each trajectory, in scaled time.
    prox_weight : float, default=0.0
        Weight ``w`` of the proximal term ``(w / 2) ||theta - prox_center||^2``
        added to the objective; consensus ADMM sets it in its sub-problems.
    prox_center : ndarray of shape (n_parameters,) or None, default=None
        Centre of the proximal term; None means zero.
    multipliers_init : ndarray of shape (n_constraints,) or None, default=None
        Initial guess of the constraint multipliers, from an earlier solve
        of a nearby problem. The CasADi backend then starts IPOPT from it.
        None lets IPOPT estimate them.
    """

    layer_sizes: tuple
    activation: str
    alpha: float
    node_times: np.ndarray
    diff_matrix: sp.csr_matrix
    collocation_index: np.ndarray
    node_inputs: np.ndarray
    obs_matrix: sp.csr_matrix
    obs_values: np.ndarray
    obs_mask: np.ndarray
    states_init: np.ndarray
    params_init: np.ndarray
    trajectory_nodes: list = field(default_factory=list)
    grids: list = field(default_factory=list)
    prox_weight: float = 0.0
    prox_center: np.ndarray = None
    multipliers_init: np.ndarray = None

    @property
    def n_nodes(self):
        return self.node_times.shape[0]

    @property
    def n_states(self):
        return self.layer_sizes[-1]

    @property
    def n_inputs(self):
        return self.layer_sizes[0] - self.layer_sizes[-1]

    @property
    def n_parameters(self):
        return self.params_init.shape[0]

    @property
    def n_observed(self):
        return float(self.obs_mask.sum())

    def network_inputs(self, states):
        """Stack states and inputs at the collocation nodes as network inputs."""
        index = self.collocation_index
        return np.hstack([states[index], self.node_inputs[index]])

    def objective(self, states, params):
        """Evaluate the objective at node states and packed parameters."""
        error = self.obs_mask * (self.obs_matrix @ states - self.obs_values)
        value = np.sum(error**2) / self.n_observed + self.alpha * params @ params
        if self.prox_weight:
            offset = self.prox_offset(params)
            value += 0.5 * self.prox_weight * offset @ offset
        return float(value)

    def prox_offset(self, params):
        """Return ``params - prox_center``, the argument of the proximal term."""
        if self.prox_center is None:
            return params
        return params - self.prox_center

    def residuals(self, states, params):
        """Evaluate ``D Y - f_theta(Y, u)`` at every collocation row.

        Returns
        -------
        residuals : ndarray of shape (n_rows, n_states)
        """
        coefs, intercepts = network.unpack(params, self.layer_sizes)
        rhs = network.forward(self.network_inputs(states), coefs, intercepts, self.activation)
        return self.diff_matrix @ states - rhs


def smooth_states(times, values, at, frac):
    """Smooth each column of ``values`` by LOWESS and evaluate it at ``at``.

    Missing entries (NaN) are left out. A column with fewer than three
    observed entries is filled with its mean, or zero when it has none.
    """
    # Imported here so that predicting never needs statsmodels.
    from statsmodels.nonparametric.smoothers_lowess import lowess

    smoothed = np.zeros((np.size(at), values.shape[1]))
    for i in range(values.shape[1]):
        observed = np.isfinite(values[:, i])
        n_observed = int(observed.sum())
        if n_observed == 0:
            continue
        column_times = times[observed]
        column_values = values[observed, i]
        if n_observed < 3 or np.ptp(column_times) == 0:
            smoothed[:, i] = column_values.mean()
            continue
        # Enough neighbours for a local linear fit even on short series.
        column_frac = min(1.0, max(frac, 5.0 / n_observed))
        fitted = lowess(
            column_values, column_times, frac=column_frac, it=1, xvals=np.asarray(at, dtype=float)
        )
        if not np.all(np.isfinite(fitted)):
            # LOWESS returns NaN where a window contains a single distinct time;
            # fall back to linear interpolation of the data there.
            order = np.argsort(column_times, kind="stable")
            fallback = np.interp(at, column_times[order], column_values[order])
            fitted = np.where(np.isfinite(fitted), fitted, fallback)
        smoothed[:, i] = fitted
    return smoothed


def interpolate_states(times, values, at):
    """Interpolate each column linearly through its observed entries."""
    result = np.zeros((np.size(at), values.shape[1]))
    for i in range(values.shape[1]):
        observed = np.isfinite(values[:, i])
        if observed.any():
            order = np.argsort(times[observed], kind="stable")
            result[:, i] = np.interp(at, times[observed][order], values[observed, i][order])
    return result


def estimate_time_scale(trajectories, frac, problem_span=None):
    """Estimate the time over which the scaled states change by about one unit.

    The root-mean-square derivative of the LOWESS-smoothed, standardised
    states sets the scale, so that scaled derivatives are of order one
    whatever the time unit. Falls back to the longest span when the
    smoothed states are constant.

    Parameters
    ----------
    trajectories : list of (times, scaled_states)
        Times in user units, sorted; states standardised, may contain NaN.
    frac : float or sequence of float
        LOWESS window as a fraction of the samples, for all trajectories or
        one per trajectory.
    problem_span : float or None, default=None
        Maximum time span of one collocation problem, which bounds the
        scale from below (see the comment in the code). None means the
        span of the longest trajectory. Consensus ADMM passes the span of its
        longest window.
    """
    squared, count = 0.0, 0
    longest_span = max(float(np.ptp(times)) for times, _ in trajectories)
    shortest_spacing = longest_span
    fracs = np.broadcast_to(np.asarray(frac, dtype=float), (len(trajectories),))
    for (times, states), frac in zip(trajectories, fracs):
        distinct = np.unique(times)
        if distinct.size < 3:
            continue
        shortest_spacing = min(shortest_spacing, float(np.median(np.diff(distinct))))
        smoothed = smooth_states(times, states, distinct, frac)
        slopes = np.gradient(smoothed, distinct, axis=0)
        squared += float(np.sum(slopes**2))
        count += slopes.size
    if count == 0 or squared == 0.0:
        return longest_span
    rms_slope = np.sqrt(squared / count)
    # Keep at least a thousandth of the problem's span, and one median
    # sampling interval, per scaled unit, so that a near-jump in the data
    # cannot make the scaled horizon enormous. IPOPT needs the first bound on
    # long records: on 10,000 forced Van der Pol samples over [0, 750], the
    # natural scale (0.49) made it regularise the Hessian by 1e6 within five
    # iterations, and the bounded one (0.75) converged in 46. The bound also
    # coarsens the default grid, so it uses one problem's span, not the
    # record's (benchmarks/README.md).
    span = longest_span if problem_span is None else float(problem_span)
    lower = max(span / 1000.0, shortest_spacing)
    return float(np.clip(1.0 / rms_slope, lower, longest_span))


def stack_problem(
    grids,
    observations,
    node_inputs,
    states_init,
    layer_sizes,
    activation,
    alpha,
    params_init,
):
    """Assemble the problem of several trajectories with shared parameters.

    Parameters
    ----------
    grids : list of collocation.Grid
        One grid per trajectory, in scaled time.
    observations : list of (times, values)
        Scaled observation times and values (NaN for missing) per trajectory.
    node_inputs : list of ndarray of shape (n_nodes_k, n_inputs)
    states_init : list of ndarray of shape (n_nodes_k, n_states)
    layer_sizes, activation, alpha, params_init
        See :class:`CollocationProblem`.
    """
    offsets = np.cumsum([0] + [grid.n_nodes for grid in grids])
    trajectory_nodes = [np.arange(offsets[k], offsets[k + 1]) for k in range(len(grids))]
    diff_matrix = sp.block_diag([grid.diff_matrix for grid in grids], format="csr")
    obs_matrix = sp.block_diag(
        [grid.interpolation(times) for grid, (times, _) in zip(grids, observations)],
        format="csr",
    )
    values = np.vstack([values for _, values in observations])
    mask = np.isfinite(values)
    return CollocationProblem(
        layer_sizes=tuple(int(size) for size in layer_sizes),
        activation=activation,
        alpha=float(alpha),
        node_times=np.concatenate([grid.nodes for grid in grids]),
        diff_matrix=diff_matrix,
        collocation_index=np.concatenate(
            [grid.collocation_index + offsets[k] for k, grid in enumerate(grids)]
        ),
        node_inputs=np.vstack(node_inputs),
        obs_matrix=obs_matrix,
        obs_values=np.where(mask, values, 0.0),
        obs_mask=mask.astype(float),
        states_init=np.vstack(states_init),
        params_init=np.asarray(params_init, dtype=float),
        trajectory_nodes=trajectory_nodes,
        grids=list(grids),
    )

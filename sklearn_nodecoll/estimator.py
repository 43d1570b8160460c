"""The scikit-learn estimator that trains a neural ODE by collocation."""

import dataclasses
import functools
import logging
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import _num_samples, check_array, check_is_fitted

from . import _validation, collocation, initialization, network, simulation
from . import problem as problem_module
from .exceptions import IntegrationError, SolverError
from .persistence import package_version, warn_on_version_mismatch

logger = logging.getLogger(__name__)


def _show_package_log():
    """Send the package's INFO messages to standard error if logging is not configured.

    ``verbose=1`` promises progress lines, but a script that never configured
    ``logging`` would show nothing; a configured application keeps its own
    handlers.
    """
    package_logger = logging.getLogger("sklearn_nodecoll")
    if logging.getLogger().hasHandlers() or package_logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)

# At least this many distinct times per trajectory: two define only a line,
# and LOWESS and the time-scale estimate need three.
MIN_DISTINCT_TIMES = 3
# Samples in a LOWESS window when lowess_frac="auto"; on the forced Van der
# Pol benchmark (noise 0.1, 13 samples per time unit) a window of 20 samples
# gave initial states that IPOPT refined in about 30 iterations, while a
# tenth of 2000 samples oversmoothed whole periods away.
AUTO_LOWESS_WINDOW = 20
# Upper bound on Radau elements per scaled time unit when
# n_collocation="auto". In one scaled unit the scaled states (standard
# deviation 2) change by about 0.5, a quarter of a standard deviation, which
# one element of degree 3 resolves; more only cost time on densely sampled
# records.
AUTO_ELEMENTS_PER_TIME_SCALE = 1

# Scaled states have this standard deviation, and the scaled time unit is
# chosen so that their rate of change has this root-mean-square value. Both
# set how much the penalty alpha * ||theta||^2 shrinks the network. On the
# forced Van der Pol benchmark (benchmarks/bench_vanderpol.py, alpha=1e-3,
# Xavier weights, lowess_frac=0.1), unit values gave a forecast MSE of 0.054
# and these values 0.007, the same for five seeds.
# Over a 10 times longer record (2000 samples, 1000 nodes) these values
# converge in 37 IPOPT iterations with the MUMPS settings of
# _casadi_backend.mumps_options.
SCALED_STATE_STD = 2.0
SCALED_RATE_RMS = 0.5


# Attributes set from the data before solving, which fit_pyomo_model restores.
_DATA_ATTRIBUTES = ("n_features_in_", "feature_names_in_", "_y_ndim", "n_states_", "n_inputs_", "scaling_")


@dataclasses.dataclass
class _FitSetup:
    """The problem of one fit and what storing its result needs."""

    problem: object
    random_state: np.random.RandomState
    ids: np.ndarray
    t: np.ndarray
    inputs: np.ndarray
    trajectory_rows: list
    layer_sizes: tuple
    attributes: dict = dataclasses.field(default_factory=dict)
    owner: object = None
    y: np.ndarray = None


class CollocationNeuralODE(RegressorMixin, BaseEstimator):
    """Neural ODE trained by simultaneous collocation and IPOPT.

    Learns ``dy/dt = f_theta(y, u)``, with ``f_theta`` a multilayer
    perceptron, from sampled trajectories. The states at the collocation
    nodes and the weights ``theta`` are all unknowns of one nonlinear
    program, with the ODE imposed as equality constraints, which IPOPT
    solves with exact second derivatives:

    .. math::

        \\min_{Y, \\theta} \\; \\frac{1}{|O|} \\sum_{(o, i) \\in O}
            \\big( (P Y)_{o i} - y_{o i} \\big)^2
            + \\alpha \\lVert \\theta \\rVert_2^2
        \\quad \\text{s.t.} \\quad D Y = f_\\theta(Y, u)
        \\text{ at the collocation nodes,}

    where ``P`` interpolates the node states to the observation times and
    ``O`` is the set of observed entries of ``y``. Time, states and inputs
    are standardised internally (see Notes).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(32,)
        Width of each hidden layer.
    activation : {"tanh", "logistic", "softplus", "identity"}, default="tanh"
        Hidden-layer activation. All are smooth, as IPOPT needs second
        derivatives.
    alpha : float, default=1e-3
        Weight of the L2 penalty ``alpha * ||theta||^2`` on all weights and
        biases, in the scaled units of the problem.
    collocation : {"radau", "chebyshev"}, default="radau"
        ``"radau"``: finite elements with Radau IIA points, sparse and fast.
        ``"chebyshev"``: one global polynomial through Chebyshev-Gauss-Lobatto
        nodes, as in Shapovalova and Tsay (2025); dense, so its cost grows
        with the cube of the number of nodes.
    n_collocation : int or "auto", default="auto"
        Number of nodes per trajectory (for ``"radau"``, rounded up to
        ``degree * n_elements + 1``). ``"auto"`` uses about half the number
        of distinct sample times for ``"radau"``, with at least 4 elements
        and at most ``AUTO_ELEMENTS_PER_TIME_SCALE`` elements per
        ``time_scale_`` (so densely sampled records do not get more nodes
        than the dynamics need), and the number of distinct sample times,
        at most 200, for ``"chebyshev"``.
    degree : int, default=3
        Radau points per element; ignored by ``"chebyshev"``.
    state_init : {"lowess", "interpolate", "zeros"}, default="lowess"
        Initial guess of the node states: LOWESS smoothing of the data,
        linear interpolation of the raw data, or zeros (the scaled mean).
    lowess_frac : float or "auto", default="auto"
        Fraction of a trajectory's samples in each LOWESS window. ``"auto"``
        uses a window of ``AUTO_LOWESS_WINDOW`` samples, at most a tenth of
        the trajectory, so that the window spans the same time on a long
        record as on a short one with the same sampling rate.
    weight_init : {"derivative_matching", "xavier"}, default="derivative_matching"
        Initial weights: Glorot (Xavier) uniform draws, or those draws
        refined by fitting ``f_theta`` to the slopes of the initial node
        states (a least-squares problem in the weights alone; see
        :mod:`sklearn_nodecoll.initialization`). Derivative matching cut
        IPOPT iterations on a forced Van der Pol record 10 times longer than
        the usual one (22 against 30), and the cascaded-tanks and latent-state
        tests pass only with it; on the usual horizon Xavier forecast better
        (median test MSE 0.007 against 0.011 over five seeds).
    input_interpolation : {"linear", "previous"}, default="linear"
        How inputs between samples are interpolated, identically at the
        collocation nodes in ``fit`` and inside the integrator in ``predict``.
    tol : float, default=1e-6
        IPOPT's relative convergence tolerance ``tol``.
    max_iter : int, default=500
        Maximum number of IPOPT iterations.
    max_time : float or None, default=None
        Wall-clock limit in seconds of all IPOPT solves of a fit together,
        restarts included. Building the program is not counted, and IPOPT
        checks the limit once per iteration, so a solve can run over it by
        one iteration.
    n_restarts : int, default=2
        After an IPOPT failure (not an iteration or time limit), solve again
        from a perturbed initial point at most this many times.
    max_refinements : int, default=2
        After a solve, the learned ODE is integrated from each fitted
        initial state and compared with the collocation states. While they
        differ by more than ``refinement_tol``, the node spacing is halved
        and the problem solved again from the previous solution, at most
        this many times. 0 turns the check off.
    refinement_tol : float, default=0.1
        Largest accepted gap between that rollout and the collocation
        states, in standard deviations of each state.
    solver_options : dict or None, default=None
        Further IPOPT options, for example ``{"print_level": 5}``. They
        override the settings above and the estimator's MUMPS defaults
        ``{"mumps_scaling": 0, "mumps_pivot_order": 5, "mumps_pivtol":
        1e-4}``: no scaling inside MUMPS, METIS ordering, and more careful
        pivoting. With MUMPS's scaling, a 2000-sample fit that takes 37
        iterations did not converge within 500, and METIS roughly halves
        its time.
    backend : {"casadi", "pyomo"}, default="casadi"
        How the program reaches IPOPT. ``"casadi"`` hands IPOPT exact
        derivatives assembled from the program's structure and is the
        fastest. ``"pyomo"`` builds a Pyomo model (see
        :meth:`build_pyomo_model` to change it before solving). Pyomo runs
        an ``ipopt`` executable when it finds one on the PATH, for example
        one built with the HSL linear solvers. Otherwise the model is
        written as an NL file and the IPOPT of the ``casadi`` wheel solves
        it, whose generic derivatives take seconds to tens of seconds to
        set up. ``backend_`` records the route taken.
    ode_method : str, default="LSODA"
        Integrator of :func:`scipy.integrate.solve_ivp` used by ``predict``
        and ``simulate``. LSODA switches to a stiff method when needed.
    ode_rtol, ode_atol : float, default=1e-6, 1e-8
        Integrator tolerances, applied to the standardised states.
    random_state : int, RandomState instance or None, default=None
        Seeds the Xavier initialisation of the weights and the perturbation
        of restarts.
    verbose : int, default=0
        0 is silent; 1 logs one line when a fit starts and one when it ends;
        2 also prints IPOPT's iteration log.

    Attributes
    ----------
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[l]`` of shape (fan_in, fan_out), acting on
        scaled states and inputs.
    intercepts_ : list of ndarray
        Bias vectors.
    y0_ : ndarray of shape (n_trajectories, n_states)
        Fitted initial state of each trajectory, in the units of ``y``.
    t0_ : ndarray of shape (n_trajectories,)
        Time at which each trajectory starts (its first sample).
    trajectories_ : ndarray of shape (n_trajectories,)
        Trajectory identifiers, sorted.
    n_states_ : int
    n_inputs_ : int
    n_features_in_ : int
        ``1 + n_inputs_``: time plus inputs.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of ``X``, when it had string column names.
    collocation_times_ : list of ndarray
        Node times of each trajectory.
    collocation_states_ : list of ndarray
        Fitted states at those nodes, in the units of ``y``.
    n_iter_ : int
        IPOPT iterations of the final solve.
    converged_ : bool
        Whether IPOPT reported a local optimum.
    termination_condition_ : str
        IPOPT's return status, for example ``"Solve_Succeeded"``,
        ``"Solved_To_Acceptable_Level"`` or ``"Maximum_Iterations_Exceeded"``.
    objective_ : float
        Final objective value (scaled units).
    loss_curve_ : ndarray of shape (n_iter_ + 1,)
        Objective at each IPOPT iteration.
    constraint_violation_curve_ : ndarray of shape (n_iter_ + 1,)
        Largest collocation residual at each IPOPT iteration.
    build_time_, solve_time_ : float
        Seconds spent building the program and solving it.
    backend_ : str
        Route to IPOPT: ``"casadi"``, ``"pyomo-ipopt-executable"`` or
        ``"pyomo-nl-casadi"``.
    nl_write_time_ : float
        Seconds spent writing the Pyomo model as an NL file, zero on the
        other routes.
    n_restarts_ : int
        Restarts used after IPOPT failures.
    n_refinements_ : int
        Grid refinements made after the first solve.
    rollout_defect_ : float
        Largest gap, in standard deviations of each state, between the
        final collocation states and the learned ODE integrated from the
        fitted initial states.
    time_scale_, time_offset_ : float
        Scaled time is ``(t - time_offset_) / time_scale_``.
    state_mean_, state_scale_ : ndarray of shape (n_states_,)
    input_mean_, input_scale_ : ndarray of shape (n_inputs_,)

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The same network, fitted to static data.

    Notes
    -----
    Inputs are standardised per column, and states are centred and scaled
    per column to a standard deviation of 2. Time is shifted to start at
    the earliest sample and divided by ``time_scale_``, chosen so that the
    smoothed scaled states change at a root-mean-square rate of 0.5 per
    scaled time unit. Scaled values and derivatives are then of order one
    whatever the units, so ``alpha`` means the same for data in any units,
    and a time column in seconds since 1970 works as well as one starting
    at 0.

    The first node of each trajectory is not a collocation node, so its
    initial state is free rather than pinned to a noisy first sample.

    References
    ----------
    A. Shapovalova and C. Tsay, "Training Neural ODEs Using Fully
    Discretized Simultaneous Optimization", IFAC 2025, arXiv:2502.15642.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll import CollocationNeuralODE
    >>> t = np.linspace(0, 4, 40)
    >>> y = np.exp(-t)
    >>> model = CollocationNeuralODE(hidden_layer_sizes=(4,), random_state=0).fit(t, y)
    >>> bool(abs(model.predict([5.0])[0] - np.exp(-5.0)) < 0.02)
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(network.ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "collocation": [StrOptions({"radau", "chebyshev"})],
        "n_collocation": [Interval(Integral, 3, None, closed="left"), StrOptions({"auto"})],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "state_init": [StrOptions({"lowess", "interpolate", "zeros"})],
        "lowess_frac": [Interval(Real, 0, 1, closed="right"), StrOptions({"auto"})],
        "weight_init": [StrOptions({"xavier", "derivative_matching"})],
        "input_interpolation": [StrOptions({"linear", "previous"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "n_restarts": [Interval(Integral, 0, None, closed="left")],
        "max_refinements": [Interval(Integral, 0, None, closed="left")],
        "refinement_tol": [Interval(Real, 0, None, closed="neither")],
        "solver_options": [dict, None],
        "backend": [StrOptions({"casadi", "pyomo"})],
        "ode_method": [StrOptions({"RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"})],
        "ode_rtol": [Interval(Real, 0, None, closed="neither")],
        "ode_atol": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # Under metadata routing, trajectory ids reach fit, predict and score
    # without set_*_request calls, because a model of several trajectories
    # can be neither fitted nor scored correctly without them.
    __metadata_request__fit = {"trajectory": True}
    __metadata_request__predict = {"trajectory": True}
    __metadata_request__score = {"trajectory": True}

    def __init__(
        self,
        hidden_layer_sizes=(32,),
        activation="tanh",
        alpha=1e-3,
        collocation="radau",
        n_collocation="auto",
        degree=3,
        state_init="lowess",
        lowess_frac="auto",
        weight_init="derivative_matching",
        input_interpolation="linear",
        tol=1e-6,
        max_iter=500,
        max_time=None,
        n_restarts=2,
        max_refinements=2,
        refinement_tol=0.1,
        solver_options=None,
        backend="casadi",
        ode_method="LSODA",
        ode_rtol=1e-6,
        ode_atol=1e-8,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.collocation = collocation
        self.n_collocation = n_collocation
        self.degree = degree
        self.state_init = state_init
        self.lowess_frac = lowess_frac
        self.weight_init = weight_init
        self.input_interpolation = input_interpolation
        self.tol = tol
        self.max_iter = max_iter
        self.max_time = max_time
        self.n_restarts = n_restarts
        self.max_refinements = max_refinements
        self.refinement_tol = refinement_tol
        self.solver_options = solver_options
        self.backend = backend
        self.ode_method = ode_method
        self.ode_rtol = ode_rtol
        self.ode_atol = ode_atol
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------
    # Input validation

    def _validate_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        if not sizes:
            raise InvalidParameterError("hidden_layer_sizes must contain at least one layer, got ().")
        for size in sizes:
            if not isinstance(size, Integral) or isinstance(size, bool) or size < 1:
                raise InvalidParameterError(
                    "hidden_layer_sizes must contain positive integers, got "
                    f"{self.hidden_layer_sizes!r}."
                )
        return tuple(int(size) for size in sizes)

    def _validate_fit_data(self, X, y, trajectory):
        X = _validation.check_X(self, X, reset=True, ensure_min_samples=MIN_DISTINCT_TIMES)
        self.n_features_in_ = X.shape[1]
        y = _validation.check_y(y, X.shape[0])
        self._y_ndim = y.ndim
        y = _validation.as_2d(y)
        trajectory_given = trajectory is not None
        trajectory = self._validate_trajectory(trajectory, X.shape[0])
        _validation.warn_if_time_restarts(
            X[:, 0], trajectory, trajectory_given, min_run_length=MIN_DISTINCT_TIMES
        )
        return X, y, trajectory

    @staticmethod
    def _validate_trajectory(trajectory, n_samples):
        if trajectory is None:
            return np.zeros(n_samples, dtype=int)
        trajectory = np.asarray(trajectory)
        if trajectory.shape != (n_samples,):
            raise ValueError(
                f"trajectory must have shape ({n_samples},), one id per row of X, got "
                f"shape {trajectory.shape}."
            )
        if trajectory.dtype.kind == "f":
            undefined = np.isnan(trajectory)
        elif trajectory.dtype.kind == "O":
            undefined = np.array([value is None or value != value for value in trajectory])
        else:
            undefined = np.zeros(n_samples, dtype=bool)
        if undefined.any():
            raise ValueError(
                f"trajectory has no id (None or NaN) at row {int(np.flatnonzero(undefined)[0])}; "
                "every row needs the id of its trajectory."
            )
        return trajectory

    # ------------------------------------------------------------------
    # Building the problem

    def _split_trajectories(self, t, y, inputs, trajectory):
        """Return per-trajectory (ids, rows sorted by time)."""
        ids = np.unique(trajectory)
        parts = []
        for k in ids:
            rows = np.flatnonzero(trajectory == k)
            rows = rows[np.argsort(t[rows], kind="stable")]
            n_distinct = np.unique(t[rows]).size
            if n_distinct < MIN_DISTINCT_TIMES:
                raise ValueError(
                    f"Trajectory {_validation.plain_id(k)!r} has {n_distinct} distinct "
                    f"time(s) in its {rows.size} rows; at least {MIN_DISTINCT_TIMES} "
                    "distinct times are needed to fit an ODE."
                )
            parts.append(rows)
        return ids, parts

    def _fit_scaling(self, t, y, inputs, trajectory_rows, problem_span=None):
        never_observed = ~np.isfinite(y).any(axis=0)
        if never_observed.any():
            raise ValueError(
                f"Input y contains NaN in every row of column "
                f"{int(np.flatnonzero(never_observed)[0])}, in every trajectory; a state "
                "needs at least one observation."
            )
        state_mean = np.nanmean(y, axis=0)
        state_scale = np.nanstd(y, axis=0)
        state_scale = np.where(state_scale > 0, state_scale, 1.0) / SCALED_STATE_STD
        input_mean = inputs.mean(axis=0)
        input_scale = inputs.std(axis=0)
        input_scale = np.where(input_scale > 0, input_scale, 1.0)
        scaled = [(t[rows], (y[rows] - state_mean) / state_scale) for rows in trajectory_rows]
        time_scale = SCALED_RATE_RMS * problem_module.estimate_time_scale(
            scaled,
            [self._lowess_frac_for(rows.size) for rows in trajectory_rows],
            problem_span=problem_span,
        )
        return problem_module.Scaling(
            time_offset=float(t.min()),
            time_scale=time_scale,
            state_mean=state_mean,
            state_scale=state_scale,
            input_mean=input_mean,
            input_scale=input_scale,
        )

    def _lowess_frac_for(self, n_samples):
        """Return the LOWESS fraction for a trajectory of ``n_samples`` rows."""
        if self.lowess_frac != "auto":
            return self.lowess_frac
        return min(0.1, AUTO_LOWESS_WINDOW / max(n_samples, 1))

    def _make_grid(self, tau, refinement=0):
        """Build the grid of one trajectory, with the node spacing halved ``refinement`` times."""
        distinct = np.unique(tau)
        start, end = distinct[0], distinct[-1]
        if self.collocation == "chebyshev":
            n_nodes = self.n_collocation
            if n_nodes == "auto":
                n_nodes = int(np.clip(distinct.size, MIN_DISTINCT_TIMES, 200))
            return collocation.chebyshev_grid(start, end, (n_nodes - 1) * 2**refinement + 1)

        if self.n_collocation == "auto":
            most_needed = int(np.ceil(AUTO_ELEMENTS_PER_TIME_SCALE * (end - start)))
            n_elements = max(4, min(distinct.size // (2 * self.degree), most_needed))
        else:
            n_elements = max(1, int(np.ceil((self.n_collocation - 1) / self.degree)))
        n_elements *= 2**refinement
        # Element boundaries halfway between uniform spacing and the sample
        # quantiles: denser where samples are dense, but never so sparse in
        # a gap that the states there are poorly resolved.
        fractions = np.linspace(0.0, 1.0, n_elements + 1)
        uniform = start + fractions * (end - start)
        quantiles = np.quantile(distinct, fractions)
        bounds = 0.5 * (uniform + quantiles)
        bounds[0], bounds[-1] = start, end
        return collocation.radau_grid(bounds, self.degree)

    def _build_problem(
        self,
        t,
        y,
        inputs,
        trajectory_rows,
        layer_sizes,
        random_state,
        refinement=0,
        fit_weights=True,
    ):
        """Build the scaled collocation problem of the given trajectories.

        ``fit_weights=False`` keeps the drawn weights even when
        ``weight_init="derivative_matching"``.
        """
        scaling = self.scaling_
        grids, observations, node_inputs, states_init = [], [], [], []
        for rows in trajectory_rows:
            tau = scaling.scale_time(t[rows])
            z = scaling.scale_states(y[rows])
            grid = self._make_grid(tau, refinement)
            grids.append(grid)
            observations.append((tau, z))
            if inputs.shape[1]:
                input_function = simulation.make_input_function(
                    tau, scaling.scale_inputs(inputs[rows]), self.input_interpolation
                )
                node_inputs.append(input_function(grid.nodes))
            else:
                node_inputs.append(np.zeros((grid.n_nodes, 0)))
            if self.state_init == "lowess":
                states_init.append(
                    problem_module.smooth_states(
                        tau, z, grid.nodes, self._lowess_frac_for(rows.size)
                    )
                )
            elif self.state_init == "interpolate":
                states_init.append(problem_module.interpolate_states(tau, z, grid.nodes))
            else:
                states_init.append(np.zeros((grid.n_nodes, z.shape[1])))
        params_init = network.xavier_init(layer_sizes, random_state)
        problem = problem_module.stack_problem(
            grids,
            observations,
            node_inputs,
            states_init,
            layer_sizes,
            self.activation,
            self.alpha,
            params_init,
        )
        if self.weight_init == "derivative_matching" and refinement == 0 and fit_weights:
            problem.params_init = initialization.derivative_matching(problem, params_init)
        return problem

    # ------------------------------------------------------------------
    # Solving

    def _backend_solve(self, pyomo_model):
        """Return the ``solve`` function of the backend set by ``backend``."""
        if self.backend == "pyomo" or pyomo_model is not None:
            from . import _pyomo_backend

            return functools.partial(_pyomo_backend.solve, model=pyomo_model)
        from . import _casadi_backend

        return _casadi_backend.solve

    def _solve(self, problem, random_state, pyomo_model=None):
        from . import _casadi_backend as backend

        solve = self._backend_solve(pyomo_model)
        states_init = problem.states_init
        params_init = problem.params_init
        build_time = 0.0
        # max_time bounds all solves of the fit together, restarts included.
        deadline = None if self.max_time is None else time.perf_counter() + self.max_time
        for attempt in range(self.n_restarts + 1):
            max_time = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
            result = self._call_backend(solve, problem, states_init, params_init, max_time)
            build_time += result.build_time
            if result.success or result.status in backend.LIMIT_STATUSES:
                break
            logger.warning(
                "IPOPT stopped with status %s after %d iterations (attempt %d of %d).",
                result.status,
                result.n_iter,
                attempt + 1,
                self.n_restarts + 1,
            )
            out_of_time = deadline is not None and time.perf_counter() >= deadline
            if attempt == self.n_restarts or out_of_time:
                reason = (
                    f"max_time={self.max_time} s ran out before a restart"
                    if out_of_time and attempt < self.n_restarts
                    else f"the first solve and {attempt} restart(s) from perturbed initial points"
                )
                raise SolverError(
                    f"IPOPT failed with status {result.status} after {attempt + 1} "
                    f"attempt(s) ({reason}). Try state_init='lowess', more collocation "
                    f"nodes, a larger alpha, a larger n_restarts, or IPOPT options "
                    f"through solver_options.",
                    status=result.status,
                    n_attempts=attempt + 1,
                )
            # Restart near the original point: the data fix the states' scale,
            # so a small relative perturbation is enough to leave a bad region.
            states_init = problem.states_init + 0.05 * random_state.standard_normal(
                problem.states_init.shape
            )
            params_init = problem.params_init * (
                1.0 + 0.1 * random_state.standard_normal(problem.params_init.shape)
            )
        result.build_time = build_time
        self.n_restarts_ = attempt
        return result

    def _call_backend(self, solve, problem, states_init, params_init, max_time):
        message = (
            f"IPOPT rejected an option in solver_options={self.solver_options!r} (an "
            "unknown name, a value of the wrong type or out of range, or a linear solver "
            "that this IPOPT build lacks; the casadi wheel has MUMPS only)."
        )
        try:
            result = solve(
                problem,
                states_init,
                params_init,
                tol=self.tol,
                max_iter=self.max_iter,
                max_time=max_time,
                verbose=self.verbose,
                solver_options=self.solver_options,
            )
        except RuntimeError as error:
            # CasADi raises a bare RuntimeError when it or IPOPT rejects an option.
            if "Invalid options" not in str(error) and "No such IPOPT option" not in str(error):
                raise
            raise ValueError(f"{message} {error}") from error
        if result.status == "Invalid_Option":
            # IPOPT reports some option values only once it starts; no
            # restart can help, and its iteration count is then undefined.
            raise ValueError(message)
        return result

    @property
    def _log_progress(self):
        if not self.verbose:
            return logger.debug
        _show_package_log()
        return logger.info

    def fit(self, X, y, trajectory=None):
        """Fit the neural ODE to sampled trajectories.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1 + n_inputs)
            Sample times, or times in the first column followed by the
            exogenous inputs at those times. Rows may come in any order.
        y : array-like of shape (n_samples,) or (n_samples, n_states)
            Observed states; NaN marks a missing entry, which is left out of
            the objective.
        trajectory : array-like of shape (n_samples,), default=None
            Trajectory id of each row. Each trajectory gets its own initial
            state; the network is shared. None means one trajectory.

        Returns
        -------
        self : CollocationNeuralODE
            The fitted estimator.
        """
        self._validate_params()
        layer_sizes_hidden = self._validate_hidden_layer_sizes()
        X, y, trajectory = self._validate_fit_data(X, y, trajectory)
        start = time.perf_counter()
        setup = self._set_up_fit(X, y, trajectory, layer_sizes_hidden)
        result = self._solve(setup.problem, setup.random_state)
        setup, result = self._refine_until_consistent(setup, result)
        self._finish_fit(result, setup, start)
        return self

    def _rollout_defect(self, problem, result, setup):
        """Return the largest gap between the collocation states and a rollout of the ODE.

        Each trajectory is integrated from its fitted initial state with
        ``ode_method`` and compared with the collocation states at the
        nodes. The gap is in standard deviations of each state, and is
        infinite when the rollout fails.
        """
        scaling = self.scaling_
        coefs, intercepts = network.unpack(result.params, setup.layer_sizes)
        defect = 0.0
        for nodes, rows in zip(problem.trajectory_nodes, setup.trajectory_rows):
            tau = problem.node_times[nodes]
            input_function = None
            if setup.inputs.shape[1]:
                input_function = simulation.make_input_function(
                    scaling.scale_time(setup.t[rows]),
                    scaling.scale_inputs(setup.inputs[rows]),
                    self.input_interpolation,
                )
            try:
                rollout = simulation.integrate(
                    coefs,
                    intercepts,
                    self.activation,
                    tau,
                    result.states[nodes[0]],
                    tau[0],
                    input_function=input_function,
                    method=self.ode_method,
                    rtol=self.ode_rtol,
                    atol=self.ode_atol,
                )
            except IntegrationError:
                return np.inf
            gap = np.max(np.abs(rollout - result.states[nodes])) / SCALED_STATE_STD
            defect = max(defect, float(gap))
        return defect

    def _refine_until_consistent(self, setup, result):
        """Solve again on finer grids while the ODE's rollout leaves the collocation states.

        A coarse grid lets the optimiser fit the data with states that obey
        the ODE at the nodes but not between them; an integrator then
        disagrees with the fit. Each refinement halves the node spacing and
        starts from the previous solution interpolated onto the new nodes.
        """
        self.n_refinements_ = 0
        defect = self._rollout_defect(setup.problem, result, setup)
        build_time, solve_time = result.build_time, result.solve_time
        while defect > self.refinement_tol and self.n_refinements_ < self.max_refinements:
            if self.max_time is not None and solve_time >= self.max_time:
                break
            self.n_refinements_ += 1
            self._log_progress(
                "Rollout departs from the collocation states by %.3g standard deviations "
                "(refinement_tol=%g); refining the grid (%d of at most %d).",
                defect,
                self.refinement_tol,
                self.n_refinements_,
                self.max_refinements,
            )
            previous_setup, previous_result = setup, result
            old = setup.problem
            problem = self._build_problem(
                setup.t,
                setup.y,
                setup.inputs,
                setup.trajectory_rows,
                setup.layer_sizes,
                setup.random_state,
                refinement=self.n_refinements_,
            )
            warm_states = [
                old_grid.interpolation(new_grid.nodes) @ result.states[old_nodes]
                for old_grid, new_grid, old_nodes in zip(old.grids, problem.grids, old.trajectory_nodes)
            ]
            problem = dataclasses.replace(
                problem, states_init=np.vstack(warm_states), params_init=result.params
            )
            setup = dataclasses.replace(setup, problem=problem)
            result = self._solve(problem, setup.random_state)
            build_time += result.build_time
            solve_time += result.solve_time
            previous, defect = defect, self._rollout_defect(problem, result, setup)
            if defect > previous:
                # The finer grid led IPOPT to a worse local optimum; keep the
                # previous one.
                setup, result, defect = previous_setup, previous_result, previous
                break
            if defect > 0.5 * previous:
                # Halving the spacing cuts the discretisation error of Radau
                # collocation many times over (about 32-fold at degree 3). A
                # gap that does not even halve most likely comes from the
                # rollout's sensitivity to small errors, which no grid cures.
                break
        result.build_time, result.solve_time = build_time, solve_time
        self.rollout_defect_ = defect
        if defect > self.refinement_tol:
            warnings.warn(
                f"The learned ODE integrated from the fitted initial state departs from "
                f"the fitted trajectory by {defect:.3g} standard deviations (refinement_tol="
                f"{self.refinement_tol:g}) after {self.n_refinements_} grid refinement(s). "
                "The model is sensitive to small changes of the state, so predictions may "
                "drift from the data; more data, inputs that drive the system, or a larger "
                "alpha usually help.",
                UserWarning,
                stacklevel=3,
            )
        return setup, result

    def _set_up_fit(self, X, y, trajectory, layer_sizes_hidden):
        """Fit the scaling and build the problem; return what storing the result needs."""
        random_state = check_random_state(self.random_state)
        t = X[:, 0]
        inputs = X[:, 1:]
        ids, trajectory_rows = self._split_trajectories(t, y, inputs, trajectory)
        self.n_states_ = y.shape[1]
        self.n_inputs_ = inputs.shape[1]
        layer_sizes = (self.n_states_ + self.n_inputs_, *layer_sizes_hidden, self.n_states_)

        self.scaling_ = self._fit_scaling(t, y, inputs, trajectory_rows)
        problem = self._build_problem(t, y, inputs, trajectory_rows, layer_sizes, random_state)
        self._log_progress(
            "Fitting %d trajectory(ies): %d nodes, %d states, %d inputs, %d weights, "
            "%d observed values.",
            len(ids),
            problem.n_nodes,
            self.n_states_,
            self.n_inputs_,
            problem.n_parameters,
            int(problem.n_observed),
        )
        return _FitSetup(problem, random_state, ids, t, inputs, trajectory_rows, layer_sizes, y=y)

    def _finish_fit(self, result, setup, start):
        """Store the fitted attributes; warn when IPOPT did not converge."""
        self._store_result(
            result,
            setup.problem,
            setup.ids,
            setup.t,
            setup.inputs,
            setup.trajectory_rows,
            setup.layer_sizes,
        )
        self.fit_time_ = time.perf_counter() - start
        # Stored with the model, so that a model file reports the release
        # that wrote it; __setstate__ and load_model compare it.
        self._sklearn_nodecoll_version = package_version()
        self._log_progress(
            "Fit ended with status %s after %d iterations: objective %.6g, %.2f s.",
            result.status,
            result.n_iter,
            result.objective,
            self.fit_time_,
        )
        if not result.success:
            warnings.warn(
                f"IPOPT stopped with status {result.status} after {result.n_iter} "
                "iterations; the last iterate is kept. Increase max_iter or max_time, "
                "or loosen tol.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def build_pyomo_model(self, X, y, trajectory=None):
        """Build the training problem as a Pyomo model, to change before :meth:`fit_pyomo_model`.

        The model is in scaled units: ``model.y[node, state]`` is
        ``scaling_.scale_states(y)`` at the node time
        ``scaling_.unscale_time(model.collocation_problem.node_times[node])``,
        with ``scaling_`` the attribute this method sets. The module
        :mod:`sklearn_nodecoll._pyomo_backend` lists the model's sets,
        variables, expressions and constraints.

        Parameters
        ----------
        X, y, trajectory
            As in :meth:`fit`.

        Returns
        -------
        model : pyomo.environ.ConcreteModel
            Initialised at the initial point that :meth:`fit` would use.
        """
        from . import _pyomo_backend

        self._validate_params()
        layer_sizes_hidden = self._validate_hidden_layer_sizes()
        X, y, trajectory = self._validate_fit_data(X, y, trajectory)
        setup = self._set_up_fit(X, y, trajectory, layer_sizes_hidden)
        model = _pyomo_backend.build_model(setup.problem)
        # fit_pyomo_model restores these, so that models built from other
        # data in between cannot mix up the fitted attributes.
        setup.attributes = {
            name: getattr(self, name)
            for name in _DATA_ATTRIBUTES
            if hasattr(self, name)
        }
        setup.owner = self
        model.sklearn_nodecoll_setup = setup
        return model

    def fit_pyomo_model(self, model):
        """Fit the estimator by solving a model from :meth:`build_pyomo_model`.

        The solve starts from the model's current variable values, and
        restarts after IPOPT failures as :meth:`fit` does. Fixed variables
        stay fixed.

        Parameters
        ----------
        model : pyomo.environ.ConcreteModel
            Returned by this estimator's :meth:`build_pyomo_model`, perhaps
            with added constraints, bounds or fixed variables.

        Returns
        -------
        self : CollocationNeuralODE
            The fitted estimator; ``backend_`` names the route to IPOPT.
        """
        from . import _pyomo_backend

        setup = getattr(model, "sklearn_nodecoll_setup", None)
        if setup is None or getattr(setup, "owner", None) is not self:
            raise ValueError(
                "model must come from this estimator's build_pyomo_model; got a model "
                "without the problem description it stores."
            )
        self._validate_params()
        start = time.perf_counter()
        for name, value in setup.attributes.items():
            setattr(self, name, value)
        states, params = _pyomo_backend.get_values(model)
        problem = dataclasses.replace(setup.problem, states_init=states, params_init=params)
        result = self._solve(problem, setup.random_state, pyomo_model=model)
        self._finish_fit(result, dataclasses.replace(setup, problem=problem), start)
        return self

    def _store_result(self, result, problem, ids, t, inputs, trajectory_rows, layer_sizes):
        scaling = self.scaling_
        self.layer_sizes_ = layer_sizes
        self.coefs_, self.intercepts_ = network.unpack(result.params, layer_sizes)
        self.coefs_ = [W.copy() for W in self.coefs_]
        self.intercepts_ = [b.copy() for b in self.intercepts_]
        self.trajectories_ = ids
        self.collocation_times_ = [
            scaling.unscale_time(problem.node_times[nodes]) for nodes in problem.trajectory_nodes
        ]
        self.collocation_states_ = [
            scaling.unscale_states(result.states[nodes]) for nodes in problem.trajectory_nodes
        ]
        self.t0_ = np.array([times[0] for times in self.collocation_times_])
        self.y0_ = np.array([states[0] for states in self.collocation_states_])
        # Training inputs are kept so that predict can integrate from t0_
        # through the fitted span before the times it is asked about.
        self.input_samples_ = [(t[rows].copy(), inputs[rows].copy()) for rows in trajectory_rows]
        self.n_iter_ = result.n_iter
        self.converged_ = bool(result.success)
        self.termination_condition_ = result.status
        self.objective_ = result.objective
        self.loss_curve_ = result.history.get("objective", np.empty(0))
        self.constraint_violation_curve_ = result.history.get("constraint_violation", np.empty(0))
        self.build_time_ = result.build_time
        self.solve_time_ = result.solve_time
        self.backend_ = result.backend
        self.nl_write_time_ = result.nl_write_time
        self.time_scale_ = scaling.time_scale
        self.time_offset_ = scaling.time_offset
        self.state_mean_ = scaling.state_mean
        self.state_scale_ = scaling.state_scale
        self.input_mean_ = scaling.input_mean
        self.input_scale_ = scaling.input_scale

    # ------------------------------------------------------------------
    # Prediction

    def _validate_predict_X(self, X):
        X = _validation.check_X(self, X, reset=False)
        _validation.check_n_features(self, X)
        return X

    def _format_output(self, states):
        return states[:, 0] if self._y_ndim == 1 else states

    def _rollout(self, t, z0, t0, input_function, t_end=None):
        scaling = self.scaling_
        return simulation.integrate(
            self.coefs_,
            self.intercepts_,
            self.activation,
            scaling.scale_time(t),
            z0,
            scaling.scale_time(t0),
            input_function=input_function,
            method=self.ode_method,
            rtol=self.ode_rtol,
            atol=self.ode_atol,
            to_user_time=scaling.unscale_time,
            t_end=None if t_end is None else scaling.scale_time(t_end),
        )

    def _scaled_input_function(self, times, values, description):
        """Return scaled inputs as a function of scaled time over ``times``' span."""
        scaling = self.scaling_
        function = simulation.make_input_function(
            scaling.scale_time(times), scaling.scale_inputs(values), self.input_interpolation
        )
        low, high = scaling.scale_time(times.min()), scaling.scale_time(times.max())
        tolerance = 1e-9 * max(1.0, abs(high - low))

        def checked(tau):
            if np.any(tau < low - tolerance) or np.any(tau > high + tolerance):
                raise ValueError(
                    f"Inputs are needed at t={scaling.unscale_time(np.min(tau)):.6g}.."
                    f"{scaling.unscale_time(np.max(tau)):.6g}, outside the {description} "
                    f"[{times.min():.6g}, {times.max():.6g}]; pass input samples covering "
                    "the times to predict."
                )
            return function(tau)

        return checked

    def predict(self, X, trajectory=None):
        """Predict the states at the given times by integrating the learned ODE.

        Each trajectory is integrated from its fitted initial state ``y0_`` at
        ``t0_``, forwards or backwards, so times past the training span are
        forecasts.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1 + n_inputs)
            Times, with the inputs at those times in the further columns.
            Between the fitted start ``t0_`` and the first time given, the
            inputs seen in ``fit`` are used.
        trajectory : array-like of shape (n_samples,), default=None
            Trajectory id of each row, among ``trajectories_``. None means
            the only fitted trajectory.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_states)
            In the order of the rows of ``X``.
        """
        check_is_fitted(self)
        X = self._validate_predict_X(X)
        if trajectory is None:
            if self.trajectories_.size != 1:
                raise ValueError(
                    f"The model was fitted on {self.trajectories_.size} trajectories; "
                    "pass trajectory= to say which one each row belongs to."
                )
            trajectory = np.full(X.shape[0], self.trajectories_[0])
        trajectory = self._validate_trajectory(trajectory, X.shape[0])
        unknown = ~np.isin(trajectory, self.trajectories_)
        if unknown.any():
            raise ValueError(
                f"trajectory {trajectory[unknown][0]!r} was not seen in fit; known ids are "
                f"{self.trajectories_.tolist()}. Use simulate() with an initial state."
            )
        scaling = self.scaling_
        states = np.empty((X.shape[0], self.n_states_))
        for index, k in enumerate(self.trajectories_):
            rows = np.flatnonzero(trajectory == k)
            if rows.size == 0:
                continue
            input_function = None
            if self.n_inputs_:
                input_function = self._predict_input_function(X[rows], index)
            # Integrating at least to the end of the fitted span makes the
            # integrator's steps, and so each prediction, independent of
            # which other times are requested together.
            z = self._rollout(
                X[rows, 0],
                scaling.scale_states(self.y0_[index]),
                self.t0_[index],
                input_function,
                t_end=self.collocation_times_[index][-1],
            )
            states[rows] = scaling.unscale_states(z)
        return self._format_output(states)

    def _predict_input_function(self, X_rows, index):
        fit_times, fit_inputs = self.input_samples_[index]
        times, values = X_rows[:, 0], X_rows[:, 1:]
        # Fitted inputs fill the span between t0_ and the first time asked
        # for; the caller's inputs take precedence inside their own span.
        self._check_input_gap(fit_times, times)
        earlier = fit_times < times.min()
        later = fit_times > times.max()
        times = np.concatenate([fit_times[earlier], times, fit_times[later]])
        values = np.vstack([fit_inputs[earlier], values, fit_inputs[later]])
        return self._scaled_input_function(times, values, "input samples")

    @staticmethod
    def _check_input_gap(fit_times, times):
        """Raise if no input sample covers the stretch between fit and predict times.

        The integrator runs from ``t0_`` through the fitted span to the
        requested times. A stretch between the two spans that is wider than
        every sampling step would be bridged by interpolating across it,
        which makes up inputs that nobody measured.
        """
        steps = [np.max(np.diff(np.unique(fit_times)))]
        if np.unique(times).size > 1:
            steps.append(np.max(np.diff(np.unique(times))))
        largest_step = max(steps)
        gap_start, gap_end = None, None
        if times.min() > fit_times.max():
            gap_start, gap_end = fit_times.max(), times.min()
        elif times.max() < fit_times.min():
            gap_start, gap_end = times.max(), fit_times.min()
        if gap_start is not None and gap_end - gap_start > largest_step * (1 + 1e-9):
            raise ValueError(
                f"Inputs are needed on t=[{gap_start:.6g}, {gap_end:.6g}] to integrate from "
                f"the fitted span to the requested times, but the input samples cover only "
                f"[{fit_times.min():.6g}, {fit_times.max():.6g}] from fit and "
                f"[{times.min():.6g}, {times.max():.6g}] from X; add rows of X with the "
                "inputs in between."
            )

    def simulate(self, t, y0, u=None):
        """Integrate the learned ODE from any initial state.

        Parameters
        ----------
        t : array-like of shape (n_times,)
            Times; ``y0`` is the state at ``t[0]``. Later entries may lie on
            either side of ``t[0]``.
        y0 : array-like of shape (n_states,)
            Initial state in the units of ``y``.
        u : array-like of shape (n_times, n_inputs) or callable, default=None
            Inputs at the times ``t``, interpolated by
            ``input_interpolation``, or a function mapping a time to the
            inputs at that time. Required when the model has inputs.

        Returns
        -------
        y : ndarray of shape (n_times,) or (n_times, n_states)
        """
        check_is_fitted(self)
        t = check_array(t, ensure_2d=False, dtype=np.float64, input_name="t")
        if t.ndim != 1:
            raise ValueError(f"t must be 1-D, got shape {t.shape}.")
        y0 = np.atleast_1d(np.asarray(y0, dtype=float))
        if y0.shape == (1, self.n_states_):
            # y0_ of a one-trajectory fit has this shape.
            y0 = y0[0]
        if y0.shape != (self.n_states_,):
            raise ValueError(
                f"y0 must have shape ({self.n_states_},), got {y0.shape}."
            )
        if not np.all(np.isfinite(y0)):
            raise ValueError(f"y0 must be finite, got {y0}.")
        scaling = self.scaling_
        input_function = None
        if self.n_inputs_:
            if u is None:
                raise ValueError(
                    f"The model was fitted with {self.n_inputs_} input(s); pass u to simulate()."
                )
            if callable(u):
                def input_function(tau):
                    return scaling.scale_inputs(np.atleast_1d(u(scaling.unscale_time(tau))))
            else:
                u = check_array(u, ensure_2d=False, dtype=np.float64, input_name="u")
                u = _validation.as_2d(u)
                if u.shape != (t.size, self.n_inputs_):
                    raise ValueError(
                        f"u must have shape ({t.size}, {self.n_inputs_}), one row per time, "
                        f"got {u.shape}."
                    )
                input_function = self._scaled_input_function(t, u, "times passed as t")
        elif u is not None:
            raise ValueError("The model was fitted without inputs, but u was given.")
        z = self._rollout(t, scaling.scale_states(y0), t[0], input_function)
        return self._format_output(scaling.unscale_states(z))

    def _predict_for_score(self, X, y, trajectory):
        """Predict every row, rolling unseen trajectories out from their first row.

        Returns the predictions, shape (n_samples, n_states), and a boolean
        mask of the rows to score: the row that supplied an unseen
        trajectory's initial state is excluded, as it is matched by
        construction.
        """
        n_samples = _num_samples(X)
        scored = np.ones(n_samples, dtype=bool)
        if trajectory is None:
            if self.trajectories_.size != 1:
                raise ValueError(
                    f"The model was fitted on {self.trajectories_.size} trajectories; "
                    "pass trajectory= to score. Inside GridSearchCV or cross_val_score, "
                    "enable metadata routing with "
                    "sklearn.set_config(enable_metadata_routing=True) so that the "
                    "trajectory passed to fit reaches score."
                )
            return _validation.as_2d(np.asarray(self.predict(X))), scored
        trajectory = self._validate_trajectory(trajectory, n_samples)
        seen = np.isin(trajectory, self.trajectories_)
        if seen.all():
            return _validation.as_2d(np.asarray(self.predict(X, trajectory=trajectory))), scored

        y_pred = np.empty((n_samples, self.n_states_))
        if seen.any():
            rows = np.flatnonzero(seen)
            y_pred[rows] = _validation.as_2d(
                np.asarray(self.predict(_safe_indexing(X, rows), trajectory=trajectory[rows]))
            )
        X = self._validate_predict_X(X)
        for k in np.unique(trajectory[~seen]):
            rows = np.flatnonzero(trajectory == k)
            rows = rows[np.argsort(X[rows, 0], kind="stable")]
            first = rows[0]
            y0 = y[first]
            if not np.all(np.isfinite(y0)):
                label = k.item() if isinstance(k, np.generic) else k
                raise ValueError(
                    f"Trajectory {label!r} was not seen in fit, so its earliest row (row "
                    f"{first}, t={X[first, 0]:.6g}) gives the initial state, but y is "
                    f"missing (NaN) there: {y0}. Drop the rows before the first fully "
                    "observed one."
                )
            u = X[rows, 1:] if self.n_inputs_ else None
            y_pred[rows] = _validation.as_2d(self.simulate(X[rows, 0], y0, u=u))
            scored[first] = False
        return y_pred, scored

    def score(self, X, y, trajectory=None, sample_weight=None):
        """Return the R^2 of the predicted trajectory against ``y``.

        Missing entries of ``y`` (NaN) are left out; with several states the
        R^2 of each state is averaged.

        Rows of a fitted trajectory are predicted from its fitted initial
        state ``y0_`` at ``t0_``, as in :meth:`predict`. A trajectory id not
        seen in ``fit`` (a trajectory held out by cross-validation) is rolled
        out with :meth:`simulate` from its earliest row: that row of ``y``,
        which must be fully observed, is the initial state, the inputs are
        those of its rows of ``X``, and that row is left out of the score.
        With several rows at the earliest time, the first in the order given
        is used.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1 + n_inputs)
        y : array-like of shape (n_samples,) or (n_samples, n_states)
        trajectory : array-like of shape (n_samples,), default=None
            Trajectory id of each row; ids not seen in ``fit`` are allowed.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        y = _validation.as_2d(
            check_array(y, ensure_2d=False, ensure_all_finite="allow-nan", dtype=np.float64, input_name="y")
        )
        n_rows = _num_samples(X)
        if y.shape != (n_rows, self.n_states_):
            raise ValueError(
                f"y must have shape ({n_rows}, {self.n_states_}): one row per row of X and "
                f"one column per fitted state, got {y.shape}."
            )
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weights is not None and weights.shape != (n_rows,):
            raise ValueError(
                f"sample_weight must have shape ({n_rows},), one weight per row of X, "
                f"got {weights.shape}."
            )
        y_pred, scored = self._predict_for_score(X, y, trajectory)
        scores = []
        for i in range(y.shape[1]):
            observed = np.isfinite(y[:, i]) & scored
            scores.append(
                r2_score(
                    y[observed, i],
                    y_pred[observed, i],
                    sample_weight=None if weights is None else weights[observed],
                )
            )
        return float(np.mean(scores))

    def __sklearn_is_fitted__(self):
        # build_pyomo_model sets the scaling before any solve, so the presence
        # of some trailing-underscore attributes does not mean fitted.
        return hasattr(self, "coefs_")

    def __setstate__(self, state):
        super().__setstate__(state)
        warn_on_version_mismatch(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = False
        tags.regressor_tags.poor_score = True
        return tags

"""Consensus ADMM over data batches for :class:`CollocationNeuralODE`.

The data are split into batches, each with its own collocation problem and
its own copy ``theta_k`` of the network weights, and the copies are tied to
one consensus ``z`` by the scaled form of consensus ADMM (S. Boyd et al.,
"Distributed Optimization and Statistical Learning via the Alternating
Direction Method of Multipliers", Foundations and Trends in Machine
Learning 3(1), 2011, section 7.1). The problem split is

.. math::

    \\min \\; \\sum_k \\frac{|O_k|}{|O|} \\big( L_k(Y_k, \\theta_k)
        + \\alpha \\lVert \\theta_k \\rVert^2 \\big)
    \\quad \\text{s.t.} \\quad \\theta_k = z,

where ``L_k`` is batch ``k``'s mean squared error over its ``|O_k|``
observed values and ``|O| = sum_k |O_k|``, so that the weighted sum is the
monolithic objective. Each sub-problem carries the share ``|O_k| / |O|`` of
the L2 penalty, and the z-update has no penalty term. One iteration is

* ``theta_k, Y_k = argmin L_k + alpha ||theta_k||^2
  + (rho |O| / (2 |O_k|)) ||theta_k - z + u_k||^2``, which is the batch's
  term of the split objective scaled by ``|O| / |O_k|``, so that its data
  term keeps the order of magnitude of the monolithic one;
* ``z = mean_k (theta_k + u_k)``;
* ``u_k += theta_k - z``.

By default the iteration starts from ``z`` equal to the initial weights of
the monolithic fit and ``u = 0``, so the first sub-problems already carry
the proximal term. With one batch, or with ``init="independent"``, the
first iteration solves without it. With one batch that solve is the
monolithic fit, and the second iteration confirms it, so one batch
reproduces the monolithic weights.

The map ``(z, u) -> (z+, u+)`` of one iteration is a fixed-point iteration,
and its slow linear tail is shortened by type-II Anderson acceleration
(H.-r. Fu, J. Zhang and S. Boyd, "Anderson Accelerated Douglas-Rachford
Splitting", SIAM Journal on Scientific Computing 42(6), 2020): the next
point combines the last few outputs of the map so as to cancel their
residuals in the least-squares sense. A combined point whose residual
exceeds that of the last accepted point is rejected, and the iteration
restarts from the plain output of that point.
"""

import copy
import dataclasses
import logging
import time
import types
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _solve_result
from .estimator import MIN_DISTINCT_TIMES, CollocationNeuralODE
from .exceptions import SolverError
from .persistence import package_version

logger = logging.getLogger(__name__)

# Residual balancing (Boyd et al. 2011, section 3.4.1): rho is multiplied or
# divided by RHO_FACTOR when one residual exceeds RESIDUAL_RATIO times the other.
RESIDUAL_RATIO = 10.0
RHO_FACTOR = 2.0


def _solve_batch(estimator, problem, seed):
    """Solve one batch's sub-problem; run on a joblib worker.

    Only plain data cross the process boundary: the unfitted estimator (its
    parameters), the problem arrays with the warm start in ``states_init``
    and ``params_init``, and the returned arrays. IPOPT failures come back
    as a status instead of an exception, so the caller can name the batch.
    """
    try:
        result = estimator._solve(problem, np.random.RandomState(seed))
    except SolverError as error:
        return {"failed": True, "status": error.status, "n_attempts": error.n_attempts}
    return {"failed": False, "result": result, "n_restarts": estimator.n_restarts_}


def _window_rows(rows, n_windows, overlap):
    """Split time-sorted ``rows`` into contiguous windows extended by ``overlap`` rows."""
    pieces = np.array_split(np.arange(rows.size), n_windows)
    windows = []
    for piece in pieces:
        stop = min(rows.size, piece[-1] + 1 + overlap)
        windows.append(rows[piece[0] : stop])
    return windows


class _Anderson:
    """Safeguarded type-II Anderson acceleration of the map ``(z, u) -> (z+, u+)``.

    Points are compared in the coordinates ``(sqrt(N) z, u)``, in which the
    residual's two parts are the dual residual over ``rho`` and the primal
    residual of the stopping test.
    """

    def __init__(self, memory, n_batches, n_params):
        self.memory = memory
        self.weight = np.sqrt(n_batches)
        self.n_params = n_params
        self.reset()

    def reset(self):
        self.outputs, self.residuals = [], []
        self.extrapolated = False
        self.reference = np.inf
        self.fallback = None

    def _pack(self, z, u):
        return np.concatenate([self.weight * z, u.ravel()])

    def _unpack(self, point):
        return point[: self.n_params] / self.weight, point[self.n_params :].reshape(-1, self.n_params)

    def step(self, z_in, u_in, z_out, u_out):
        """Record one map evaluation and return the next ``z``, ``u`` and the kind of point."""
        output = self._pack(z_out, u_out)
        residual = output - self._pack(z_in, u_in)
        norm = float(np.linalg.norm(residual))
        if self.extrapolated and norm > self.reference:
            fallback = self.fallback
            self.reset()
            return (*self._unpack(fallback), "fallback")
        self.reference, self.fallback = norm, output
        self.outputs.append(output)
        self.residuals.append(residual)
        del self.outputs[: -(self.memory + 1)], self.residuals[: -(self.memory + 1)]
        if len(self.outputs) < 2:
            self.extrapolated = False
            return z_out, u_out, "plain"
        output_steps = np.diff(np.array(self.outputs), axis=0).T
        residual_steps = np.diff(np.array(self.residuals), axis=0).T
        gamma = np.linalg.lstsq(residual_steps, residual, rcond=None)[0]
        self.extrapolated = True
        return (*self._unpack(output - output_steps @ gamma), "anderson")


class BatchedADMMRegressor(RegressorMixin, BaseEstimator):
    """Train a :class:`CollocationNeuralODE` by consensus ADMM over data batches.

    Each batch is a collocation problem of its own, which IPOPT solves with
    a proximal term that pulls the batch's weights towards the consensus.
    The sub-problems of one iteration run in parallel through joblib. The
    fitted model has the weights, scaling and ``predict`` of the wrapped
    estimator.

    Parameters
    ----------
    estimator : CollocationNeuralODE or None, default=None
        Settings of the network, grid and IPOPT, cloned in ``fit``; None
        means ``CollocationNeuralODE()``. Its ``alpha`` is the L2 penalty of
        the whole problem. Every batch starts from the initial weights of
        the monolithic fit with its ``random_state``, fitted to the slopes
        of all the data when ``weight_init="derivative_matching"``.
        ``n_collocation`` applies to each batch; keep ``"auto"`` to size
        each grid by its samples.
    n_batches : int, default=4
        Number of batches.
    batching : {"windows", "trajectories"}, default="windows"
        ``"windows"`` cuts every trajectory into ``n_batches`` contiguous
        time windows of equal numbers of samples, and batch ``k`` contains
        window ``k`` of every trajectory. Each window has its own free
        initial state, so the states need not be continuous across windows.
        ``"trajectories"`` deals whole trajectories, in sorted id order,
        into ``n_batches`` groups.
    overlap : int, default=0
        With ``"windows"``, each window also takes this many samples of the
        next one. The shared samples count in both batches. It must be
        smaller than the shortest window.
    init : {"auto", "consensus", "independent"}, default="auto"
        ``"consensus"`` starts from ``z`` equal to the initial weights of the
        monolithic fit and ``u = 0``, so the first sub-problems already carry
        the proximal term. ``"independent"`` fits every batch without it in
        the first iteration and takes their mean as the first ``z``.
        ``"auto"`` is ``"independent"`` for one batch, which then reproduces
        the monolithic fit, and ``"consensus"`` otherwise. On 10,000 samples
        in 8 windows, the first iteration took 62 IPOPT iterations in all
        with ``"consensus"`` and 277 with ``"independent"``, and the whole
        fit 14.4 s against 88.9 s. ``"independent"`` reached the better
        forecast there (test MSE 0.0012 against 0.0024) and converged in
        fewer iterations on a record of 400 samples in 4 windows.
    rho : float, default=0.1
        Initial ADMM penalty, in units of the monolithic objective.
    max_iter : int, default=100
        Maximum number of ADMM iterations.
    tol : float, default=1e-3
        Relative tolerance of the primal and dual residuals.
    atol : float, default=1e-4
        Absolute tolerance per weight of the primal and dual residuals.
    anderson_memory : int, default=5
        Number of earlier iterations that Anderson acceleration combines;
        0 runs plain ADMM. On 10,000 samples in 8 windows, with
        ``tol=1e-4`` and ``atol=1e-5``, plain ADMM had not converged after 55
        iterations and the accelerated one converged in 27.
    adaptive_rho : bool, default=True
        Adapt ``rho`` by residual balancing: multiply it by 2 when the
        primal residual exceeds 10 times the dual one, divide it by 2 in the
        opposite case, and rescale the scaled duals ``u`` to match.
    n_jobs : int or None, default=None
        Sub-problems solved in parallel by joblib; None means 1 unless a
        ``joblib.parallel_config`` context sets another value. Any joblib
        backend works, for example ``"dask"`` on a Dask cluster.
    verbose : int, default=0
        1 logs one line per ADMM iteration at INFO level through the
        ``sklearn_nodecoll.admm`` logger.
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbed restarts of failing sub-problems.

    Attributes
    ----------
    consensus_estimator_ : CollocationNeuralODE
        A plain fitted estimator with the consensus weights; ``predict``,
        ``simulate`` and ``score`` delegate to it. Each trajectory starts
        from the initial state fitted by its first window (``"windows"``)
        or by its batch (``"trajectories"``).
    coefs_, intercepts_, y0_, t0_, trajectories_, n_states_, n_inputs_
        As in :class:`CollocationNeuralODE`, from ``consensus_estimator_``.
    estimators_ : list of CollocationNeuralODE
        The fitted sub-estimators, one per batch, with their own weights
        ``theta_k``.
    batch_rows_ : list of list of ndarray
        Rows of ``X`` in each batch, one array per trajectory piece.
    primal_residuals_, dual_residuals_ : ndarray of shape (n_iter_,)
        ``||theta - z||`` over all batches and ``rho sqrt(N) ||z - z_prev||``
        at each iteration.
    primal_tolerances_, dual_tolerances_ : ndarray of shape (n_iter_,)
        The stopping thresholds those residuals were compared with.
    rho_history_ : ndarray of shape (n_iter_,)
        ``rho`` used in each iteration's sub-problems.
    steps_ : ndarray of str of shape (n_iter_,)
        Where each iteration started: ``"initial"``, ``"plain"`` (the last
        map output), ``"anderson"`` (an accelerated point) or ``"fallback"``
        (the plain output of the last accepted point, after a rejected
        accelerated one).
    n_iter_ : int
        ADMM iterations run.
    converged_ : bool
    termination_condition_ : {"converged", "max_iter_reached"}
    objective_ : float
        Monolithic objective of the consensus weights and the batch states.
    fit_time_ : float
        Seconds spent in ``fit``.

    Notes
    -----
    Batches share one scaling, computed from all data as the monolithic
    fit does, so weights of different batches act on the same units.
    Every batch starts from those shared initial weights (see ``init``).
    Later iterations warm-start each batch from its last states, weights
    and, with the CasADi backend, constraint multipliers. The L2 penalty
    ``alpha`` of ``estimator`` stays in every sub-problem, in the batch's
    share (see the module docstring). The
    iteration stops when both residuals are below
    ``sqrt(N p) atol + tol * scale``, with ``scale`` the larger of
    ``||theta||`` and ``sqrt(N) ||z||`` for the primal residual and
    ``rho ||u||`` for the dual one (Boyd et al. 2011, section 3.3.1).

    Windows are not an exact split of the monolithic problem, because each
    window has its own free initial state. On the forced Van der Pol
    oscillator with 2000 samples, 8 windows converged in 10 iterations to a
    rollout test MSE of 0.0015, against 0.0020 for the monolithic fit
    (``benchmarks/results/admm.md``). On 10,000 samples and 2 cores, with
    ``n_jobs=2``, 8 windows took 13.4 s against 36.2 s for the monolithic
    fit, at 1.9 times its test MSE. With ``tol=1e-4`` and ``atol=1e-5``
    they took 34.7 s against 36.8 s and forecast as well as the monolithic
    fit (medians of 3, ``benchmarks/bench_admm.py``).

    NOTE: the residuals measure consensus, not optimality. At the default
    tolerances ADMM can stop with a higher objective than the monolithic fit
    (0.031 against 0.026 on those 10,000 samples, both with the time scale
    of the monolithic fit). Lower ``tol`` and ``atol`` when the forecast
    matters more than the time, but the residuals need not reach tight
    tolerances: 6 trajectories in 3 batches stalled at a primal residual of
    2.5e-4 with ``tol=1e-5`` and ``atol=1e-6``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll import BatchedADMMRegressor, CollocationNeuralODE
    >>> t = np.linspace(0, 6, 60)
    >>> y = np.column_stack([np.cos(t), -np.sin(t)])
    >>> base = CollocationNeuralODE(hidden_layer_sizes=(4,), alpha=1e-5, random_state=0)
    >>> model = BatchedADMMRegressor(base, n_batches=2, max_iter=20).fit(t, y)
    >>> len(model.estimators_), bool(model.score(t, y) > 0.9)
    (2, True)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_batches": [Interval(Integral, 1, None, closed="left")],
        "batching": [StrOptions({"windows", "trajectories"})],
        "overlap": [Interval(Integral, 0, None, closed="left")],
        "init": [StrOptions({"auto", "consensus", "independent"})],
        "rho": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "atol": [Interval(Real, 0, None, closed="left")],
        "anderson_memory": [Interval(Integral, 0, None, closed="left")],
        "adaptive_rho": ["boolean"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        n_batches=4,
        batching="windows",
        overlap=0,
        init="auto",
        rho=0.1,
        max_iter=100,
        tol=1e-3,
        atol=1e-4,
        anderson_memory=5,
        adaptive_rho=True,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_batches = n_batches
        self.batching = batching
        self.overlap = overlap
        self.init = init
        self.rho = rho
        self.max_iter = max_iter
        self.tol = tol
        self.atol = atol
        self.anderson_memory = anderson_memory
        self.adaptive_rho = adaptive_rho
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    @property
    def _log_progress(self):
        return logger.info if self.verbose else logger.debug

    # ------------------------------------------------------------------
    # Batches

    def _make_batches(self, ids, trajectory_rows, t):
        """Return the rows of each batch, one array per trajectory piece, and the pieces' trajectory indices."""
        if self.batching == "trajectories":
            if len(ids) < self.n_batches:
                raise ValueError(
                    f"batching='trajectories' needs at least n_batches={self.n_batches} "
                    f"trajectories, got {len(ids)}; lower n_batches or use batching='windows'."
                )
            groups = np.array_split(np.arange(len(ids)), self.n_batches)
            return [[trajectory_rows[j] for j in group] for group in groups], [
                list(group) for group in groups
            ]

        batches = [[] for _ in range(self.n_batches)]
        for j, rows in enumerate(trajectory_rows):
            if rows.size < self.n_batches * MIN_DISTINCT_TIMES:
                raise ValueError(
                    f"Trajectory {ids[j].item()!r} has {rows.size} rows, too few for "
                    f"n_batches={self.n_batches} windows of at least {MIN_DISTINCT_TIMES} "
                    f"distinct times each; lower n_batches to at most "
                    f"{max(rows.size // MIN_DISTINCT_TIMES, 1)}."
                )
            window_size = rows.size // self.n_batches
            if self.overlap >= window_size:
                # A window would then end beyond the next one, which then
                # adds no nodes of its own to the consensus trajectory.
                raise ValueError(
                    f"overlap={self.overlap} must be smaller than the {window_size} rows of "
                    f"the shortest window of trajectory {ids[j].item()!r} "
                    f"(n_batches={self.n_batches})."
                )
            for k, window in enumerate(_window_rows(rows, self.n_batches, self.overlap)):
                n_distinct = np.unique(t[window]).size
                if n_distinct < MIN_DISTINCT_TIMES:
                    raise ValueError(
                        f"Window {k} of trajectory {ids[j].item()!r} has {n_distinct} distinct "
                        f"time(s); each window needs at least {MIN_DISTINCT_TIMES}. Lower "
                        f"n_batches (got {self.n_batches})."
                    )
                batches[k].append(window)
        members = [list(range(len(ids))) for _ in range(self.n_batches)]
        return batches, members

    # ------------------------------------------------------------------
    # Fitting

    def fit(self, X, y, trajectory=None):
        """Fit the consensus neural ODE by ADMM over batches of the data.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, 1 + n_inputs)
            Times, then the inputs at those times, as for
            :meth:`CollocationNeuralODE.fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_states)
            Observed states; NaN marks a missing entry.
        trajectory : array-like of shape (n_samples,), default=None
            Trajectory id of each row; None means one trajectory.

        Returns
        -------
        self : BatchedADMMRegressor
            The fitted estimator.

        Raises
        ------
        SolverError
            When IPOPT fails on a sub-problem after its restarts; the message
            names the batch, the iteration and IPOPT's status.
        """
        self._validate_params()
        start = time.perf_counter()
        if self.estimator is not None and not isinstance(self.estimator, CollocationNeuralODE):
            raise TypeError(
                "estimator must be a CollocationNeuralODE (or None for the default one), "
                f"got {type(self.estimator).__name__}."
            )
        template = CollocationNeuralODE() if self.estimator is None else clone(self.estimator)
        template._validate_params()
        hidden_sizes = template._validate_hidden_layer_sizes()
        X, y, trajectory = template._validate_fit_data(X, y, trajectory)
        self.n_features_in_ = template.n_features_in_
        if hasattr(template, "feature_names_in_"):
            self.feature_names_in_ = template.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

        t, inputs = X[:, 0], X[:, 1:]
        ids, trajectory_rows = template._split_trajectories(t, y, inputs, trajectory)
        n_states, n_inputs = y.shape[1], inputs.shape[1]
        layer_sizes = (n_states + n_inputs, *hidden_sizes, n_states)
        template.n_states_, template.n_inputs_ = n_states, n_inputs
        batch_rows, batch_members = self._make_batches(ids, trajectory_rows, t)
        # The scale's lower bound guards one collocation problem's horizon,
        # here the longest piece of any batch.
        template.scaling_ = template._fit_scaling(
            t,
            y,
            inputs,
            trajectory_rows,
            problem_span=max(np.ptp(t[rows]) for batch in batch_rows for rows in batch),
        )

        # Every batch starts from the weights of the monolithic fit with the
        # same random_state: its draw, fitted to the slopes of all the data
        # when weight_init="derivative_matching". On 10,000 samples in 8
        # windows this cut the IPOPT iterations of the first two ADMM
        # iterations by 40 %, against the first batch's own fit.
        z = template._build_problem(
            t, y, inputs, trajectory_rows, layer_sizes, check_random_state(template.random_state)
        ).params_init
        # The batches' own initial weights are never used, so they skip the fit.
        problems = [
            template._build_problem(
                t, y, inputs, rows, layer_sizes, check_random_state(0), fit_weights=False
            )
            for rows in batch_rows
        ]
        n_observed = np.array([problem.n_observed for problem in problems])
        if not n_observed.all():
            empty = int(np.flatnonzero(n_observed == 0)[0])
            raise ValueError(
                f"Batch {empty} has no observed value in y (every entry of its rows is NaN), "
                f"so its sub-problem has no data term. Lower n_batches (got {self.n_batches}) "
                "or use batching='trajectories'."
            )
        batch_weights = n_observed.sum() / n_observed

        self._log_progress(
            "ADMM over %d batches: %s nodes, %d weights, alpha %.3g.",
            len(problems),
            "/".join(str(problem.n_nodes) for problem in problems),
            z.size,
            template.alpha,
        )
        states, thetas, results = self._iterate(template, problems, batch_weights, z)
        z = self.consensus_weights_

        self.batch_rows_ = batch_rows
        self.estimators_ = [
            self._fitted_copy(template, result, problem, ids[members], t, inputs, rows, layer_sizes)
            for result, problem, members, rows in zip(results, problems, batch_members, batch_rows)
        ]
        # Each batch objective carries alpha ||z||^2 and the weights 1 / w_k
        # sum to one, so the sum counts the penalty once.
        objective = sum(
            problem.objective(batch_states, z) / weight
            for problem, batch_states, weight in zip(problems, states, batch_weights)
        )
        self.consensus_estimator_ = self._consensus_copy(
            template, problems, results, batch_members, ids, t, inputs, trajectory_rows, layer_sizes, objective
        )
        self.objective_ = objective
        for name in ("coefs_", "intercepts_", "y0_", "t0_", "trajectories_", "n_states_", "n_inputs_"):
            setattr(self, name, getattr(self.consensus_estimator_, name))
        self.fit_time_ = time.perf_counter() - start
        self.consensus_estimator_.fit_time_ = self.fit_time_
        if not self.converged_:
            warnings.warn(
                f"ADMM stopped after max_iter={self.max_iter} iterations with primal residual "
                f"{self.primal_residuals_[-1]:.3g} (tolerance {self.primal_tolerances_[-1]:.3g}) "
                f"and dual residual {self.dual_residuals_[-1]:.3g} (tolerance "
                f"{self.dual_tolerances_[-1]:.3g}). Increase max_iter or change rho.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _iterate(self, template, problems, batch_weights, z):
        """Run the ADMM iterations; store histories and return the last batch solutions."""
        n_batches, n_params = len(problems), z.size
        rho = float(self.rho)
        u = np.zeros((n_batches, n_params))
        thetas = np.tile(z, (n_batches, 1))
        states = [problem.states_init for problem in problems]
        multipliers = [None] * n_batches
        independent_start = self.init == "independent" or (self.init == "auto" and n_batches == 1)
        anderson = _Anderson(self.anderson_memory, n_batches, n_params) if self.anderson_memory else None
        seeds_random_state = check_random_state(self.random_state)
        history = {name: [] for name in ("primal", "dual", "primal_tol", "dual_tol", "rho", "step")}
        scale = np.sqrt(n_batches * n_params)
        converged = False
        step = "initial"

        for iteration in range(1, self.max_iter + 1):
            iteration_start = time.perf_counter()
            seeds = seeds_random_state.randint(np.iinfo(np.int32).max, size=n_batches)
            unconstrained = iteration == 1 and independent_start
            tasks = [
                dataclasses.replace(
                    problem,
                    states_init=states[k],
                    params_init=thetas[k],
                    prox_weight=0.0 if unconstrained else rho * batch_weights[k],
                    prox_center=z - u[k],
                    multipliers_init=multipliers[k],
                )
                for k, problem in enumerate(problems)
            ]
            outcomes = Parallel(n_jobs=self.n_jobs)(
                delayed(_solve_batch)(template, task, seed) for task, seed in zip(tasks, seeds)
            )
            results = self._check_outcomes(outcomes, iteration)
            states = [result.states for result in results]
            thetas = np.array([result.params for result in results])
            # After an independent first fit the proximal term moves the
            # windows far, and its multipliers made poor starts for IPOPT.
            if not unconstrained:
                multipliers = [result.multipliers for result in results]

            z_previous, u_previous = z, u
            z = (thetas + u).mean(axis=0)
            u = u + thetas - z
            primal = float(np.linalg.norm(thetas - z))
            dual = float(rho * np.sqrt(n_batches) * np.linalg.norm(z - z_previous))
            primal_tol = scale * self.atol + self.tol * max(
                np.linalg.norm(thetas), np.sqrt(n_batches) * np.linalg.norm(z)
            )
            dual_tol = scale * self.atol + self.tol * rho * float(np.linalg.norm(u))
            for name, value in zip(history, (primal, dual, primal_tol, dual_tol, rho, step)):
                history[name].append(value)
            self._log_progress(
                "ADMM iteration %d (%s point): primal residual %.3g (tolerance %.3g), "
                "dual residual %.3g (tolerance %.3g), rho %.3g, IPOPT iterations %s, %.2f s.",
                iteration,
                step,
                primal,
                primal_tol,
                dual,
                dual_tol,
                rho,
                "/".join(str(result.n_iter) for result in results),
                time.perf_counter() - iteration_start,
            )
            if primal <= primal_tol and dual <= dual_tol:
                converged = True
                break
            if iteration == self.max_iter:
                # Keep the last map output, not an extrapolation never solved.
                break
            step = "plain"
            # The first dual residual measures the step away from the
            # initial weights, not the balance of the two residuals.
            # With one batch the primal residual is zero, so balancing would
            # only shrink rho.
            factor = 1.0
            if self.adaptive_rho and iteration > 1 and n_batches > 1:
                if primal > RESIDUAL_RATIO * dual:
                    factor = RHO_FACTOR
                elif dual > RESIDUAL_RATIO * primal:
                    factor = 1.0 / RHO_FACTOR
            if factor != 1.0:
                # The scaled dual u = y / rho keeps y fixed when rho changes,
                # and the map that Anderson acceleration extrapolates changes.
                rho *= factor
                u /= factor
                if anderson is not None:
                    anderson.reset()
            elif anderson is not None and not unconstrained:
                z, u, step = anderson.step(z_previous, u_previous, z, u)

        self.consensus_weights_ = z
        self.batch_weights_ = thetas
        self.scaled_duals_ = u
        self.primal_residuals_ = np.array(history["primal"])
        self.dual_residuals_ = np.array(history["dual"])
        self.primal_tolerances_ = np.array(history["primal_tol"])
        self.dual_tolerances_ = np.array(history["dual_tol"])
        self.rho_history_ = np.array(history["rho"])
        self.steps_ = np.array(history["step"])
        self.n_iter_ = iteration
        self.converged_ = converged
        self.termination_condition_ = "converged" if converged else "max_iter_reached"
        return states, thetas, results

    @staticmethod
    def _check_outcomes(outcomes, iteration):
        results = []
        for k, outcome in enumerate(outcomes):
            if outcome["failed"]:
                raise SolverError(
                    f"IPOPT failed on the sub-problem of batch {k} in ADMM iteration "
                    f"{iteration} with status {outcome['status']} after "
                    f"{outcome['n_attempts']} attempt(s). Try a larger rho, fewer batches "
                    "or IPOPT options via the estimator's solver_options.",
                    status=outcome["status"],
                    n_attempts=outcome["n_attempts"],
                )
            result = outcome["result"]
            if result.status not in _solve_result.CONVERGED_STATUSES:
                logger.warning(
                    "IPOPT stopped with status %s on batch %d in ADMM iteration %d; its "
                    "last iterate is kept.",
                    result.status,
                    k,
                    iteration,
                )
            result.n_restarts = outcome["n_restarts"]
            results.append(result)
        return results

    # ------------------------------------------------------------------
    # Fitted estimators

    @staticmethod
    def _fitted_copy(template, result, problem, ids, t, inputs, rows, layer_sizes):
        """Return a fitted CollocationNeuralODE holding ``result`` on ``problem``."""
        estimator = copy.deepcopy(template)
        estimator._store_result(result, problem, np.asarray(ids), t, inputs, rows, layer_sizes)
        estimator.n_restarts_ = getattr(result, "n_restarts", 0)
        estimator.n_refinements_ = 0
        estimator.fit_time_ = result.build_time + result.solve_time
        estimator._sklearn_nodecoll_version = package_version()
        return estimator

    def _consensus_copy(
        self, template, problems, results, batch_members, ids, t, inputs, trajectory_rows, layer_sizes, objective
    ):
        """Return a fitted CollocationNeuralODE with the consensus weights.

        The node times and states of each trajectory are those of its pieces
        in batch order. With overlapping windows, the nodes of a piece that
        lie before the end of the previous piece are left out.
        """
        node_times = [[] for _ in ids]
        node_states = [[] for _ in ids]
        for problem, result, members in zip(problems, results, batch_members):
            for nodes, j in zip(problem.trajectory_nodes, members):
                times = problem.node_times[nodes]
                keep = slice(None)
                if node_times[j]:
                    keep = times > node_times[j][-1][-1]
                node_times[j].append(times[keep])
                node_states[j].append(result.states[nodes][keep])
        times = [np.concatenate(pieces) for pieces in node_times]
        offsets = np.cumsum([0] + [piece.size for piece in times])
        combined_problem = types.SimpleNamespace(
            node_times=np.concatenate(times),
            trajectory_nodes=[np.arange(offsets[j], offsets[j + 1]) for j in range(len(ids))],
        )
        combined_result = _solve_result.SolveResult(
            states=np.vstack([np.vstack(pieces) for pieces in node_states]),
            params=self.consensus_weights_,
            status=self.termination_condition_,
            success=self.converged_,
            n_iter=self.n_iter_,
            objective=objective,
            build_time=sum(result.build_time for result in results),
            solve_time=sum(result.solve_time for result in results),
            backend="admm",
        )
        estimator = copy.deepcopy(template)
        estimator._store_result(
            combined_result, combined_problem, ids, t, inputs, trajectory_rows, layer_sizes
        )
        estimator.n_restarts_ = 0
        estimator.n_refinements_ = 0
        # NOTE: rollout_defect_ is not computed for the consensus model, so no
        # warning reports a rollout that departs from the window states.
        estimator._sklearn_nodecoll_version = package_version()
        return estimator

    # ------------------------------------------------------------------
    # Prediction

    def predict(self, X, trajectory=None):
        """Predict the states by integrating the consensus ODE.

        Takes the same arguments as :meth:`CollocationNeuralODE.predict`.
        """
        check_is_fitted(self)
        return self.consensus_estimator_.predict(X, trajectory=trajectory)

    def simulate(self, t, y0, u=None):
        """Integrate the consensus ODE from any initial state.

        Takes the same arguments as :meth:`CollocationNeuralODE.simulate`.
        """
        check_is_fitted(self)
        return self.consensus_estimator_.simulate(t, y0, u=u)

    def score(self, X, y, trajectory=None, sample_weight=None):
        """Return the R^2 of the consensus model's predicted trajectory against ``y``.

        Takes the same arguments as :meth:`CollocationNeuralODE.score`.
        """
        check_is_fitted(self)
        return self.consensus_estimator_.score(
            X, y, trajectory=trajectory, sample_weight=sample_weight
        )

    def __sklearn_tags__(self):
        # Inputs and targets are those of the wrapped estimator.
        tags = super().__sklearn_tags__()
        wrapped = CollocationNeuralODE() if self.estimator is None else self.estimator
        wrapped_tags = wrapped.__sklearn_tags__()
        tags.input_tags = wrapped_tags.input_tags
        tags.target_tags = wrapped_tags.target_tags
        tags.regressor_tags = wrapped_tags.regressor_tags
        return tags

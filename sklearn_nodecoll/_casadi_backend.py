"""Solve a :class:`~sklearn_nodecoll.problem.CollocationProblem` with IPOPT via CasADi.

CasADi's automatic differentiation of the whole program is slow to build
here: the Hessian of the Lagrangian couples every node with every weight,
and generic sparsity detection over that graph took 13 s (MX) to 97 s (SX)
for 200 nodes and 32 hidden units on a 2-core machine. The program's
structure makes exact derivatives cheap instead. The network acts on one
node at a time, so CasADi differentiates only the small per-node function
``f(z_k, u_k, theta)``, evaluates it over all nodes with ``Function.map``,
and the sparse Jacobian and Hessian are assembled in numpy from fixed index
patterns. The objective and the differentiation rows are linear or
quadratic, so their derivatives are constant matrices. IPOPT receives all
of it through CasADi callbacks.
"""

import time
from numbers import Real

import casadi as ca
import numpy as np
import scipy.sparse as sp

from . import network
from ._solve_result import CONVERGED_STATUSES, LIMIT_STATUSES, SolveResult  # noqa: F401

def casadi_forward(x, theta, layer_sizes, activation):
    """Evaluate the network on CasADi symbols with the packing of ``network``.

    Parameters
    ----------
    x : casadi.SX of shape (n_features, 1)
    theta : casadi.SX of shape (n_parameters, 1)
    """
    activations = {
        "tanh": ca.tanh,
        "logistic": lambda a: 0.5 * (1 + ca.tanh(0.5 * a)),
        "softplus": lambda a: ca.log1p(ca.exp(-ca.fabs(a))) + ca.fmax(a, 0),
        "identity": lambda a: a,
    }
    act = activations[activation]
    shapes = network.layer_shapes(layer_sizes)
    a = x
    offset = 0
    for layer, (fan_in, fan_out) in enumerate(shapes):
        # theta stores W (fan_in, fan_out) row by row; CasADi reshapes column
        # by column, which yields W transposed.
        W_transposed = ca.reshape(theta[offset : offset + fan_in * fan_out], fan_out, fan_in)
        offset += fan_in * fan_out
        b = theta[offset : offset + fan_out]
        offset += fan_out
        a = ca.mtimes(W_transposed, a) + b
        if layer < len(shapes) - 1:
            a = act(a)
    return a


def _sparsity_indices(pattern):
    """Return the (row, column) of each nonzero of a CasADi sparsity, in storage order."""
    rows = np.asarray(pattern.row(), dtype=np.int64)
    cols = np.repeat(np.arange(pattern.size2()), np.diff(pattern.colind()))
    return rows, cols


class _Assembly:
    """A fixed sparse pattern that sums scattered entries into CSC storage order.

    Entries are given as (row, column) pairs in any order, with repeats. The
    pattern is their union, stored column by column as CasADi and
    ``scipy.sparse.csc_matrix`` both expect.
    """

    def __init__(self, shape, rows, cols):
        self.shape = shape
        keys = np.asarray(cols, dtype=np.int64) * shape[0] + np.asarray(rows, dtype=np.int64)
        unique_keys, self.position = np.unique(keys, return_inverse=True)
        self.nnz = unique_keys.size
        self.rows = unique_keys % shape[0]
        self.cols = unique_keys // shape[0]
        colind = np.searchsorted(self.cols, np.arange(shape[1] + 1))
        self.sparsity = ca.Sparsity(shape[0], shape[1], colind.tolist(), self.rows.tolist())

    def sum(self, values):
        return np.bincount(self.position, weights=values, minlength=self.nnz)


class _Evaluator:
    """Numpy evaluation of objective, constraints and their exact derivatives."""

    def __init__(self, problem):
        self.problem = problem
        n_states = problem.n_states
        n_inputs = problem.n_inputs
        n_params = problem.n_parameters
        n_nodes = problem.n_nodes
        self.n_states = n_states
        self.n_state_vars = n_nodes * n_states
        self.n_vars = self.n_state_vars + n_params
        index = problem.collocation_index
        n_rows = index.size
        self.n_rows = n_rows
        self.inputs_at_rows = np.ascontiguousarray(problem.node_inputs[index].T)

        # Per-node network function and its derivatives with respect to
        # w = (z, theta); the inputs u are data, not variables.
        z = ca.SX.sym("z", n_states)
        u = ca.SX.sym("u", n_inputs)
        theta = ca.SX.sym("theta", n_params)
        lam = ca.SX.sym("lam", n_states)
        rhs = casadi_forward(ca.vertcat(z, u), theta, problem.layer_sizes, problem.activation)
        w = ca.vertcat(z, theta)
        jacobian = ca.jacobian(rhs, w)
        hessian = ca.triu(ca.hessian(ca.dot(lam, rhs), w)[0])

        jac_rows, jac_cols = _sparsity_indices(jacobian.sparsity())
        hess_rows, hess_cols = _sparsity_indices(hessian.sparsity())
        hessian_nz = hessian.nonzeros()
        # Entries whose row is a state couple one node with theta; entries
        # with both indices in theta are summed over nodes by the map.
        node_entry = hess_rows < n_states
        node_nz = ca.vertcat(*[hessian_nz[k] for k in np.flatnonzero(node_entry)])
        shared_nz = ca.vertcat(*[hessian_nz[k] for k in np.flatnonzero(~node_entry)])

        self.rhs_map = ca.Function("rhs", [z, u, theta], [rhs]).map(
            "rhs_map", "serial", n_rows, [2], []
        )
        self.jac_map = ca.Function(
            "rhs_jacobian", [z, u, theta], [ca.vertcat(*jacobian.nonzeros())]
        ).map("rhs_jacobian_map", "serial", n_rows, [2], [])
        self.hess_map = ca.Function("rhs_hessian", [z, u, theta, lam], [node_nz, shared_nz]).map(
            "rhs_hessian_map", "serial", n_rows, [2], [1]
        )

        # Global variable index of local coordinate w[a] at each row.
        state_base = index * n_states

        def global_index(local, row_base):
            local = np.asarray(local)
            is_state = local < n_states
            return np.where(
                is_state[None, :],
                row_base[:, None] + local[None, :],
                self.n_state_vars + (local - n_states)[None, :],
            )

        # Constraint Jacobian: kron(D, I) minus the network Jacobian.
        D = problem.diff_matrix.tocoo()
        state_ids = np.arange(n_states)
        d_rows = (D.row[:, None] * n_states + state_ids[None, :]).ravel()
        d_cols = (D.col[:, None] * n_states + state_ids[None, :]).ravel()
        self.d_values = np.repeat(D.data, n_states)
        f_rows = (np.arange(n_rows)[:, None] * n_states + jac_rows[None, :]).ravel()
        f_cols = global_index(jac_cols, state_base).ravel()
        self.jac = _Assembly(
            (n_rows * n_states, self.n_vars),
            np.concatenate([d_rows, f_rows]),
            np.concatenate([d_cols, f_cols]),
        )

        # Hessian of the Lagrangian, upper triangle. The objective part is
        # constant: (2/|O|) P^T M_i P for each state i, and (2 alpha + w) I
        # with w the weight of the proximal term.
        weight = 2.0 / problem.n_observed
        obj_rows, obj_cols, obj_values = [], [], []
        P = problem.obs_matrix.tocsc()
        for i in range(n_states):
            masked = sp.diags(problem.obs_mask[:, i]) @ P
            block = sp.triu(P.T @ masked).tocoo()
            obj_rows.append(block.row * n_states + i)
            obj_cols.append(block.col * n_states + i)
            obj_values.append(weight * block.data)
        params_ids = self.n_state_vars + np.arange(n_params)
        obj_rows.append(params_ids)
        obj_cols.append(params_ids)
        obj_values.append(np.full(n_params, 2.0 * problem.alpha + problem.prox_weight))
        self.obj_hess_values = np.concatenate(obj_values)
        n_obj = self.obj_hess_values.size

        node_rows = global_index(hess_rows[node_entry], state_base).ravel()
        node_cols = global_index(hess_cols[node_entry], state_base).ravel()
        shared_rows = self.n_state_vars + hess_rows[~node_entry] - n_states
        shared_cols = self.n_state_vars + hess_cols[~node_entry] - n_states
        self.hess = _Assembly(
            (self.n_vars, self.n_vars),
            np.concatenate(obj_rows + [node_rows, shared_rows]),
            np.concatenate(obj_cols + [node_cols, shared_cols]),
        )
        self.n_obj_hess = n_obj

        self.P = problem.obs_matrix.tocsr()
        self.PT = self.P.T.tocsr()
        self.D = problem.diff_matrix.tocsr()
        self._cache_key = None

    def split(self, x):
        x = np.asarray(x, dtype=float).ravel()
        states = x[: self.n_state_vars].reshape(-1, self.n_states)
        return states, x[self.n_state_vars :]

    def _row_states(self, states):
        return np.ascontiguousarray(states[self.problem.collocation_index].T)

    def objective(self, x):
        states, params = self.split(x)
        return self.problem.objective(states, params)

    def objective_gradient(self, x):
        problem = self.problem
        states, params = self.split(x)
        error = problem.obs_mask * (self.P @ states - problem.obs_values)
        grad_states = (2.0 / problem.n_observed) * (self.PT @ error)
        grad_params = 2.0 * problem.alpha * params
        if problem.prox_weight:
            grad_params = grad_params + problem.prox_weight * problem.prox_offset(params)
        return np.concatenate([grad_states.ravel(), grad_params])

    def constraints(self, x):
        states, params = self.split(x)
        rhs = np.asarray(self.rhs_map(self._row_states(states), self.inputs_at_rows, params))
        return (self.D @ states - rhs.T).ravel()

    def constraint_jacobian(self, x):
        states, params = self.split(x)
        network_jac = np.asarray(
            self.jac_map(self._row_states(states), self.inputs_at_rows, params)
        )
        values = np.concatenate([self.d_values, -network_jac.T.ravel()])
        return self.jac.sum(values)

    def lagrangian_hessian(self, x, lam_f, lam_g):
        states, params = self.split(x)
        multipliers = np.ascontiguousarray(np.asarray(lam_g, dtype=float).reshape(-1, self.n_states).T)
        node_values, shared_values = self.hess_map(
            self._row_states(states), self.inputs_at_rows, params, multipliers
        )
        values = np.concatenate(
            [
                float(lam_f) * self.obj_hess_values,
                -np.asarray(node_values).T.ravel(),
                -np.asarray(shared_values).ravel(),
            ]
        )
        return self.hess.sum(values)


class _NumpyCallback(ca.Callback):
    """A CasADi function whose outputs a Python function computes."""

    def __init__(self, name, inputs, outputs, compute):
        ca.Callback.__init__(self)
        self._inputs = inputs
        self._outputs = outputs
        self._compute = compute
        self.construct(name, {"enable_fd": False})

    def get_n_in(self):
        return len(self._inputs)

    def get_n_out(self):
        return len(self._outputs)

    def get_name_in(self, i):
        return self._inputs[i][0]

    def get_name_out(self, i):
        return self._outputs[i][0]

    def get_sparsity_in(self, i):
        return self._inputs[i][1]

    def get_sparsity_out(self, i):
        return self._outputs[i][1]

    def eval(self, args):
        values = self._compute(*[np.asarray(ca.DM(a).full()).ravel() for a in args])
        return [ca.DM(self._outputs[k][1], np.asarray(v, dtype=float).ravel()) for k, v in enumerate(values)]

    # IPOPT's calls take this route, which reads inputs and writes outputs in
    # place. Building a DM instead took as long as assembling the Hessian on
    # 1000 nodes.
    def has_eval_buffer(self):
        return True

    def eval_buffer(self, args, results):
        # CasADi passes None for an empty or absent input, and for an output
        # that the caller does not need.
        inputs = [
            np.zeros(sparsity.nnz()) if a is None else np.frombuffer(a, dtype=np.float64)
            for a, (_, sparsity) in zip(args, self._inputs)
        ]
        values = self._compute(*inputs)
        for buffer, value in zip(results, values):
            if buffer is not None:
                np.frombuffer(buffer, dtype=np.float64)[:] = np.ravel(value)
        return 0


def _history(stats):
    iterations = stats.get("iterations") or {}
    return {
        "objective": np.asarray(iterations.get("obj", []), dtype=float),
        "constraint_violation": np.asarray(iterations.get("inf_pr", []), dtype=float),
        "dual_infeasibility": np.asarray(iterations.get("inf_du", []), dtype=float),
    }


def mumps_options(solver_options=None):
    """Return the MUMPS settings used unless ``solver_options`` overrides them.

    - ``mumps_scaling: 0`` switches off MUMPS's own row and column scaling.
      With it, IPOPT regularised the Hessian by up to 1 on every iteration
      of the forced Van der Pol fit over [0, 150], so its steps were those
      of a gradient method. It stopped at 500 iterations without
      converging, against 37 iterations without scaling.
    - ``mumps_pivot_order: 5`` orders the factorisation with METIS. Every
      collocation row depends on the network weights, and METIS keeps the
      fill of those dense columns lower: the fit over [0, 150] took 5.7 s
      instead of 10.1 s, and the 128-unit fit 7.4 s instead of 11.1 s.
    - ``mumps_pivtol: 1e-4`` (IPOPT's default is 1e-6) makes MUMPS pivot
      more carefully. With METIS and the default, the 128-unit fit and a
      400-node fit ran to 500 iterations; with 1e-4 they converge in 67
      and 54. IPOPT rejects a ``mumps_pivtol`` above ``mumps_pivtolmax``,
      so a smaller ``mumps_pivtolmax`` in ``solver_options`` lowers it.
    """
    defaults = {"mumps_scaling": 0, "mumps_pivot_order": 5, "mumps_pivtol": 1e-4}
    pivtol_max = (solver_options or {}).get("mumps_pivtolmax")
    if isinstance(pivtol_max, Real) and not isinstance(pivtol_max, bool):
        defaults["mumps_pivtol"] = min(defaults["mumps_pivtol"], pivtol_max)
    return defaults


def ipopt_options(tol, max_iter, max_time, verbose, solver_options, defaults=None):
    """Merge the estimator's settings into IPOPT options; user options win.

    ``defaults`` contains options that the estimator's settings and then
    the user's options override, such as those of :func:`mumps_options`.
    """
    options = dict(defaults or {})
    options.update(
        {
            "tol": float(tol),
            "max_iter": int(max_iter),
            "print_level": 5 if verbose >= 2 else 0,
            "sb": "yes",
        }
    )
    if max_time is not None:
        options["max_wall_time"] = float(max_time)
    options.update(solver_options or {})
    return options


def solve(problem, states_init, params_init, tol, max_iter, max_time=None, verbose=0, solver_options=None):
    """Solve the collocation problem from the given initial point.

    Parameters
    ----------
    problem : CollocationProblem
    states_init : ndarray of shape (n_nodes, n_states)
    params_init : ndarray of shape (n_parameters,)
    tol : float
        IPOPT's ``tol``.
    max_iter : int
        IPOPT's ``max_iter``.
    max_time : float or None
        IPOPT's ``max_wall_time`` in seconds.
    verbose : int
        At 2 and above IPOPT prints its iteration log.
    solver_options : dict or None
        Further IPOPT options, which take precedence.

    Returns
    -------
    SolveResult
    """
    start = time.perf_counter()
    evaluator = _Evaluator(problem)
    n_vars = evaluator.n_vars
    n_cons = evaluator.n_rows * problem.n_states
    x_sparsity = ca.Sparsity.dense(n_vars, 1)
    p_sparsity = ca.Sparsity.dense(0, 1)
    scalar = ca.Sparsity.dense(1, 1)
    g_sparsity = ca.Sparsity.dense(n_cons, 1)
    xp = [("x", x_sparsity), ("p", p_sparsity)]

    nlp = _NumpyCallback(
        "nlp",
        xp,
        [("f", scalar), ("g", g_sparsity)],
        lambda x, p: (evaluator.objective(x), evaluator.constraints(x)),
    )
    grad_f = _NumpyCallback(
        "grad_f",
        xp,
        [("f", scalar), ("grad_f_x", ca.Sparsity.dense(1, n_vars))],
        lambda x, p: (evaluator.objective(x), evaluator.objective_gradient(x)),
    )
    jac_g = _NumpyCallback(
        "jac_g",
        xp,
        [("g", g_sparsity), ("jac_g_x", evaluator.jac.sparsity)],
        lambda x, p: (evaluator.constraints(x), evaluator.constraint_jacobian(x)),
    )
    hess_lag = _NumpyCallback(
        "hess_lag",
        xp + [("lam_f", scalar), ("lam_g", g_sparsity)],
        [("triu_hess_gamma_x_x", evaluator.hess.sparsity)],
        lambda x, p, lam_f, lam_g: (evaluator.lagrangian_hessian(x, lam_f[0], lam_g),),
    )
    options = {
        "grad_f": grad_f,
        "jac_g": jac_g,
        "hess_lag": hess_lag,
        "print_time": False,
        "verbose_init": False,
        # nlp_grad only recovers multipliers after the solve, and would need
        # a derivative of the callback that CasADi cannot form.
        "no_nlp_grad": True,
        "ipopt": ipopt_options(
            tol,
            max_iter,
            max_time,
            verbose,
            solver_options,
            defaults=mumps_options(solver_options),
        ),
    }
    start_point = {
        "x0": np.concatenate([np.asarray(states_init, dtype=float).ravel(), params_init]),
        "lbg": 0.0,
        "ubg": 0.0,
    }
    if problem.multipliers_init is not None:
        # Without this option IPOPT replaces the given multipliers by its
        # least-squares estimate. In the tail of consensus ADMM on 10,000
        # samples, the warm multipliers cut the IPOPT iterations per window
        # from 3 to 2.
        options["ipopt"].setdefault("warm_start_init_point", "yes")
        start_point["lam_g0"] = problem.multipliers_init
    solver = ca.nlpsol("collocation", "ipopt", nlp, options)
    build_time = time.perf_counter() - start

    start = time.perf_counter()
    solution = solver(**start_point)
    solve_time = time.perf_counter() - start
    stats = solver.stats()
    status = str(stats.get("return_status", "Unknown"))
    states, params = evaluator.split(np.asarray(solution["x"]).ravel())
    return SolveResult(
        states=states.copy(),
        params=params.copy(),
        status=status,
        success=status in CONVERGED_STATUSES,
        n_iter=int(stats.get("iter_count", 0)),
        objective=float(solution["f"]),
        build_time=build_time,
        solve_time=solve_time,
        history=_history(stats),
        multipliers=np.asarray(solution["lam_g"], dtype=float).ravel().copy(),
    )

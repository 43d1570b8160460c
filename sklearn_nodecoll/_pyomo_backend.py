"""Build a :class:`~sklearn_nodecoll.problem.CollocationProblem` as a Pyomo model and solve it.

The model states the same nonlinear program as the CasADi backend, in scaled
units, as a person would write it:

* sets ``nodes``, ``rows`` (collocation rows), ``states``, ``inputs``,
  ``features`` (states followed by inputs, the network's input) and
  ``hidden1``, ``hidden2``, ... (units of each hidden layer);
* variables ``y[node, state]`` (scaled states) and, for each layer ``l`` of
  the network, weights ``W<l>[fan_in, fan_out]`` and biases ``b<l>[fan_out]``;
* expressions ``layer<l>[row, unit]`` (hidden activations) and
  ``rhs[row, state]`` (network output), evaluated at the node of each row;
* constraints ``collocation[row, state]``: ``(D y)[row, state] == rhs[row, state]``;
* the objective ``objective``, equal to :meth:`CollocationProblem.objective`.

IPOPT solves the model in one of two ways. When Pyomo finds an ``ipopt``
executable, it runs that executable. Otherwise the model is written as an NL
file, CasADi imports it, and the IPOPT shipped in the ``casadi`` wheel solves
it. The solution is then loaded back into the model in the NL writer's column
order.
"""

import logging
import os
import re
import tempfile
import time

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression, SumExpression
from pyomo.opt import TerminationCondition
from pyomo.repn.plugins.nl_writer import NLWriter

from . import network
from ._casadi_backend import (
    CONVERGED_STATUSES,
    SolveResult,
    _history,
    ipopt_options,
    mumps_options,
)

logger = logging.getLogger(__name__)

ROUTE_EXECUTABLE = "pyomo-ipopt-executable"
ROUTE_NL_CASADI = "pyomo-nl-casadi"

# Name of the model attribute that contains the CollocationProblem it was built from.
PROBLEM_ATTRIBUTE = "collocation_problem"


def _activation(name):
    """Return the activation ``name`` of ``network.ACTIVATIONS`` on Pyomo expressions."""
    if name == "tanh":
        return pyo.tanh
    if name == "logistic":
        return lambda a: 0.5 * (1.0 + pyo.tanh(0.5 * a))
    if name == "softplus":
        # log(1 + exp(a)) written so that exp never overflows, as the CasADi
        # backend writes it: max(a, 0) + log(1 + exp(-|a|)).
        return lambda a: 0.5 * (a + abs(a)) + pyo.log(1.0 + pyo.exp(-abs(a)))
    if name == "identity":
        return lambda a: a
    raise ValueError(
        f"activation must be one of {sorted(network.ACTIVATIONS)}, got {name!r}."
    )


def _sum(terms):
    return SumExpression(list(terms))


def _linear(constant, coefficients, variables):
    return LinearExpression(
        constant=float(constant),
        linear_coefs=[float(c) for c in coefficients],
        linear_vars=list(variables),
    )


def build_model(problem):
    """Build the Pyomo model of ``problem``, initialised at its initial point.

    Parameters
    ----------
    problem : CollocationProblem

    Returns
    -------
    model : pyomo.environ.ConcreteModel
        The problem is stored as ``model.collocation_problem``.
    """
    # Python's cyclic garbage collector rescans the growing model each time
    # it runs. Pausing it cut the build of the dense 200-node Chebyshev model
    # from 1.2 s to 0.25 s (2-core machine, median of 3).
    with PauseGC():
        return _build_model(problem)


def _build_model(problem):
    layer_sizes = problem.layer_sizes
    n_states = problem.n_states
    shapes = network.layer_shapes(layer_sizes)
    n_layers = len(shapes)
    rows = np.arange(problem.collocation_index.size)

    model = pyo.ConcreteModel(name="collocation")
    setattr(model, PROBLEM_ATTRIBUTE, problem)
    model.nodes = pyo.Set(initialize=range(problem.n_nodes), ordered=True)
    model.rows = pyo.Set(initialize=rows.tolist(), ordered=True, doc="collocation rows")
    model.states = pyo.Set(initialize=range(n_states), ordered=True)
    model.inputs = pyo.Set(initialize=range(problem.n_inputs), ordered=True)
    model.features = pyo.Set(
        initialize=range(layer_sizes[0]), ordered=True, doc="states, then inputs"
    )
    unit_sets = [model.features]
    for layer in range(1, n_layers):
        units = pyo.Set(initialize=range(layer_sizes[layer]), ordered=True)
        model.add_component(f"hidden{layer}", units)
        unit_sets.append(units)
    unit_sets.append(model.states)

    states_init = problem.states_init
    model.y = pyo.Var(
        model.nodes,
        model.states,
        initialize={(k, s): float(states_init[k, s]) for k in range(problem.n_nodes) for s in range(n_states)},
        doc="scaled states at the nodes",
    )
    coefs, intercepts = network.unpack(problem.params_init, layer_sizes)
    weights, biases = [], []
    for layer in range(n_layers):
        fan_in, fan_out = shapes[layer]
        W = pyo.Var(
            unit_sets[layer],
            unit_sets[layer + 1],
            initialize={(i, j): float(coefs[layer][i, j]) for i in range(fan_in) for j in range(fan_out)},
        )
        b = pyo.Var(
            unit_sets[layer + 1], initialize={j: float(intercepts[layer][j]) for j in range(fan_out)}
        )
        model.add_component(f"W{layer + 1}", W)
        model.add_component(f"b{layer + 1}", b)
        weights.append(W)
        biases.append(b)

    _add_network(model, problem, weights, biases)
    _add_collocation(model, problem)
    _add_objective(model, problem)
    return model


def _add_network(model, problem, weights, biases):
    """Add the layer expressions ``layer<l>[row, unit]`` and ``rhs[row, state]``."""
    n_states = problem.n_states
    act = _activation(problem.activation)
    shapes = network.layer_shapes(problem.layer_sizes)
    index = problem.collocation_index
    inputs = problem.node_inputs

    # Network inputs of each row: state variables, then input values.
    previous = [
        [model.y[int(k), s] for s in range(n_states)] + [float(v) for v in inputs[k]]
        for k in index
    ]
    for layer, (fan_in, fan_out) in enumerate(shapes):
        W, b = weights[layer], biases[layer]
        values = {}
        for row, a in enumerate(previous):
            for j in range(fan_out):
                pre_activation = _sum([b[j]] + [a[i] * W[i, j] for i in range(fan_in)])
                values[row, j] = pre_activation if layer == len(shapes) - 1 else act(pre_activation)
        if layer == len(shapes) - 1:
            model.rhs = pyo.Expression(model.rows, model.states, initialize=values, doc="network output")
            break
        expression = pyo.Expression(
            model.rows, model.component(f"hidden{layer + 1}"), initialize=values
        )
        model.add_component(f"layer{layer + 1}", expression)
        previous = [[expression[row, j] for j in range(fan_out)] for row in range(len(previous))]


def _add_collocation(model, problem):
    D = problem.diff_matrix.tocsr()
    y = model.y

    def collocation(model, row, s):
        columns = D.indices[D.indptr[row] : D.indptr[row + 1]]
        data = D.data[D.indptr[row] : D.indptr[row + 1]]
        derivative = _linear(0.0, data, [y[int(k), s] for k in columns])
        return derivative - model.rhs[row, s] == 0

    model.collocation = pyo.Constraint(model.rows, model.states, rule=collocation)


def _add_objective(model, problem):
    P = problem.obs_matrix.tocsr()
    y = model.y
    squares = []
    for o, s in zip(*np.nonzero(problem.obs_mask)):
        columns = P.indices[P.indptr[o] : P.indptr[o + 1]]
        data = P.data[P.indptr[o] : P.indptr[o + 1]]
        error = _linear(-problem.obs_values[o, s], data, [y[int(k), int(s)] for k in columns])
        squares.append(error**2)
    model.misfit = pyo.Expression(
        expr=_sum(squares) / problem.n_observed, doc="mean squared error at the observations"
    )
    model.penalty = pyo.Expression(
        expr=problem.alpha * _sum(v**2 for v in parameter_variables(model)),
        doc="L2 penalty on all weights and biases",
    )
    objective = model.misfit + model.penalty
    if problem.prox_weight:
        # The proximal term of a consensus ADMM sub-problem.
        center = np.zeros(problem.n_parameters) if problem.prox_center is None else problem.prox_center
        model.proximal = pyo.Expression(
            expr=0.5
            * problem.prox_weight
            * _sum((v - c) ** 2 for v, c in zip(parameter_variables(model), center)),
            doc="proximal term (w / 2) ||theta - center||^2",
        )
        objective = objective + model.proximal
    model.objective = pyo.Objective(expr=objective, sense=pyo.minimize)


def parameter_variables(model):
    """Return the weight and bias variables in the order of ``network.pack``."""
    problem = getattr(model, PROBLEM_ATTRIBUTE)
    variables = []
    for layer, (fan_in, fan_out) in enumerate(network.layer_shapes(problem.layer_sizes)):
        W = model.component(f"W{layer + 1}")
        b = model.component(f"b{layer + 1}")
        variables.extend(W[i, j] for i in range(fan_in) for j in range(fan_out))
        variables.extend(b[j] for j in range(fan_out))
    return variables


def get_values(model):
    """Return the node states and packed parameters stored in ``model``.

    Returns
    -------
    states : ndarray of shape (n_nodes, n_states)
    params : ndarray of shape (n_parameters,)
    """
    problem = getattr(model, PROBLEM_ATTRIBUTE)
    states = np.array(
        [[pyo.value(model.y[k, s]) for s in range(problem.n_states)] for k in range(problem.n_nodes)],
        dtype=float,
    )
    params = np.array([pyo.value(v) for v in parameter_variables(model)], dtype=float)
    return states, params


def set_values(model, states, params):
    """Set the node states and packed parameters of ``model``, leaving fixed variables as they are."""
    problem = getattr(model, PROBLEM_ATTRIBUTE)
    states = np.asarray(states, dtype=float)
    for k in range(problem.n_nodes):
        for s in range(problem.n_states):
            if not model.y[k, s].fixed:
                model.y[k, s].set_value(float(states[k, s]), skip_validation=True)
    for variable, value in zip(parameter_variables(model), np.asarray(params, dtype=float)):
        if not variable.fixed:
            variable.set_value(float(value), skip_validation=True)


def ipopt_executable_available():
    """Return whether Pyomo finds an ``ipopt`` executable."""
    return bool(pyo.SolverFactory("ipopt").available(exception_flag=False))


# Pyomo termination conditions and the IPOPT return status each stands for,
# so that both backends report the same termination_condition_.
_TERMINATION_STATUSES = {
    TerminationCondition.optimal: "Solve_Succeeded",
    TerminationCondition.locallyOptimal: "Solve_Succeeded",
    TerminationCondition.globallyOptimal: "Solve_Succeeded",
    TerminationCondition.maxIterations: "Maximum_Iterations_Exceeded",
    TerminationCondition.maxTimeLimit: "Maximum_WallTime_Exceeded",
    TerminationCondition.maxEvaluations: "Maximum_Iterations_Exceeded",
    TerminationCondition.infeasible: "Infeasible_Problem_Detected",
    TerminationCondition.unbounded: "Diverging_Iterates",
    TerminationCondition.userInterrupt: "User_Requested_Stop",
    TerminationCondition.internalSolverError: "Internal_Error",
    TerminationCondition.solverFailure: "Error_In_Step_Computation",
    TerminationCondition.error: "Internal_Error",
}


def ipopt_status(termination_condition, message=""):
    """Return the IPOPT return status that a Pyomo termination condition stands for.

    IPOPT's AMPL interface reports "Solved To Acceptable Level." and a CPU
    time limit only in the solver message, so ``message`` refines the status.
    """
    text = str(message).lower()
    if "acceptable" in text:
        return "Solved_To_Acceptable_Level"
    if termination_condition == TerminationCondition.maxTimeLimit and "cpu" in text:
        return "Maximum_CpuTime_Exceeded"
    if "restoration" in text:
        return "Restoration_Failed"
    return _TERMINATION_STATUSES.get(termination_condition, "Unknown")


def write_nl(model, path):
    """Write ``model`` as an NL file at ``path``.

    Symbolic labels stay off because CasADi's NL parser rejects the comments
    they add. Presolve and scaling stay off so that every unfixed variable
    is a column, in user units.

    Returns
    -------
    variables : list of pyomo VarData
        The model's variables in the NL file's column order.
    """
    with open(path, "w", newline="") as stream:
        info = NLWriter().write(
            model,
            stream,
            symbolic_solver_labels=False,
            linear_presolve=False,
            scale_model=False,
        )
    if not info.variables:
        raise ValueError("The Pyomo model has no unfixed variable in its constraints or objective.")
    if len(info.objectives) != 1:
        raise ValueError(
            f"The Pyomo model must have exactly one active objective, got {len(info.objectives)}."
        )
    return info.variables


def _solve_nl_casadi(model, options):
    """Solve ``model`` through an NL file with the IPOPT of the casadi wheel."""
    import casadi as ca

    with tempfile.TemporaryDirectory(prefix="sklearn_nodecoll_") as directory:
        path = os.path.join(directory, "collocation.nl")
        start = time.perf_counter()
        variables = write_nl(model, path)
        write_time = time.perf_counter() - start

        start = time.perf_counter()
        builder = ca.NlpBuilder()
        builder.import_nl(path, {"verbose": False})
    nlp = {"x": ca.vertcat(*builder.x), "f": builder.f, "g": ca.vertcat(*builder.g)}
    solver = ca.nlpsol(
        "pyomo_nl",
        "ipopt",
        nlp,
        # Expanding the imported MX graph to SX halved the setup and cut the
        # solve time tenfold on the 100-node forced Van der Pol problem.
        {"ipopt": options, "expand": True, "print_time": False, "verbose_init": False},
    )
    setup_time = time.perf_counter() - start

    x0 = np.array([v.value if v.value is not None else 0.0 for v in variables], dtype=float)
    start = time.perf_counter()
    solution = solver(
        x0=x0, lbx=builder.x_lb, ubx=builder.x_ub, lbg=builder.g_lb, ubg=builder.g_ub
    )
    solve_time = time.perf_counter() - start
    stats = solver.stats()
    for variable, value in zip(variables, np.asarray(solution["x"]).ravel()):
        variable.set_value(float(value), skip_validation=True)
    return {
        "status": str(stats.get("return_status", "Unknown")),
        "n_iter": int(stats.get("iter_count", 0)),
        "objective": float(solution["f"]),
        "history": _history(stats),
        "write_time": write_time,
        "setup_time": setup_time,
        "solve_time": solve_time,
    }


def _solve_executable(model, options, verbose):
    """Solve ``model`` with the ``ipopt`` executable that Pyomo finds."""
    # NOTE: no test runs this route, because CI has no ipopt executable.
    solver = pyo.SolverFactory("ipopt")
    options = dict(options)
    with tempfile.TemporaryDirectory(prefix="sklearn_nodecoll_") as directory:
        # IPOPT writes its log to this file as well, because the AMPL
        # interface returns no iteration count.
        log_path = os.path.join(directory, "ipopt.log")
        options.setdefault("output_file", log_path)
        options.setdefault("file_print_level", 5)
        solver.options.update(options)
        start = time.perf_counter()
        results = solver.solve(model, tee=verbose >= 2, load_solutions=False)
        solve_time = time.perf_counter() - start
        log = ""
        if os.path.exists(options["output_file"]):
            with open(options["output_file"]) as stream:
                log = stream.read()
    termination = results.solver.termination_condition
    status = ipopt_status(termination, results.solver.message)
    if len(results.solution) > 0:
        model.solutions.load_from(results)
    match = re.search(r"Number of Iterations\.*:\s*(\d+)", log)
    return {
        "status": status,
        "n_iter": int(match.group(1)) if match else 0,
        "objective": float(pyo.value(_active_objective(model))),
        "history": {},
        "write_time": 0.0,
        "setup_time": 0.0,
        "solve_time": solve_time,
    }


def _active_objective(model):
    return next(model.component_data_objects(pyo.Objective, active=True))


def solve(
    problem,
    states_init,
    params_init,
    tol,
    max_iter,
    max_time=None,
    verbose=0,
    solver_options=None,
    model=None,
):
    """Solve the collocation problem as a Pyomo model from the given initial point.

    Takes the arguments of :func:`sklearn_nodecoll._casadi_backend.solve`.
    ``model`` is a model from :func:`build_model`, perhaps with constraints
    a user added; None builds one from ``problem``. The solution is loaded
    into the model's variables.

    Returns
    -------
    SolveResult
        ``backend`` names the route: ``"pyomo-ipopt-executable"`` when Pyomo
        found an ``ipopt`` executable, else ``"pyomo-nl-casadi"``.
    """
    start = time.perf_counter()
    if model is None:
        model = build_model(problem)
    set_values(model, states_init, params_init)
    build_time = time.perf_counter() - start

    if ipopt_executable_available():
        # The executable's linear solver is unknown here, so no MUMPS settings.
        route = ROUTE_EXECUTABLE
        options = ipopt_options(tol, max_iter, max_time, verbose, solver_options)
        outcome = _solve_executable(model, options, verbose)
    else:
        route = ROUTE_NL_CASADI
        options = ipopt_options(
            tol, max_iter, max_time, verbose, solver_options, mumps_options(solver_options)
        )
        outcome = _solve_nl_casadi(model, options)
    logger.debug(
        "Pyomo route %s: NL write %.3f s, solver setup %.3f s, solve %.3f s.",
        route,
        outcome["write_time"],
        outcome["setup_time"],
        outcome["solve_time"],
    )
    states, params = get_values(model)
    return SolveResult(
        states=states,
        params=params,
        status=outcome["status"],
        success=outcome["status"] in CONVERGED_STATUSES,
        n_iter=outcome["n_iter"],
        objective=outcome["objective"],
        build_time=build_time + outcome["setup_time"],
        solve_time=outcome["solve_time"],
        history=outcome["history"],
        backend=route,
        nl_write_time=outcome["write_time"],
    )

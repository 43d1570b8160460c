"""The Pyomo backend states and solves the same program as the CasADi backend."""

import dataclasses

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.opt import TerminationCondition
from scipy.integrate import solve_ivp
from sklearn.exceptions import ConvergenceWarning

from sklearn_nodecoll import CollocationNeuralODE, _pyomo_backend, collocation, network
from sklearn_nodecoll import problem as problem_module

NO_EXECUTABLE = not _pyomo_backend.ipopt_executable_available()


def damped_oscillator(n_samples=40):
    t = np.linspace(0.0, 10.0, n_samples)
    solution = solve_ivp(
        lambda _, z: [z[1], -z[0] - 0.3 * z[1]],
        (0.0, 10.0),
        [1.0, 0.0],
        t_eval=t,
        rtol=1e-10,
        atol=1e-10,
    )
    return t, solution.y.T


def small_estimator(**params):
    settings = dict(hidden_layer_sizes=(8,), n_collocation=30, random_state=0, tol=1e-8)
    settings.update(params)
    return CollocationNeuralODE(**settings)


def random_problem(activation, hidden, n_inputs, seed=0):
    """Return a problem on a Radau grid with random data, initial point and weights."""
    rng = np.random.default_rng(seed)
    n_states = 2
    grid = collocation.radau_grid(np.linspace(0.0, 2.0, 5), 3)
    times = np.sort(rng.uniform(0.0, 2.0, 15))
    values = rng.standard_normal((15, n_states))
    values[3, 1] = np.nan
    layer_sizes = (n_states + n_inputs, *hidden, n_states)
    return problem_module.stack_problem(
        [grid],
        [(times, values)],
        [rng.standard_normal((grid.n_nodes, n_inputs))],
        [rng.standard_normal((grid.n_nodes, n_states))],
        layer_sizes,
        activation,
        0.01,
        rng.standard_normal(network.n_parameters(layer_sizes)),
    )


def collocation_residuals(model):
    """Return the body of every collocation constraint, shaped (n_rows, n_states)."""
    rows, states = len(model.rows), len(model.states)
    residuals = np.empty((rows, states))
    for (row, s), constraint in model.collocation.items():
        residuals[row, s] = pyo.value(constraint.body)
    return residuals


def test_backends_reach_same_optimum():
    t, y = damped_oscillator()
    reference = small_estimator().fit(t, y)
    pyomo_fit = small_estimator(backend="pyomo").fit(t, y)

    assert reference.backend_ == "casadi"
    if NO_EXECUTABLE:
        assert pyomo_fit.backend_ == "pyomo-nl-casadi"
        assert pyomo_fit.nl_write_time_ > 0.0
    assert pyomo_fit.converged_
    assert pyomo_fit.termination_condition_ == reference.termination_condition_
    assert pyomo_fit.objective_ == pytest.approx(reference.objective_, rel=1e-6, abs=1e-8)
    t_test = np.linspace(0.0, 12.0, 50)
    np.testing.assert_allclose(pyomo_fit.predict(t_test), reference.predict(t_test), atol=1e-4)


def test_iteration_limit_warns_like_casadi():
    t, y = damped_oscillator()
    with pytest.warns(ConvergenceWarning, match="Maximum_Iterations_Exceeded"):
        fitted = small_estimator(backend="pyomo", max_iter=2).fit(t, y)
    assert not fitted.converged_
    assert fitted.termination_condition_ == "Maximum_Iterations_Exceeded"
    assert fitted.n_iter_ == 2


@pytest.mark.parametrize("collocation_kind", ["radau", "chebyshev"])
def test_exact_polynomial_solution_has_zero_residuals(collocation_kind):
    # f(y) = (y2, 1) is linear and nilpotent: y2 = 0.5 + t and
    # y1 = -1 + 0.5 t + t^2 / 2, a quadratic that every grid represents exactly.
    t = np.linspace(0.0, 3.0, 12)
    y = np.column_stack([-1.0 + 0.5 * t + 0.5 * t**2, 0.5 + t])
    estimator = CollocationNeuralODE(
        hidden_layer_sizes=(2, 2),
        activation="identity",
        collocation=collocation_kind,
        n_collocation=10,
        random_state=0,
    )
    model = estimator.build_pyomo_model(t, y)
    problem = model.collocation_problem
    scaling = estimator.scaling_

    # In scaled units z = (y - mean) / scale and tau = (t - offset) / time_scale,
    # dz/dtau = G z + c with G = diag(1/scale) A diag(scale) * time_scale.
    A = np.array([[0.0, 1.0], [0.0, 0.0]])
    forcing = np.array([0.0, 1.0])
    scale, mean = scaling.state_scale, scaling.state_mean
    G = scaling.time_scale * (A * scale[None, :]) / scale[:, None]
    c = scaling.time_scale * (A @ mean + forcing) / scale
    # Row-vector convention of network.forward: f = z @ W1 @ W2 @ W3 + b3.
    coefs = [np.eye(2), np.eye(2), G.T]
    intercepts = [np.zeros(2), np.zeros(2), c]
    node_times = scaling.unscale_time(problem.node_times)
    exact = np.column_stack([-1.0 + 0.5 * node_times + 0.5 * node_times**2, 0.5 + node_times])
    _pyomo_backend.set_values(model, scaling.scale_states(exact), network.pack(coefs, intercepts))

    residuals = collocation_residuals(model)
    assert residuals.shape == (problem.collocation_index.size, 2)
    assert np.max(np.abs(residuals)) < 1e-10

    n_variables = sum(1 for _ in model.component_data_objects(pyo.Var))
    n_constraints = sum(1 for _ in model.component_data_objects(pyo.Constraint))
    assert n_variables == problem.n_nodes * 2 + network.n_parameters((2, 2, 2, 2))
    assert n_constraints == (problem.n_nodes - 1) * 2


@pytest.mark.parametrize("activation", sorted(network.ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(3,), (4, 3)])
def test_model_matches_numpy_problem(activation, hidden):
    problem = random_problem(activation, hidden, n_inputs=1)
    model = _pyomo_backend.build_model(problem)

    states, params = _pyomo_backend.get_values(model)
    np.testing.assert_array_equal(states, problem.states_init)
    np.testing.assert_array_equal(params, problem.params_init)
    expected_objective = problem.objective(problem.states_init, problem.params_init)
    assert pyo.value(model.objective) == pytest.approx(expected_objective, rel=1e-12)
    expected_residuals = problem.residuals(problem.states_init, problem.params_init)
    np.testing.assert_allclose(collocation_residuals(model), expected_residuals, rtol=1e-12, atol=1e-12)


def test_model_includes_proximal_term():
    problem = random_problem("tanh", (3,), n_inputs=1)
    center = np.random.default_rng(4).standard_normal(problem.n_parameters)
    problem = dataclasses.replace(problem, prox_weight=0.7, prox_center=center)
    model = _pyomo_backend.build_model(problem)
    expected_objective = problem.objective(problem.states_init, problem.params_init)
    assert pyo.value(model.objective) == pytest.approx(expected_objective, rel=1e-12)
    offset = problem.params_init - center
    assert pyo.value(model.proximal) == pytest.approx(0.35 * offset @ offset, rel=1e-12)


def test_state_bound_limits_fit():
    t, y = damped_oscillator()
    free = small_estimator(backend="pyomo").fit(t, y)
    assert free.collocation_states_[0][:, 0].max() > 0.95

    estimator = small_estimator(backend="pyomo")
    model = estimator.build_pyomo_model(t, y)
    upper = estimator.scaling_.scale_states([0.8, 0.0])[0]
    for node in model.nodes:
        model.y[node, 0].setub(upper)
    estimator.fit_pyomo_model(model)

    assert estimator.converged_
    assert estimator.collocation_states_[0][:, 0].max() <= 0.8 + 1e-6
    # The data rise above the bound, so it is active at some node.
    assert estimator.collocation_states_[0][:, 0].max() == pytest.approx(0.8, abs=1e-4)
    assert estimator.objective_ > free.objective_


def test_fit_pyomo_model_rejects_foreign_model():
    t, y = damped_oscillator()
    model = small_estimator().build_pyomo_model(t, y)
    with pytest.raises(ValueError, match="build_pyomo_model"):
        small_estimator().fit_pyomo_model(model)


@pytest.mark.parametrize(
    "condition, message, expected",
    [
        (TerminationCondition.optimal, "Optimal Solution Found", "Solve_Succeeded"),
        (TerminationCondition.optimal, "Solved To Acceptable Level.", "Solved_To_Acceptable_Level"),
        (TerminationCondition.maxIterations, "", "Maximum_Iterations_Exceeded"),
        (TerminationCondition.maxTimeLimit, "Maximum CPU Time Exceeded.", "Maximum_CpuTime_Exceeded"),
        (TerminationCondition.maxTimeLimit, "Maximum Wall Time Exceeded.", "Maximum_WallTime_Exceeded"),
        (TerminationCondition.infeasible, "Converged to a locally infeasible point.", "Infeasible_Problem_Detected"),
        (TerminationCondition.error, "Restoration Phase Failed.", "Restoration_Failed"),
    ],
)
def test_ipopt_status_of_termination_condition(condition, message, expected):
    assert _pyomo_backend.ipopt_status(condition, message) == expected

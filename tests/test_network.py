import casadi as ca
import numpy as np
import pytest
from scipy.optimize import approx_fprime

from sklearn_nodecoll import _casadi_backend, collocation, network
from sklearn_nodecoll import problem as problem_module

LAYER_SIZES = (3, 5, 4, 2)


@pytest.fixture
def parameters():
    return network.xavier_init(LAYER_SIZES, np.random.RandomState(0)) + 0.1


def test_pack_unpack_round_trip(parameters):
    coefs, intercepts = network.unpack(parameters, LAYER_SIZES)
    assert [W.shape for W in coefs] == [(3, 5), (5, 4), (4, 2)]
    assert [b.shape for b in intercepts] == [(5,), (4,), (2,)]
    np.testing.assert_array_equal(network.pack(coefs, intercepts), parameters)
    assert network.n_parameters(LAYER_SIZES) == parameters.size == 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2


def test_unpack_rejects_wrong_length():
    with pytest.raises(ValueError, match=r"theta must have shape \(54,\).*got \(3,\)"):
        network.unpack(np.zeros(3), LAYER_SIZES)


def test_xavier_init_bounds_and_seed():
    theta = network.xavier_init((2, 32, 2), np.random.RandomState(3))
    coefs, intercepts = network.unpack(theta, (2, 32, 2))
    assert np.all(np.abs(coefs[0]) <= np.sqrt(6 / 34))
    assert np.all(intercepts[0] == 0)
    np.testing.assert_array_equal(theta, network.xavier_init((2, 32, 2), np.random.RandomState(3)))


@pytest.mark.parametrize("activation", sorted(network.ACTIVATIONS))
def test_input_jacobian_matches_finite_differences(parameters, activation):
    coefs, intercepts = network.unpack(parameters, LAYER_SIZES)
    x = np.array([0.3, -0.7, 1.1])

    def output(k):
        return lambda point: network.forward(point[None, :], coefs, intercepts, activation)[0, k]

    jacobian = network.input_jacobian(x, coefs, intercepts, activation)
    for k in range(2):
        np.testing.assert_allclose(jacobian[k], approx_fprime(x, output(k), 1e-7), atol=1e-6)


@pytest.mark.parametrize("activation", sorted(network.ACTIVATIONS))
def test_casadi_forward_matches_numpy(parameters, activation):
    x = ca.SX.sym("x", 3)
    theta = ca.SX.sym("theta", parameters.size)
    symbolic = _casadi_backend.casadi_forward(x, theta, LAYER_SIZES, activation)
    function = ca.Function("f", [x, theta], [symbolic])
    coefs, intercepts = network.unpack(parameters, LAYER_SIZES)
    points = np.random.default_rng(1).standard_normal((6, 3)) * 3
    expected = network.forward(points, coefs, intercepts, activation)
    for point, row in zip(points, expected):
        np.testing.assert_allclose(np.asarray(function(point, parameters)).ravel(), row, rtol=1e-12)


def _small_problem(scheme, activation="tanh"):
    rng = np.random.default_rng(2)
    times = np.sort(rng.uniform(0.0, 3.0, 25))
    values = np.column_stack([np.sin(times), np.cos(times)]) + 0.05 * rng.standard_normal((25, 2))
    values[3, 1] = np.nan
    if scheme == "chebyshev":
        grid = collocation.chebyshev_grid(times[0], times[-1], 9)
    else:
        grid = collocation.radau_grid(np.linspace(times[0], times[-1], 4), 2)
    layer_sizes = (3, 4, 2)
    params = network.xavier_init(layer_sizes, np.random.RandomState(0))
    return problem_module.stack_problem(
        [grid],
        [(times, values)],
        [np.cos(2 * grid.nodes)[:, None]],
        [problem_module.interpolate_states(times, values, grid.nodes)],
        layer_sizes,
        activation,
        0.01,
        params,
    )


@pytest.mark.parametrize("scheme", ["chebyshev", "radau"])
@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_nlp_derivatives_match_finite_differences(scheme, activation):
    problem = _small_problem(scheme, activation)
    evaluator = _casadi_backend._Evaluator(problem)
    rng = np.random.default_rng(5)
    x = np.concatenate([problem.states_init.ravel(), problem.params_init]) + 0.1 * rng.standard_normal(
        evaluator.n_vars
    )

    gradient = evaluator.objective_gradient(x)
    np.testing.assert_allclose(gradient, approx_fprime(x, evaluator.objective, 1e-7), atol=1e-5)

    jacobian = np.zeros((evaluator.jac.shape))
    jacobian[evaluator.jac.rows, evaluator.jac.cols] = evaluator.constraint_jacobian(x)
    numeric = np.array(
        [approx_fprime(x, lambda v, i=i: evaluator.constraints(v)[i], 1e-7) for i in range(jacobian.shape[0])]
    )
    np.testing.assert_allclose(jacobian, numeric, atol=1e-4)

    # Hessian of the Lagrangian against differences of its gradient.
    lam_f, lam_g = 0.7, rng.standard_normal(jacobian.shape[0])

    def lagrangian_gradient(v):
        J = np.zeros(evaluator.jac.shape)
        J[evaluator.jac.rows, evaluator.jac.cols] = evaluator.constraint_jacobian(v)
        return lam_f * evaluator.objective_gradient(v) + J.T @ lam_g

    upper = np.zeros(evaluator.hess.shape)
    upper[evaluator.hess.rows, evaluator.hess.cols] = evaluator.lagrangian_hessian(x, lam_f, lam_g)
    assert np.all(evaluator.hess.rows <= evaluator.hess.cols)
    hessian = upper + np.triu(upper, 1).T
    step = 1e-6
    numeric = np.array(
        [
            (lagrangian_gradient(x + step * e) - lagrangian_gradient(x - step * e)) / (2 * step)
            for e in np.eye(x.size)
        ]
    )
    np.testing.assert_allclose(hessian, numeric, atol=1e-5)


def test_problem_residuals_match_backend_constraints():
    problem = _small_problem("radau")
    evaluator = _casadi_backend._Evaluator(problem)
    x = np.concatenate([problem.states_init.ravel(), problem.params_init])
    np.testing.assert_allclose(
        evaluator.constraints(x),
        problem.residuals(problem.states_init, problem.params_init).ravel(),
        atol=1e-12,
    )
    assert evaluator.objective(x) == pytest.approx(
        problem.objective(problem.states_init, problem.params_init)
    )

"""Radau finite elements, missing values, inputs and several trajectories."""

import numpy as np
import pytest
import sklearn
from scipy.integrate import solve_ivp
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_nodecoll import CollocationNeuralODE, collocation, initialization, network
from sklearn_nodecoll import problem as problem_module


def damped_oscillator(t, state):
    return [state[1], -state[0] - 0.3 * state[1]]


def oscillator_data(t, y0, noise=0.02, seed=0):
    solution = solve_ivp(damped_oscillator, (t[0], t[-1]), y0, t_eval=t, rtol=1e-10, atol=1e-10)
    truth = solution.y.T
    rng = np.random.default_rng(seed)
    return truth, truth + noise * rng.standard_normal(truth.shape)


def small_model(**params):
    defaults = dict(hidden_layer_sizes=(8,), alpha=1e-4, random_state=0)
    defaults.update(params)
    return CollocationNeuralODE(**defaults)


# ----------------------------------------------------------------------
# Radau matrices


@pytest.mark.parametrize("degree", [1, 2, 3, 5])
def test_radau_element_matrix_exact(degree):
    reference = np.concatenate([[0.0], collocation.radau_points(degree)])
    D = collocation.differentiation_matrix(reference)
    for power in range(degree + 1):
        values = reference**power
        slopes = power * reference ** max(power - 1, 0) if power else np.zeros_like(reference)
        np.testing.assert_allclose(D @ values, slopes, atol=1e-11)


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_radau_grid_derivative_assembled(degree):
    bounds = np.array([-1.0, -0.3, 0.1, 1.2, 2.0])
    grid = collocation.radau_grid(bounds, degree)
    nodes = grid.nodes
    rng = np.random.default_rng(degree)
    coefficients = rng.standard_normal(degree + 1)
    polynomial = np.polynomial.Polynomial(coefficients)
    exact = grid.diff_matrix @ polynomial(nodes)
    np.testing.assert_allclose(exact, polynomial.deriv()(nodes[grid.collocation_index]), atol=1e-9)
    # One degree more is not exact: the check above can fail.
    too_high = np.polynomial.Polynomial(np.append(coefficients, 1.0))
    error = grid.diff_matrix @ too_high(nodes) - too_high.deriv()(nodes[grid.collocation_index])
    assert np.max(np.abs(error)) > 1e-6


def test_radau_grid_continuity_and_sparsity():
    degree = 3
    bounds = np.linspace(0.0, 4.0, 5)
    grid = collocation.radau_grid(bounds, degree)
    assert grid.n_nodes == 4 * degree + 1
    for left, right in zip(grid.element_nodes[:-1], grid.element_nodes[1:]):
        # Neighbouring elements share their boundary node.
        assert left[-1] == right[0]
    np.testing.assert_array_equal(grid.nodes[::degree], bounds)
    # Each collocation row involves only the nodes of its element.
    assert grid.diff_matrix.nnz == 4 * degree * (degree + 1)


def test_radau_grid_interpolation_exact():
    degree = 3
    grid = collocation.radau_grid([0.0, 0.7, 1.5, 3.0], degree)
    polynomial = np.polynomial.Polynomial([0.5, -1.0, 2.0, 0.25])
    points = np.array([0.0, 0.2, 0.7, 0.71, 1.49, 1.5, 2.2, 3.0])
    P = grid.interpolation(points)
    np.testing.assert_allclose(P @ polynomial(grid.nodes), polynomial(points), atol=1e-11)
    np.testing.assert_allclose(np.asarray(P.sum(axis=1)).ravel(), 1.0, atol=1e-12)
    # Each observation uses only the degree + 1 nodes of its element.
    assert np.all(np.diff(P.indptr) <= degree + 1)


# ----------------------------------------------------------------------
# Derivative matching


def test_parameter_jacobian_matches_finite_differences():
    rng = np.random.RandomState(0)
    layer_sizes = (3, 5, 4, 2)
    theta = rng.standard_normal(network.n_parameters(layer_sizes))
    x = rng.standard_normal((7, 3))
    coefs, intercepts = network.unpack(theta, layer_sizes)
    jacobian = initialization.parameter_jacobian(x, coefs, intercepts, "tanh")
    step = 1e-6
    numeric = np.empty_like(jacobian)
    for k in range(theta.size):
        shift = np.zeros_like(theta)
        shift[k] = step
        plus = network.forward(x, *network.unpack(theta + shift, layer_sizes), "tanh")
        minus = network.forward(x, *network.unpack(theta - shift, layer_sizes), "tanh")
        numeric[:, :, k] = (plus - minus) / (2 * step)
    np.testing.assert_allclose(jacobian, numeric, atol=1e-8)


def test_weight_init_options_reach_same_quality():
    t = np.linspace(0, 10, 80)
    truth, y = oscillator_data(t, [1.0, 0.0])
    errors = {}
    for weight_init in ("xavier", "derivative_matching"):
        model = small_model(weight_init=weight_init).fit(t, y)
        errors[weight_init] = np.sqrt(np.mean((model.predict(t) - truth) ** 2))
        assert model.converged_
    assert errors["xavier"] < 0.05
    assert errors["derivative_matching"] < 0.05


# ----------------------------------------------------------------------
# Missing values


def test_fit_with_30_percent_missing():
    t = np.linspace(0, 10, 80)
    truth, y = oscillator_data(t, [1.0, 0.0])
    rng = np.random.default_rng(1)
    y[rng.random(y.shape) < 0.3] = np.nan
    model = small_model().fit(t, y)
    rmse = np.sqrt(np.mean((model.predict(t) - truth) ** 2))
    assert rmse < 0.05


def test_state_unobserved_in_one_trajectory():
    t_a = np.linspace(0, 10, 80)
    t_b = np.linspace(0, 8, 60)
    truth_a, y_a = oscillator_data(t_a, [1.0, 0.0], seed=2)
    truth_b, y_b = oscillator_data(t_b, [0.0, 1.0], seed=3)
    y_b[:, 1] = np.nan
    X = np.concatenate([t_a, t_b])
    y = np.vstack([y_a, y_b])
    trajectory = np.repeat([0, 1], [t_a.size, t_b.size])
    model = small_model().fit(X, y, trajectory=trajectory)
    predicted_b = model.predict(t_b, trajectory=np.ones(t_b.size, dtype=int))
    observed_rmse = np.sqrt(np.mean((predicted_b[:, 0] - truth_b[:, 0]) ** 2))
    assert observed_rmse < 0.05
    # The unobserved state is pinned down by the shared dynamics.
    latent_rmse = np.sqrt(np.mean((predicted_b[:, 1] - truth_b[:, 1]) ** 2))
    assert latent_rmse < 0.15


def test_column_missing_everywhere_raises():
    t = np.linspace(0, 10, 40)
    _, y = oscillator_data(t, [1.0, 0.0])
    y[:, 1] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN in every row of column 1"):
        small_model().fit(t, y)


# ----------------------------------------------------------------------
# Several trajectories


def test_two_trajectories_different_grids():
    t_a = np.linspace(0, 10, 80)
    rng = np.random.default_rng(4)
    t_b = np.sort(rng.uniform(2.0, 8.0, 45))
    truth_a, y_a = oscillator_data(t_a, [1.0, 0.0], seed=5)
    truth_b, y_b = oscillator_data(t_b, [-0.5, 1.0], seed=6)
    X = np.concatenate([t_b, t_a])
    y = np.vstack([y_b, y_a])
    trajectory = np.array(["b"] * t_b.size + ["a"] * t_a.size)
    model = small_model().fit(X, y, trajectory=trajectory)

    np.testing.assert_array_equal(model.trajectories_, ["a", "b"])
    np.testing.assert_allclose(model.t0_, [0.0, t_b[0]])
    np.testing.assert_allclose(model.y0_[0], truth_a[0], atol=0.05)
    np.testing.assert_allclose(model.y0_[1], truth_b[0], atol=0.05)
    for ids, times, truth in (("a", t_a, truth_a), ("b", t_b, truth_b)):
        predicted = model.predict(times, trajectory=np.full(times.size, ids))
        assert np.sqrt(np.mean((predicted - truth) ** 2)) < 0.05, ids


def two_trajectories():
    t_a = np.linspace(0, 10, 60)
    t_b = np.linspace(0, 6, 40)
    _, y_a = oscillator_data(t_a, [1.0, 0.0], seed=7)
    _, y_b = oscillator_data(t_b, [0.0, 1.0], seed=8)
    trajectory = np.repeat([0, 1], [t_a.size, t_b.size])
    return np.concatenate([t_a, t_b]), np.vstack([y_a, y_b]), trajectory


def test_grid_search_routes_trajectory():
    X, y, trajectory = two_trajectories()
    with sklearn.config_context(enable_metadata_routing=True):
        model = small_model().set_fit_request(trajectory=True)
        model = model.set_score_request(trajectory=True, sample_weight=False)
        search = GridSearchCV(
            model,
            {"alpha": [1e-4, 1e-2]},
            cv=KFold(3, shuffle=True, random_state=0),
        )
        search.fit(X, y, trajectory=trajectory)
    # Each fold saw both trajectories, each with its own rows.
    assert search.best_estimator_.trajectories_.tolist() == [0, 1]
    assert np.all(search.cv_results_["mean_test_score"] > 0.9)


def test_grid_search_slices_fit_params_without_routing():
    X, y, trajectory = two_trajectories()
    # Without metadata routing only fit receives trajectory, so score cannot
    # tell which trajectory a held-out row belongs to and must reject it.
    search = GridSearchCV(
        small_model(), {"alpha": [1e-4]}, cv=KFold(2, shuffle=True, random_state=0),
        error_score="raise",
    )
    with pytest.raises(ValueError, match="pass trajectory="):
        search.fit(X, y, trajectory=trajectory)


# ----------------------------------------------------------------------
# Exogenous inputs


def first_order_with_input(t_samples, u_samples, rule, t_eval):
    if rule == "previous":
        def u(t):
            index = np.clip(np.searchsorted(t_samples, t, side="right") - 1, 0, t_samples.size - 1)
            return u_samples[index]
    else:
        def u(t):
            return np.interp(t, t_samples, u_samples)
    solution = solve_ivp(
        lambda t, x: -x + u(t), (t_eval[0], t_eval[-1]), [0.0], t_eval=t_eval,
        rtol=1e-10, atol=1e-10, max_step=0.05,
    )
    return solution.y[0]


@pytest.mark.parametrize("rule", ["linear", "previous"])
def test_inputs_same_rule_in_fit_and_predict(rule):
    t = np.linspace(0, 12, 97)
    u = np.sin(0.8 * t) + 0.5 * np.cos(2.1 * t)
    y = first_order_with_input(t, u, rule, t)
    X = np.column_stack([t, u])
    model = small_model(input_interpolation=rule).fit(X, y)
    # The fitted node states and the rollout of predict agree only if both
    # saw the same inputs between the samples.
    nodes = model.collocation_times_[0]
    grid = collocation.radau_grid(nodes[:: model.degree], model.degree)
    np.testing.assert_allclose(grid.nodes, nodes, rtol=1e-12)
    fitted = grid.interpolation(t) @ model.collocation_states_[0][:, 0]
    predicted = model.predict(X)
    # A zero-order hold jumps between nodes, which the polynomial of an
    # element cannot follow exactly, hence the looser bound.
    tolerance = 0.03 if rule == "linear" else 0.06
    assert np.max(np.abs(predicted - fitted)) < tolerance
    assert np.sqrt(np.mean((predicted - y) ** 2)) < 0.02


def test_predict_outside_input_samples_raises():
    t = np.linspace(0, 10, 60)
    u = np.sin(t)
    y = first_order_with_input(t, u, "linear", t)
    model = small_model().fit(np.column_stack([t, u]), y)
    far = np.array([[30.0, 0.5], [31.0, 0.4]])
    with pytest.raises(ValueError, match=r"t=\[10, 30\].*\[0, 10\] from fit"):
        model.predict(far)
    # Times just past the fitted span, one step away, are covered.
    near = np.array([[10.1, np.sin(10.1)], [10.2, np.sin(10.2)]])
    assert model.predict(near).shape == (2,)


def test_time_scale_of_fast_record_and_its_bound():
    # A unit-rate oscillation has a scale near one time unit while the
    # record spans up to 1000 of them. A longer record gets a thousandth of
    # its span.
    for span, expected in ((300.0, 1.0), (3000.0, 3.0)):
        t = np.linspace(0.0, span, int(10 * span) + 1)
        states = np.sqrt(2.0) * np.sin(t)[:, None]
        scale = problem_module.estimate_time_scale([(t, states)], 20 / t.size)
        assert scale == pytest.approx(expected, rel=0.1)


def test_time_scale_of_jump_at_least_one_interval():
    t = np.linspace(0.0, 3000.0, 30001)
    states = np.where(t < 1500.0, -1.0, 1.0)[:, None]
    scale = problem_module.estimate_time_scale([(t, states)], 20 / t.size)
    assert scale >= t[1] - t[0]
    assert scale < 3000.0

import dataclasses
import logging

import numpy as np
import pytest

import sklearn_nodecoll
from scipy.integrate import solve_ivp

from sklearn_nodecoll import CollocationNeuralODE, SolverError, _casadi_backend, network
from sklearn_nodecoll.admm import BatchedADMMRegressor


def damped_oscillator(t_end=8.0, n_samples=80, y0=(1.0, 0.0), noise=0.0, seed=0):
    t = np.linspace(0.0, t_end, n_samples)
    solution = solve_ivp(
        lambda _, y: [y[1], -y[0] - 0.2 * y[1]], (0.0, t_end), y0, t_eval=t, rtol=1e-10, atol=1e-10
    )
    y = solution.y.T + noise * np.random.default_rng(seed).standard_normal((n_samples, 2))
    return t, y, solution.y.T


def small_estimator(**params):
    defaults = dict(hidden_layer_sizes=(4,), alpha=1e-3, random_state=0, tol=1e-9)
    defaults.update(params)
    return CollocationNeuralODE(**defaults)


def packed(model):
    return network.pack(model.coefs_, model.intercepts_)


def test_prox_term_matches_finite_differences():
    t, y, _ = damped_oscillator(n_samples=20)
    model = small_estimator(max_iter=0)
    with pytest.warns(Warning):
        model.fit(t, y)
    # Rebuild the fitted problem and add a proximal term around a random centre.
    template = small_estimator()
    template._validate_fit_data(t, y, None)
    template.scaling_ = model.scaling_
    layer_sizes = model.layer_sizes_
    rows = [np.arange(t.size)]
    problem = template._build_problem(t, y, np.zeros((t.size, 0)), rows, layer_sizes, np.random.RandomState(0))
    rng = np.random.default_rng(1)
    problem = dataclasses.replace(
        problem, prox_weight=0.7, prox_center=rng.standard_normal(problem.n_parameters)
    )
    evaluator = _casadi_backend._Evaluator(problem)
    x = rng.standard_normal(evaluator.n_vars)
    step = 1e-6
    gradient = evaluator.objective_gradient(x)
    for index in (0, evaluator.n_state_vars, evaluator.n_vars - 1):
        shift = np.zeros_like(x)
        shift[index] = step
        numeric = (evaluator.objective(x + shift) - evaluator.objective(x - shift)) / (2 * step)
        assert gradient[index] == pytest.approx(numeric, rel=1e-6, abs=1e-8)

    # The Hessian of the objective alone (no constraint multipliers) on the
    # diagonal of the weights is 2 alpha + prox_weight.
    hessian = evaluator.lagrangian_hessian(x, 1.0, np.zeros(evaluator.n_rows * problem.n_states))
    dense = np.zeros((evaluator.n_vars, evaluator.n_vars))
    dense[evaluator.hess.rows, evaluator.hess.cols] = hessian
    last = evaluator.n_vars - 1
    assert dense[last, last] == pytest.approx(2 * problem.alpha + 0.7, rel=1e-12)


def test_one_batch_reproduces_monolithic_fit():
    t, y, _ = damped_oscillator(noise=0.01)
    monolithic = small_estimator().fit(t, y)
    admm = BatchedADMMRegressor(small_estimator(), n_batches=1, rho=1.0, tol=1e-8, atol=1e-10).fit(t, y)

    assert admm.converged_
    assert admm.termination_condition_ == "converged"
    np.testing.assert_allclose(packed(admm), packed(monolithic), rtol=0, atol=1e-8)
    np.testing.assert_allclose(admm.y0_, monolithic.y0_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(admm.predict(t), monolithic.predict(t), rtol=0, atol=1e-6)
    assert admm.objective_ == pytest.approx(monolithic.objective_, rel=1e-9)


def test_windows_reach_consensus_and_fit():
    t, y, truth = damped_oscillator(t_end=12.0, n_samples=120, noise=0.01)
    admm = BatchedADMMRegressor(
        small_estimator(tol=1e-8), n_batches=3, rho=1.0, tol=1e-3, atol=1e-3, max_iter=60
    ).fit(t, y)

    assert admm.converged_, admm.primal_residuals_[-5:]
    assert admm.primal_residuals_[-1] <= admm.primal_tolerances_[-1]
    assert admm.dual_residuals_[-1] <= admm.dual_tolerances_[-1]
    assert admm.primal_residuals_.shape == (admm.n_iter_,)
    assert admm.rho_history_.shape == (admm.n_iter_,)
    assert len(admm.estimators_) == 3
    # Every sub-estimator's weights are within the primal tolerance of the consensus.
    for sub in admm.estimators_:
        assert np.linalg.norm(packed(sub) - packed(admm)) <= admm.primal_tolerances_[-1]
    # The windows start at the first sample of their rows.
    np.testing.assert_allclose([sub.t0_[0] for sub in admm.estimators_], [0.0, t[40], t[80]])
    # A rollout of the consensus model from the fitted initial state follows
    # the truth (states of variance about 0.2). The monolithic fit reaches
    # an MSE of 2e-4 here and ADMM 4e-3: the windows' free initial states
    # and the small network leave the consensus a worse local optimum.
    mse = np.mean((admm.predict(t) - truth) ** 2)
    assert mse < 1e-2
    plain = admm.consensus_estimator_
    assert isinstance(plain, CollocationNeuralODE)
    np.testing.assert_allclose(plain.predict(t), admm.predict(t))


def test_trajectory_batches_predict_each_trajectory():
    t1, y1, truth1 = damped_oscillator(y0=(1.0, 0.0), n_samples=50)
    t2, y2, truth2 = damped_oscillator(y0=(-0.5, 1.0), n_samples=50)
    X = np.concatenate([t1, t2])
    y = np.vstack([y1, y2])
    ids = np.repeat(["a", "b"], 50)
    admm = BatchedADMMRegressor(
        small_estimator(), n_batches=2, batching="trajectories", rho=1.0, atol=1e-3, max_iter=60
    ).fit(X, y, trajectory=ids)

    assert list(admm.trajectories_) == ["a", "b"]
    assert admm.converged_
    # With 4 hidden units even the monolithic fit misses the initial states
    # by up to 0.08 here.
    np.testing.assert_allclose(admm.y0_, [truth1[0], truth2[0]], atol=0.15)
    assert admm.score(X, y, trajectory=ids) > 0.99


def test_verbose_logs_one_line_per_iteration(caplog):
    t, y, _ = damped_oscillator(n_samples=40)
    with caplog.at_level(logging.INFO, logger="sklearn_nodecoll.admm"):
        admm = BatchedADMMRegressor(small_estimator(), n_batches=2, max_iter=3, verbose=1)
        with pytest.warns(Warning, match="ADMM stopped after max_iter=3"):
            admm.fit(t, y)
    iteration_lines = [r for r in caplog.records if r.getMessage().startswith("ADMM iteration")]
    assert len(iteration_lines) == admm.n_iter_ == 3
    assert admm.termination_condition_ == "max_iter_reached"


def test_sub_problem_failure_names_batch_and_status(monkeypatch):
    t, y, _ = damped_oscillator(n_samples=60)
    solve = _casadi_backend.solve

    def failing_second_window(problem, *args, **kwargs):
        result = solve(problem, *args, **kwargs)
        if problem.node_times[0] > 0:
            result.status, result.success = "Restoration_Failed", False
        return result

    monkeypatch.setattr(_casadi_backend, "solve", failing_second_window)
    admm = BatchedADMMRegressor(small_estimator(n_restarts=1), n_batches=2, n_jobs=1)
    with pytest.raises(SolverError, match="batch 1 in ADMM iteration 1 with status Restoration_Failed") as info:
        admm.fit(t, y)
    assert info.value.status == "Restoration_Failed"
    assert info.value.n_attempts == 2


def test_too_many_windows_rejected():
    t, y, _ = damped_oscillator(n_samples=10)
    # Each time three times: enough rows for 5 windows, but one distinct time each.
    with pytest.raises(ValueError, match="Window 0 of trajectory 0 has 1 distinct time"):
        BatchedADMMRegressor(small_estimator(), n_batches=5).fit(np.repeat(t[:5], 3), np.repeat(y[:5], 3, axis=0))
    with pytest.raises(ValueError, match="needs at least n_batches=2 trajectories, got 1"):
        BatchedADMMRegressor(small_estimator(), n_batches=2, batching="trajectories").fit(t, y)


def test_dask_cluster_matches_local_run():
    distributed = pytest.importorskip("dask.distributed")
    from joblib import parallel_config

    t, y, _ = damped_oscillator(n_samples=60, noise=0.01)
    params = dict(n_batches=2, rho=1.0, max_iter=4, random_state=0)
    with pytest.warns(Warning, match="ADMM stopped"):
        local = BatchedADMMRegressor(small_estimator(), n_jobs=1, **params).fit(t, y)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, distributed.Client(cluster):
        with parallel_config(backend="dask"), pytest.warns(Warning, match="ADMM stopped"):
            remote = BatchedADMMRegressor(small_estimator(), n_jobs=2, **params).fit(t, y)

    np.testing.assert_allclose(packed(remote), packed(local), rtol=0, atol=1e-10)
    np.testing.assert_allclose(remote.primal_residuals_, local.primal_residuals_, rtol=1e-8)


def test_windows_overlap_into_next_window():
    from sklearn_nodecoll.admm import _window_rows

    rows = np.arange(10, 20)
    windows = _window_rows(rows, 3, overlap=2)

    np.testing.assert_array_equal(windows[0], [10, 11, 12, 13, 14, 15])
    np.testing.assert_array_equal(windows[1], [14, 15, 16, 17, 18])
    np.testing.assert_array_equal(windows[2], [17, 18, 19])


def test_grid_search_over_wrapped_parameters():
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

    t, y, _ = damped_oscillator(t_end=12.0, n_samples=90)
    admm = BatchedADMMRegressor(small_estimator(tol=1e-6), n_batches=2, max_iter=5)
    grid = {"estimator__alpha": [1e-4, 1e-1], "rho": [0.5]}
    search = GridSearchCV(admm, grid, cv=TimeSeriesSplit(n_splits=2), n_jobs=2).fit(t, y)
    assert search.cv_results_["mean_test_score"].shape == (2,)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.estimator.alpha == search.best_params_["estimator__alpha"]
    # A strong penalty shrinks the network towards zero dynamics, which
    # cannot follow the oscillation, so the weaker penalty wins.
    assert search.best_params_["estimator__alpha"] == 1e-4


def test_invalid_batching_arguments_rejected():
    from sklearn.linear_model import Ridge

    t, y, _ = damped_oscillator(n_samples=40)
    with pytest.raises(ValueError, match=r"40 rows, too few for n_batches=100 windows.*at most 13"):
        BatchedADMMRegressor(small_estimator(), n_batches=100).fit(t, y)
    with pytest.raises(TypeError, match="estimator must be a CollocationNeuralODE.*got Ridge"):
        BatchedADMMRegressor(Ridge()).fit(t, y)


def test_anderson_finds_fixed_point_of_affine_map():
    from sklearn_nodecoll.admm import _Anderson

    # A contraction with rate 0.97 in (z, u) for one batch and two weights:
    # plain iteration shrinks the error by only 3 % a step.
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    A = basis @ np.diag([0.97, 0.9, 0.5, -0.3]) @ basis.T
    b = rng.standard_normal(4)
    fixed_point = np.linalg.solve(np.eye(4) - A, b)

    def admm_map(z, u):
        out = A @ np.concatenate([z, u.ravel()]) + b
        return out[:2], out[2:].reshape(1, 2)

    anderson = _Anderson(memory=5, n_batches=1, n_params=2)
    z, u = np.zeros(2), np.zeros((1, 2))
    for _ in range(8):
        z_out, u_out = admm_map(z, u)
        z, u, step = anderson.step(z, u, z_out, u_out)
    np.testing.assert_allclose(np.concatenate([z, u.ravel()]), fixed_point, atol=1e-8)
    assert step == "anderson"


def test_anderson_falls_back_when_residual_grows():
    from sklearn_nodecoll.admm import _Anderson

    anderson = _Anderson(memory=2, n_batches=1, n_params=1)
    u = np.zeros((1, 1))
    # Residuals 1 then 0.5: the third point is extrapolated.
    z, _, step = anderson.step(np.array([0.0]), u, np.array([1.0]), u)
    assert step == "plain"
    z, _, step = anderson.step(z, u, np.array([1.5]), u)
    assert step == "anderson"
    # At the extrapolated point the map moves by 3, more than the 0.5 of
    # the last accepted point: back to that point's output, 1.5.
    z, _, step = anderson.step(z, u, z + 3.0, u)
    assert step == "fallback"
    np.testing.assert_allclose(z, [1.5])
    # The memory is cleared, so the next step is plain.
    assert anderson.step(z, u, z + 0.1, u)[2] == "plain"


def test_acceleration_keeps_the_consensus():
    t, y, truth = damped_oscillator(t_end=12.0, n_samples=120, noise=0.01)
    params = dict(n_batches=3, rho=1.0, tol=1e-3, atol=1e-4, max_iter=300, n_jobs=1)
    plain = BatchedADMMRegressor(small_estimator(), anderson_memory=0, **params).fit(t, y)
    accelerated = BatchedADMMRegressor(small_estimator(), **params).fit(t, y)

    assert plain.converged_ and accelerated.converged_
    # On this data plain ADMM took 234 iterations and the accelerated one 36.
    assert accelerated.n_iter_ < plain.n_iter_ / 3, (accelerated.n_iter_, plain.n_iter_)
    assert "anderson" in set(accelerated.steps_)
    assert set(plain.steps_) == {"initial", "plain"}
    # Both stop within the residual tolerances of one consensus: the same
    # objective to 2 % and the same rollout error to 5 %.
    assert accelerated.objective_ == pytest.approx(plain.objective_, rel=0.02)
    plain_error = np.mean((plain.predict(t) - truth) ** 2)
    accelerated_error = np.mean((accelerated.predict(t) - truth) ** 2)
    assert accelerated_error == pytest.approx(plain_error, rel=0.05)


def test_solve_returns_usable_multipliers():
    t, y, _ = damped_oscillator(n_samples=40, noise=0.01)
    model = small_estimator(tol=1e-10)
    model._validate_fit_data(t, y, None)
    rows = [np.arange(t.size)]
    inputs = np.zeros((t.size, 0))
    model.n_states_, model.n_inputs_ = 2, 0
    model.scaling_ = model._fit_scaling(t, y, inputs, rows)
    problem = model._build_problem(t, y, inputs, rows, (2, 4, 2), np.random.RandomState(0))
    first = _casadi_backend.solve(problem, problem.states_init, problem.params_init, tol=1e-10, max_iter=500)
    assert first.success

    # At a solution, grad f + J^T lambda = 0 with CasADi's sign convention.
    evaluator = _casadi_backend._Evaluator(problem)
    x = np.concatenate([first.states.ravel(), first.params])
    jacobian = np.zeros((evaluator.n_rows * problem.n_states, evaluator.n_vars))
    jacobian[evaluator.jac.rows, evaluator.jac.cols] = evaluator.constraint_jacobian(x)
    stationarity = evaluator.objective_gradient(x) + jacobian.T @ first.multipliers
    assert np.max(np.abs(stationarity)) < 1e-8

    again = _casadi_backend.solve(
        dataclasses.replace(problem, multipliers_init=first.multipliers),
        first.states,
        first.params,
        tol=1e-10,
        max_iter=500,
    )
    assert again.success and again.n_iter <= 1
    np.testing.assert_allclose(again.params, first.params, rtol=0, atol=1e-9)


def test_window_without_observations_rejected():
    t, y, _ = damped_oscillator(n_samples=120)
    y[60:90] = np.nan
    with pytest.raises(ValueError, match="Batch 2 has no observed value in y"):
        BatchedADMMRegressor(small_estimator(), n_batches=4).fit(t, y)


def test_overlap_beyond_next_window_rejected():
    t, y, _ = damped_oscillator(n_samples=120)
    with pytest.raises(ValueError, match="overlap=30 must be smaller than the 30 rows"):
        BatchedADMMRegressor(small_estimator(), n_batches=4, overlap=30).fit(t, y)


def test_one_batch_consensus_start_keeps_rho():
    t, y, _ = damped_oscillator(noise=0.01)
    admm = BatchedADMMRegressor(
        small_estimator(), n_batches=1, init="consensus", rho=0.5, max_iter=4
    )
    with pytest.warns(Warning, match="ADMM stopped after max_iter=4"):
        admm.fit(t, y)
    # The primal residual of one batch is zero: no balancing.
    np.testing.assert_array_equal(admm.primal_residuals_, 0.0)
    np.testing.assert_array_equal(admm.rho_history_, 0.5)


def test_refit_on_array_drops_feature_names():
    pd = pytest.importorskip("pandas")
    t, y, _ = damped_oscillator(n_samples=40)
    admm = BatchedADMMRegressor(small_estimator(), n_batches=2, max_iter=2)
    with pytest.warns(Warning, match="ADMM stopped"):
        admm.fit(pd.DataFrame({"time": t}), y)
    assert list(admm.feature_names_in_) == ["time"]
    with pytest.warns(Warning, match="ADMM stopped"):
        admm.fit(t, y)
    assert not hasattr(admm, "feature_names_in_")


def test_save_model_points_to_consensus_estimator(tmp_path):
    from sklearn_nodecoll import save_model

    t, y, _ = damped_oscillator(n_samples=40)
    admm = BatchedADMMRegressor(small_estimator(), n_batches=2, max_iter=2)
    with pytest.warns(Warning, match="ADMM stopped"):
        admm.fit(t, y)
    with pytest.raises(TypeError, match="got a BatchedADMMRegressor. Save its consensus_estimator_"):
        save_model(admm, tmp_path / "admm.npz")
    save_model(admm.consensus_estimator_, tmp_path / "consensus.npz")
    assert (tmp_path / "consensus.npz").stat().st_size > 0
    # The fitted copies carry what a plain fit records about its grid and release.
    for model in [admm.consensus_estimator_, *admm.estimators_]:
        assert model.n_refinements_ == 0
        assert model._sklearn_nodecoll_version == sklearn_nodecoll.__version__

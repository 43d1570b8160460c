"""What a fit does when IPOPT stops early, fails, or runs out of time."""

import dataclasses
import pickle
import time

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_nodecoll import CollocationNeuralODE, SolverError
from sklearn_nodecoll import _casadi_backend
from small_problems import SMALL, decay_data


def circle_data(n=400):
    t = np.linspace(0.0, 10.0, n)
    return t, np.column_stack([np.cos(t), np.sin(t)])


class ScriptedSolve:
    """Stand-in for the backend's solve that reports the given statuses in turn.

    Each call runs the real solve, then overwrites its status; None keeps
    the real outcome. Initial points of every call are recorded.
    """

    def __init__(self, statuses, delay=0.0):
        self.statuses = list(statuses)
        self.delay = delay
        self.initial_points = []
        self.max_times = []
        self.solve = _casadi_backend.solve

    def __call__(self, problem, states_init, params_init, **kwargs):
        self.initial_points.append((states_init.copy(), params_init.copy()))
        self.max_times.append(kwargs.get("max_time"))
        time.sleep(self.delay)
        result = self.solve(problem, states_init, params_init, **kwargs)
        status = self.statuses[len(self.initial_points) - 1]
        if status is None:
            return result
        return dataclasses.replace(result, status=status, success=False)


def test_iteration_limit_warns_and_keeps_iterate():
    t, y = decay_data()
    with pytest.warns(
        ConvergenceWarning,
        match=r"status Maximum_Iterations_Exceeded after 3 iterations.*Increase max_iter",
    ):
        # Xavier weights: derivative matching starts close enough to the
        # optimum that IPOPT may finish within 3 iterations.
        model = CollocationNeuralODE(**SMALL, max_iter=3, weight_init="xavier").fit(t, y)
    assert not model.converged_
    assert model.n_iter_ == 3
    assert model.termination_condition_ == "Maximum_Iterations_Exceeded"
    assert model.loss_curve_.shape == (4,)

    # The kept iterate is the solver's, not the initial guess, and predicts.
    initial = CollocationNeuralODE(**SMALL, max_iter=0, weight_init="xavier")
    with pytest.warns(ConvergenceWarning, match="after 0 iterations"):
        initial.fit(t, y)
    assert not np.array_equal(model.coefs_[0], initial.coefs_[0])
    predicted = model.predict(np.linspace(0.0, 5.0, 11))
    assert np.all(np.isfinite(predicted))
    # The objective stored is that of IPOPT's last logged iterate.
    assert model.objective_ == pytest.approx(model.loss_curve_[-1], rel=1e-6)


def test_max_time_bounds_fit():
    t, y = circle_data()
    max_time = 0.05
    start = time.perf_counter()
    with pytest.warns(ConvergenceWarning, match="status Maximum_WallTime_Exceeded.*max_time"):
        model = CollocationNeuralODE(hidden_layer_sizes=(32,), random_state=0, max_time=max_time).fit(t, y)
    elapsed = time.perf_counter() - start
    assert not model.converged_
    # Without a limit this fit took 3.2 s and 17 iterations in one run on a
    # 2-core machine. The bounds leave room for building the program and
    # for a loaded machine.
    assert model.solve_time_ < max_time + 1.0
    assert elapsed < 5.0
    assert np.all(np.isfinite(model.predict(t[:5])))


def test_failure_then_success_restarts(monkeypatch):
    scripted = ScriptedSolve(["Restoration_Failed", None])
    monkeypatch.setattr(_casadi_backend, "solve", scripted)
    t, y = decay_data()
    model = CollocationNeuralODE(**SMALL, n_restarts=2).fit(t, y)
    assert model.converged_
    assert model.n_restarts_ == 1
    assert len(scripted.initial_points) == 2
    (states_first, params_first), (states_second, params_second) = scripted.initial_points
    assert not np.array_equal(states_first, states_second)
    assert not np.array_equal(params_first, params_second)
    # The perturbation is small relative to the initial point.
    assert np.max(np.abs(params_second - params_first)) < 0.6 * np.max(np.abs(params_first))


def test_repeated_failure_raises_solver_error(monkeypatch):
    scripted = ScriptedSolve(["Restoration_Failed"] * 3)
    monkeypatch.setattr(_casadi_backend, "solve", scripted)
    t, y = decay_data()
    with pytest.raises(SolverError, match=r"status Restoration_Failed after 3 attempt\(s\).*2 restart") as error:
        CollocationNeuralODE(**SMALL, n_restarts=2).fit(t, y)
    assert error.value.status == "Restoration_Failed"
    assert error.value.n_attempts == 3
    assert len(scripted.initial_points) == 3


def test_no_restarts_when_disabled(monkeypatch):
    scripted = ScriptedSolve(["Invalid_Number_Detected"])
    monkeypatch.setattr(_casadi_backend, "solve", scripted)
    t, y = decay_data()
    with pytest.raises(SolverError, match=r"Invalid_Number_Detected after 1 attempt\(s\)"):
        CollocationNeuralODE(**SMALL, n_restarts=0).fit(t, y)
    assert len(scripted.initial_points) == 1


def test_real_ipopt_failure_raises():
    # A tolerance no iterate can meet, with the restoration phase cut to one
    # iteration, makes IPOPT give up quickly with a failure status.
    options = {"tol": 1e-300, "constr_viol_tol": 1e-300, "max_iter": 30, "max_resto_iter": 1}
    t, y = decay_data()
    with pytest.raises(SolverError, match="IPOPT failed with status") as error:
        CollocationNeuralODE(**SMALL, n_restarts=1, solver_options=options).fit(t, y)
    assert error.value.status not in _casadi_backend.CONVERGED_STATUSES
    assert error.value.status not in _casadi_backend.LIMIT_STATUSES
    assert error.value.n_attempts == 2


def test_max_time_covers_restarts(monkeypatch):
    scripted = ScriptedSolve(["Restoration_Failed"] * 5, delay=0.3)
    monkeypatch.setattr(_casadi_backend, "solve", scripted)
    t, y = decay_data()
    with pytest.raises(SolverError, match=r"max_time=0.5 s ran out before a restart") as error:
        CollocationNeuralODE(**SMALL, n_restarts=4, max_time=0.5).fit(t, y)
    assert error.value.n_attempts == 2
    # Each solve gets only the time left of the fit's budget.
    assert scripted.max_times[0] == pytest.approx(0.5, abs=0.05)
    assert scripted.max_times[1] < 0.25


def test_invalid_solver_option():
    t, y = decay_data()
    with pytest.raises(ValueError, match=r"IPOPT rejected an option in solver_options=\{'bound_push': -1.0\}"):
        CollocationNeuralODE(**SMALL, solver_options={"bound_push": -1.0}).fit(t, y)


def test_same_random_state_same_weights():
    t, y = circle_data(60)
    params = dict(hidden_layer_sizes=(8,), max_iter=40)
    first = CollocationNeuralODE(**params, random_state=3).fit(t, y)
    second = CollocationNeuralODE(**params, random_state=3).fit(t, y)
    other = CollocationNeuralODE(**params, random_state=4).fit(t, y)
    for W_first, W_second in zip(first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_):
        np.testing.assert_array_equal(W_first, W_second)
    np.testing.assert_array_equal(first.y0_, second.y0_)
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_solver_error_survives_pickle():
    error = SolverError("IPOPT failed", status="Restoration_Failed", n_attempts=3)
    restored = pickle.loads(pickle.dumps(error))
    assert str(restored) == "IPOPT failed"
    assert restored.status == "Restoration_Failed"
    assert restored.n_attempts == 3


@pytest.mark.parametrize(
    "options",
    [{"linear_solver": "ma57"}, {"no_such_option": 1}],
    ids=["solver-missing-from-build", "unknown-name"],
)
def test_unusable_ipopt_option_raises_value_error(options):
    t, y = decay_data()
    with pytest.raises(ValueError, match=r"IPOPT rejected an option in solver_options="):
        CollocationNeuralODE(**SMALL, solver_options=options).fit(t, y)


def test_mumps_defaults_yield_to_user_options():
    defaults = _casadi_backend.mumps_options()
    merged = _casadi_backend.ipopt_options(1e-6, 50, None, 0, None, defaults)
    assert merged["mumps_scaling"] == 0
    assert merged["mumps_pivot_order"] == 5
    assert merged["mumps_pivtol"] == 1e-4
    assert merged["tol"] == 1e-6
    overridden = _casadi_backend.ipopt_options(1e-6, 50, None, 0, {"mumps_scaling": 77}, defaults)
    assert overridden["mumps_scaling"] == 77


def test_pivot_maximum_caps_default():
    t, y = decay_data()
    model = CollocationNeuralODE(**SMALL, solver_options={"mumps_pivtolmax": 1e-5}).fit(t, y)
    assert model.termination_condition_ == "Solve_Succeeded"
    defaults = _casadi_backend.mumps_options({"mumps_pivtolmax": 1e-5})
    assert defaults["mumps_pivtol"] == 1e-5


def test_callback_buffers_match_direct_call():
    import casadi as ca

    def compute(x, p):
        return np.sum(x**2), 3.0 * x

    callback = _casadi_backend._NumpyCallback(
        "square",
        [("x", ca.Sparsity.dense(3, 1)), ("p", ca.Sparsity.dense(0, 1))],
        [("f", ca.Sparsity.dense(1, 1)), ("g", ca.Sparsity.dense(3, 1))],
        compute,
    )
    x = np.array([1.0, -2.0, 0.5])
    f, g = callback(x, ca.DM(0, 1))
    assert float(f) == pytest.approx(5.25)
    np.testing.assert_allclose(np.asarray(g).ravel(), 3.0 * x)

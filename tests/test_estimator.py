import pickle
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest

from sklearn_nodecoll import CollocationNeuralODE
from sklearn_nodecoll.synthetic import make_forced_van_der_pol


def harmonic_oscillator(t):
    """x' = v, v' = -x from (1, 0): x = cos t, v = -sin t."""
    return np.column_stack([np.cos(t), -np.sin(t)])


@pytest.fixture(scope="module")
def oscillator_model():
    t = np.linspace(0.0, 2 * np.pi, 60)
    model = CollocationNeuralODE(hidden_layer_sizes=(8,), alpha=1e-5, random_state=0)
    return model.fit(t, harmonic_oscillator(t)), t


def test_fit_recovers_known_solution(oscillator_model):
    model, t = oscillator_model
    assert model.converged_
    assert model.termination_condition_ == "Solve_Succeeded"
    np.testing.assert_allclose(model.y0_[0], [1.0, 0.0], atol=1e-2)
    np.testing.assert_allclose(model.predict(t), harmonic_oscillator(t), atol=2e-2)


def test_forecast_and_simulate_follow_solution(oscillator_model):
    model, _ = oscillator_model
    # Half a period past the data: the learned vector field extrapolates.
    t_future = np.linspace(2 * np.pi, 2.5 * np.pi, 10)
    np.testing.assert_allclose(model.predict(t_future), harmonic_oscillator(t_future), atol=5e-2)
    # From another state on the unit circle the solution is a phase shift.
    t = np.linspace(0.0, np.pi, 20)
    simulated = model.simulate(t, [0.0, -1.0])
    expected = np.column_stack([np.cos(t + np.pi / 2), -np.sin(t + np.pi / 2)])
    np.testing.assert_allclose(simulated, expected, atol=5e-2)


def test_simulate_accepts_fitted_y0(oscillator_model):
    model, t = oscillator_model
    assert model.y0_.shape == (1, 2)
    np.testing.assert_array_equal(model.simulate(t, model.y0_), model.predict(t))


def test_simulate_backwards_in_time(oscillator_model):
    model, _ = oscillator_model
    t = np.array([np.pi, 0.5 * np.pi, 0.0])
    simulated = model.simulate(t, harmonic_oscillator(np.array([np.pi]))[0])
    np.testing.assert_allclose(simulated, harmonic_oscillator(t), atol=3e-2)


def test_fitted_attributes(oscillator_model):
    model, t = oscillator_model
    assert [W.shape for W in model.coefs_] == [(2, 8), (8, 2)]
    assert [b.shape for b in model.intercepts_] == [(8,), (2,)]
    assert model.n_features_in_ == 1
    assert model.n_states_ == 2
    assert model.n_inputs_ == 0
    assert model.loss_curve_.shape == (model.n_iter_ + 1,)
    assert model.constraint_violation_curve_[-1] < 1e-6
    assert model.objective_ == pytest.approx(model.loss_curve_[-1])
    assert model.build_time_ > 0
    assert model.solve_time_ > 0
    assert model.collocation_times_[0][0] == t[0]
    assert model.collocation_times_[0][-1] == pytest.approx(t[-1])


def test_score_is_r2(oscillator_model):
    model, t = oscillator_model
    y = harmonic_oscillator(t)
    assert model.score(t, y) > 0.99
    assert model.score(t, -y) < 0.0


def test_one_dimensional_target_and_decay():
    t = np.linspace(0.0, 3.0, 30)
    y = 2.0 * np.exp(-0.8 * t)
    model = CollocationNeuralODE(hidden_layer_sizes=(4,), alpha=1e-6, random_state=0).fit(t, y)
    prediction = model.predict(np.array([0.0, 1.5, 3.5]))
    assert prediction.shape == (3,)
    np.testing.assert_allclose(prediction, 2.0 * np.exp(-0.8 * np.array([0.0, 1.5, 3.5])), atol=2e-2)


def test_time_offset_gives_same_fit(oscillator_model):
    model, t = oscillator_model
    offset = 1.7e9
    shifted = CollocationNeuralODE(**model.get_params()).fit(t + offset, harmonic_oscillator(t))
    np.testing.assert_allclose(
        shifted.predict(t + offset), model.predict(t), atol=1e-5
    )


@pytest.mark.parametrize("seed", [0])
def test_forced_van_der_pol_with_input(seed):
    data = make_forced_van_der_pol()
    X = np.column_stack([data["t"], data["u"]])
    model = CollocationNeuralODE(random_state=seed).fit(X, data["y"])
    test = model.simulate(data["t_test"], data["y_test"][0], data["u_test"])
    assert np.mean((test - data["y_test"]) ** 2) <= 0.05
    # predict integrates from the fitted initial state through the fitted span.
    X_test = np.column_stack([data["t_test"], data["u_test"]])
    assert model.predict(X_test).shape == (400, 2)


def test_pickle_and_joblib_round_trip(oscillator_model, tmp_path):
    model, t = oscillator_model
    restored = pickle.loads(pickle.dumps(model))
    assert np.max(np.abs(restored.predict(t) - model.predict(t))) == 0.0
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    assert np.max(np.abs(joblib.load(path).predict(t) - model.predict(t))) == 0.0


def test_fitted_model_holds_only_plain_data(oscillator_model):
    model, _ = oscillator_model
    allowed = (np.ndarray, np.generic, int, float, str, bool, type(None), tuple, list, dict)

    def check(value, name):
        if isinstance(value, (list, tuple)):
            for k, item in enumerate(value):
                check(item, f"{name}[{k}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                check(item, f"{name}[{key!r}]")
        elif hasattr(value, "__dataclass_fields__"):
            for field in value.__dataclass_fields__:
                check(getattr(value, field), f"{name}.{field}")
        else:
            assert isinstance(value, allowed), f"{name} is a {type(value).__name__}"

    for name, value in vars(model).items():
        check(value, name)


def test_predict_without_solver_packages(oscillator_model, tmp_path):
    model, t = oscillator_model
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    expected = model.predict(t)
    np.save(tmp_path / "expected.npy", expected)
    script = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("casadi", "pyomo", "statsmodels"):
                    raise ImportError(f"{{name}} is blocked in this test")
        sys.meta_path.insert(0, Block())
        import pickle
        import numpy as np
        model = pickle.loads(open({str(path)!r}, "rb").read())
        t = np.linspace(0.0, 2 * np.pi, 60)
        difference = np.abs(model.predict(t) - np.load({str(tmp_path / "expected.npy")!r}))
        assert difference.max() == 0.0, difference.max()
        assert "casadi" not in sys.modules
        assert "pyomo" not in sys.modules
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_refinement_reduces_rollout_defect():
    # Two elements of degree 3 cannot follow a full period of the oscillator;
    # the rollout of the learned ODE then leaves the collocation states.
    t = np.linspace(0.0, 2 * np.pi, 40)
    options = dict(hidden_layer_sizes=(8,), alpha=1e-5, n_collocation=7, random_state=0)
    coarse = CollocationNeuralODE(max_refinements=0, **options)
    with pytest.warns(UserWarning, match="departs from the fitted trajectory"):
        coarse.fit(t, harmonic_oscillator(t))
    assert coarse.n_refinements_ == 0
    assert coarse.rollout_defect_ > 0.1

    refined = CollocationNeuralODE(max_refinements=3, **options).fit(t, harmonic_oscillator(t))
    assert refined.n_refinements_ >= 1
    assert refined.rollout_defect_ <= 0.1
    assert refined.collocation_times_[0].size == 6 * 2**refined.n_refinements_ + 1
    np.testing.assert_allclose(refined.predict(t), harmonic_oscillator(t), atol=5e-2)


def test_refinement_stops_when_defect_persists(monkeypatch):
    # A gap that does not shrink with the grid is sensitivity, not
    # discretisation error: one refinement, then a warning.
    monkeypatch.setattr(CollocationNeuralODE, "_rollout_defect", lambda self, *args: 1.0)
    t = np.linspace(0.0, 3.0, 30)
    model = CollocationNeuralODE(hidden_layer_sizes=(4,), max_refinements=3, random_state=0)
    with pytest.warns(UserWarning, match=r"departs from the fitted trajectory by 1 standard"):
        model.fit(t, np.exp(-t))
    assert model.n_refinements_ == 1
    assert model.rollout_defect_ == 1.0


def test_score_rejects_mismatched_y_and_weights():
    t = np.linspace(0.0, 3.0, 30)
    y = np.column_stack([np.cos(t), -np.sin(t)])
    model = CollocationNeuralODE(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(t, y)
    with pytest.raises(ValueError, match=r"y must have shape \(30, 2\).*got \(30, 1\)"):
        model.score(t, y[:, :1])
    with pytest.raises(ValueError, match=r"y must have shape \(30, 2\).*got \(10, 2\)"):
        model.score(t, y[:10])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(30,\).*got \(5,\)"):
        model.score(t, y, sample_weight=np.ones(5))

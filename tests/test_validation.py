"""Input checks of fit, predict and simulate: each error names what was wrong."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.utils._param_validation import InvalidParameterError

from small_problems import SMALL, decay_data
from sklearn_nodecoll import CollocationNeuralODE, IntegrationError


def forced_data(n=40):
    """Samples of dy/dt = -y + u with u = sin(t), y(0) = 0."""
    t = np.linspace(0.0, 6.0, n)
    u = np.sin(t)
    y = 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))
    return t, u, y


@pytest.fixture(scope="module")
def forced_model():
    t, u, y = forced_data()
    X = pd.DataFrame({"time": t, "u": u})
    return CollocationNeuralODE(**SMALL).fit(X, y)


# ----------------------------------------------------------------------
# Order of rows, replicates, stacked experiments


def test_shuffled_rows_same_fit():
    t, y = decay_data()
    order = np.random.default_rng(1).permutation(t.size)
    ordered = CollocationNeuralODE(**SMALL).fit(t, y)
    shuffled = CollocationNeuralODE(**SMALL).fit(t[order], y[order])
    for W_ordered, W_shuffled in zip(ordered.coefs_, shuffled.coefs_):
        np.testing.assert_allclose(W_shuffled, W_ordered, rtol=1e-6, atol=1e-9)


def test_predict_keeps_caller_order():
    t, y = decay_data()
    model = CollocationNeuralODE(**SMALL).fit(t, y)
    t_new = np.array([5.0, 0.5, 3.0, 0.5, 1.0, 4.5])
    expected = np.array([model.predict([time])[0] for time in t_new])
    # One time per call takes other integrator steps, hence the tolerance.
    np.testing.assert_allclose(model.predict(t_new), expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(model.predict(t_new[::-1]), model.predict(t_new)[::-1])


def test_replicates_all_enter_objective(monkeypatch):
    from sklearn_nodecoll import _casadi_backend

    observed_counts = []
    solve = _casadi_backend.solve

    def counting_solve(problem, *args, **kwargs):
        observed_counts.append(problem.n_observed)
        return solve(problem, *args, **kwargs)

    monkeypatch.setattr(_casadi_backend, "solve", counting_solve)
    t, y = decay_data(30)
    spread = 0.05
    t_rep = np.repeat(t, 2)
    y_rep = np.column_stack([y + spread, y - spread]).ravel()
    model = CollocationNeuralODE(**SMALL, alpha=1e-6).fit(t_rep, y_rep)

    assert observed_counts == [60.0]
    # The objective is the mean squared misfit over all rows plus a
    # non-negative penalty. Replicates y +- spread cannot both be matched,
    # so the misfit is at least spread^2 (scaled), while a fit that kept
    # only one replicate per time could reach 0.
    scaled_spread = spread / model.state_scale_[0]
    assert model.objective_ >= scaled_spread**2 * (1 - 1e-6)
    assert model.objective_ <= scaled_spread**2 + 1e-3


def test_stacked_experiments_warn():
    t, y = decay_data(20)
    with pytest.warns(UserWarning, match=r"starts over 1 time\(s\).*row 20 of X.*pass trajectory="):
        CollocationNeuralODE(**SMALL).fit(np.concatenate([t, t]), np.concatenate([y, y]))


def test_shuffled_or_labelled_rows_do_not_warn():
    t, y = decay_data(20)
    t_stacked, y_stacked = np.concatenate([t, t]), np.concatenate([y, y])
    ids = np.repeat([0, 1], t.size)
    order = np.random.default_rng(0).permutation(t_stacked.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        CollocationNeuralODE(**SMALL).fit(t_stacked, y_stacked, trajectory=ids)
        CollocationNeuralODE(**SMALL).fit(t_stacked[order], y_stacked[order])


# ----------------------------------------------------------------------
# Too little data, shapes and types


@pytest.mark.parametrize(
    "t, message",
    [
        (np.array([0.0, 1.0]), "minimum of 3"),
        (np.zeros(10), "1 distinct time.*at least 3 distinct times"),
        (np.array([0.0, 0.0, 1.0, 1.0, 1.0]), "2 distinct time.*at least 3 distinct times"),
    ],
)
def test_too_few_distinct_times(t, message):
    with pytest.raises(ValueError, match=message):
        CollocationNeuralODE(**SMALL).fit(t, np.ones(t.size))


def test_length_mismatch():
    t, y = decay_data()
    with pytest.raises(ValueError, match="same number of rows, got 40 rows in X and 39 in y"):
        CollocationNeuralODE(**SMALL).fit(t, y[:-1])


def test_empty_y():
    t, _ = decay_data()
    with pytest.raises(ValueError, match=r"y has no rows.*\(40 rows\)"):
        CollocationNeuralODE(**SMALL).fit(t, np.empty(0))


def test_non_numeric_column_named():
    t, u, y = forced_data()
    labels = np.where(u > 0, "high", "low")
    with pytest.raises(ValueError, match=r"input column 1 \('u'\) of X must be numeric.*'(high|low)'"):
        CollocationNeuralODE(**SMALL).fit(pd.DataFrame({"time": t, "u": labels}), y)
    X = np.column_stack([t.astype(object), labels.astype(object)])
    with pytest.raises(ValueError, match="input column 1 of X must be numeric, but row 0"):
        CollocationNeuralODE(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="column 0 of y must be numeric, but row 0"):
        CollocationNeuralODE(**SMALL).fit(t, labels)


def test_sparse_rejected():
    t, u, y = forced_data()
    with pytest.raises(TypeError, match="X is a sparse csr_matrix.*not supported"):
        CollocationNeuralODE(**SMALL).fit(sp.csr_matrix(np.column_stack([t, u])), y)
    with pytest.raises(TypeError, match="y is a sparse csc_matrix.*not supported"):
        CollocationNeuralODE(**SMALL).fit(t, sp.csc_matrix(y[:, None]))


@pytest.mark.parametrize(
    "column, value, message",
    [
        (0, np.nan, r"time column 0 \('time'\) of X contains NaN at row 7"),
        (0, np.inf, r"time column 0 \('time'\) of X contains infinity at row 7"),
        (1, np.nan, r"input column 1 \('u'\) of X contains NaN at row 7.*allowed only in y"),
        (1, -np.inf, r"input column 1 \('u'\) of X contains infinity at row 7"),
    ],
)
def test_non_finite_X_named(column, value, message):
    t, u, y = forced_data()
    X = pd.DataFrame({"time": t, "u": u})
    X.iloc[7, column] = value
    with pytest.raises(ValueError, match=message):
        CollocationNeuralODE(**SMALL).fit(X, y)


def test_non_finite_predict_X_named(forced_model):
    t, u, _ = forced_data()
    u = u.copy()
    u[3] = np.nan
    with pytest.raises(ValueError, match=r"input column 1 \('u'\) of X contains NaN at row 3"):
        forced_model.predict(pd.DataFrame({"time": t, "u": u}))


def test_infinite_y_rejected_nan_allowed():
    t, y = decay_data()
    y_inf = y.copy()
    y_inf[4] = np.inf
    with pytest.raises(ValueError, match="column 0 of y contains infinity at row 4.*only NaN"):
        CollocationNeuralODE(**SMALL).fit(t, y_inf)
    y_nan = y.copy()
    y_nan[4] = np.nan
    model = CollocationNeuralODE(**SMALL).fit(t, y_nan)
    assert np.all(np.isfinite(model.predict(t)))


# ----------------------------------------------------------------------
# Scales and types of accepted input


def damped_oscillator(tau):
    """Exact solution of z1' = z2, z2' = -z1 - 0.2 z2 with z(0) = (1, 0)."""
    omega = np.sqrt(1 - 0.01)
    z1 = np.exp(-0.1 * tau) * (np.cos(omega * tau) + 0.1 / omega * np.sin(omega * tau))
    z2 = -np.exp(-0.1 * tau) * np.sin(omega * tau) / omega
    return np.column_stack([z1, z2])


def test_wild_scales_match_rescaled_fit():
    tau = np.linspace(0.0, 8.0, 50)
    z = damped_oscillator(tau)
    epoch, step = 1.7e9, 600.0
    state_offset = np.array([2.0e6, 0.0])
    state_unit = np.array([3.0e5, 1.0e-5])
    t_wild = epoch + step * tau
    y_wild = state_offset + state_unit * z

    params = dict(hidden_layer_sizes=(8,), random_state=0, state_init="interpolate")
    wild = CollocationNeuralODE(**params).fit(t_wild, y_wild)
    plain = CollocationNeuralODE(**params).fit(tau, z)
    assert wild.converged_
    assert plain.converged_

    tau_new = np.linspace(0.0, 9.0, 25)
    predicted_wild = (wild.predict(epoch + step * tau_new) - state_offset) / state_unit
    predicted_plain = plain.predict(tau_new)
    np.testing.assert_allclose(predicted_wild, predicted_plain, rtol=1e-5, atol=1e-5)
    # Both agree with the true system, so the fits themselves are sound.
    np.testing.assert_allclose(predicted_plain, damped_oscillator(tau_new), atol=0.1)


def test_int_float32_and_lists_accepted():
    t = np.arange(40)
    y = np.exp(-t / 10.0)
    reference = CollocationNeuralODE(**SMALL).fit(t.astype(float), y)
    expected = reference.predict(np.arange(45.0))

    from_ints = CollocationNeuralODE(**SMALL).fit(t, y)
    np.testing.assert_array_equal(from_ints.predict(np.arange(45)), expected)
    from_lists = CollocationNeuralODE(**SMALL).fit(t.tolist(), y.tolist())
    np.testing.assert_array_equal(from_lists.predict(list(range(45))), expected)
    from_float32 = CollocationNeuralODE(**SMALL).fit(t.astype(np.float32), y.astype(np.float32))
    np.testing.assert_allclose(from_float32.predict(np.arange(45, dtype=np.float32)), expected, atol=1e-4)


def test_pandas_names_kept_and_checked(forced_model):
    t, u, y = forced_data()
    np.testing.assert_array_equal(forced_model.feature_names_in_, ["time", "u"])
    X = pd.DataFrame({"time": t, "u": u})
    expected = forced_model.predict(X)
    assert np.all(np.isfinite(expected))

    with pytest.raises(ValueError, match="feature names should match"):
        forced_model.predict(pd.DataFrame({"time": t, "v": u}))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = forced_model.predict(np.column_stack([t, u]))
    np.testing.assert_array_equal(from_array, expected)

    from_series = CollocationNeuralODE(**SMALL).fit(pd.Series(t, name="time"), pd.Series(np.exp(-t)))
    np.testing.assert_allclose(from_series.predict(pd.Series([7.0], name="time")), np.exp(-7.0), atol=0.02)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_predict_wrong_columns(forced_model):
    t, u, _ = forced_data()
    with pytest.raises(ValueError, match=r"X has 1 features, but CollocationNeuralODE is expecting 2 features as input: the time column and 1 input\(s\) \(u\)\. Reshape your data"):
        forced_model.predict(t)
    with pytest.raises(ValueError, match=r"X has 3 features, but CollocationNeuralODE is expecting 2 features as input: the time column and 1 input\(s\) \(u\)"):
        forced_model.predict(np.column_stack([t, u, u]))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"activation": "relu"}, "activation"),
        ({"collocation": "legendre"}, "collocation"),
        ({"backend": "gurobi"}, "backend"),
        ({"hidden_layer_sizes": (3.5,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
        ({"degree": 2.5}, "degree"),
        ({"max_iter": -1}, "max_iter"),
        ({"n_restarts": 1.5}, "n_restarts"),
    ],
)
def test_invalid_parameters(params, name):
    t, y = decay_data()
    with pytest.raises(InvalidParameterError, match=name):
        CollocationNeuralODE(**params).fit(t, y)


# ----------------------------------------------------------------------
# Integration failures


def test_blow_up_names_time():
    # An affine network (identity activation) learns exponential growth,
    # whose crossing of the blow-up threshold has a closed form.
    t = np.linspace(0.0, 2.0, 30)
    model = CollocationNeuralODE(hidden_layer_sizes=(2,), activation="identity", random_state=0)
    model.fit(t, np.exp(t))
    (W1, W2), (b1, b2) = model.coefs_, model.intercepts_
    rate, shift = (W1 @ W2).item(), (b1 @ W2 + b2).item()
    assert rate > 0
    z0 = model.scaling_.scale_states(model.y0_[0])[0]
    tau0 = model.scaling_.scale_time(model.t0_[0])
    from sklearn_nodecoll.simulation import BLOW_UP_THRESHOLD

    tau_cross = tau0 + np.log((BLOW_UP_THRESHOLD + shift / rate) / (z0 + shift / rate)) / rate
    t_cross = model.scaling_.unscale_time(tau_cross)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(IntegrationError, match="blew up at t=") as error:
            model.predict(np.linspace(0.0, 200.0, 5))
    assert caught == []
    reported = float(re.search(r"t=([-0-9.e+]+)", str(error.value)).group(1))
    assert reported == pytest.approx(t_cross, rel=1e-3)
    assert reported < 50.0  # the event time, not the next requested time


def test_integration_failure_names_time():
    t, y = decay_data()
    model = CollocationNeuralODE(**SMALL).fit(np.column_stack([t, np.zeros_like(t)]), y)

    def broken_input(time):
        return np.array([np.nan if time > 5.0 else 0.0])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(IntegrationError, match=r"failed near t=.* before reaching t=8") as error:
            model.simulate(np.linspace(0.0, 8.0, 9), [1.0], u=broken_input)
    assert caught == []
    reported = float(re.search(r"near t=([-0-9.e+]+)", str(error.value)).group(1))
    # The last finite evaluation lies within one integrator step before t=5.
    assert 4.0 < reported <= 5.0


def test_missing_y_and_complex_X():
    t, _ = decay_data()
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        CollocationNeuralODE(**SMALL).fit(t, None)
    with pytest.raises(ValueError, match=r"Complex data not supported: time column 0 of X contains \(1\+1j\) at row 2"):
        CollocationNeuralODE(**SMALL).fit(np.where(np.arange(t.size) == 2, 1 + 1j, t), np.exp(-t))


@pytest.mark.parametrize("missing", [np.nan, None])
def test_trajectory_without_id_rejected(missing):
    t, y = decay_data()
    ids = np.array([0] * (t.size - 1) + [missing], dtype=float if missing is not None else object)
    with pytest.raises(ValueError, match=rf"trajectory has no id \(None or NaN\) at row {t.size - 1}"):
        CollocationNeuralODE(hidden_layer_sizes=(3,)).fit(t, y, trajectory=ids)

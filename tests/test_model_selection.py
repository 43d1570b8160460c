"""Model selection and pipelines: searches, splitters, target and input transforms."""

import numpy as np
import pytest
import sklearn
from scipy.integrate import solve_ivp
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    TimeSeriesSplit,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_nodecoll import CollocationNeuralODE
from sklearn_nodecoll.model_selection import TrajectorySplit

DAMPING = 0.3


def damped_oscillator(x0, forcing=0.0, n_samples=40, t_end=8.0, noise=0.0, seed=0):
    """Sample x'' + DAMPING x' + x = forcing sin(t) from (x0, 0).

    Returns X with columns t and forcing sin(t), and y with columns x and x'.
    """
    t = np.linspace(0.0, t_end, n_samples)

    def rhs(time, state):
        return [state[1], -state[0] - DAMPING * state[1] + forcing * np.sin(time)]

    solution = solve_ivp(rhs, (0.0, t_end), [x0, 0.0], t_eval=t, rtol=1e-10, atol=1e-10)
    y = solution.y.T + noise * np.random.default_rng(seed).standard_normal((t.size, 2))
    return np.column_stack([t, forcing * np.sin(t)]), y


def several_trajectories():
    """Four forced trajectories with different initial states and forcing amplitudes."""
    settings = [(1.0, 0.5), (-1.0, 1.0), (0.5, -0.5), (0.0, 0.8)]
    parts = [damped_oscillator(x0, forcing) for x0, forcing in settings]
    X = np.vstack([X for X, _ in parts])
    y = np.vstack([y for _, y in parts])
    ids = np.repeat(np.array(["a", "b", "c", "d"]), parts[0][0].shape[0])
    return X, y, ids


def small_model(**params):
    defaults = dict(hidden_layer_sizes=(8,), n_collocation=22, random_state=0)
    defaults.update(params)
    return CollocationNeuralODE(**defaults)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


# ----------------------------------------------------------------------
# TrajectorySplit on its own


def test_trajectory_split_holds_out_each_once():
    ids = np.repeat([3, 1, 2, 1], [5, 4, 6, 3])
    X = np.arange(ids.size, dtype=float)
    held_out = []
    for train, test in TrajectorySplit(n_splits=3).split(X, trajectory=ids):
        assert set(ids[train]).isdisjoint(ids[test])
        assert np.union1d(train, test).size == ids.size
        held_out.extend(np.unique(ids[test]).tolist())
    assert sorted(held_out) == [1, 2, 3]


def test_trajectory_split_accepts_groups():
    ids = np.repeat([0, 1, 2], 4)
    X = np.zeros((ids.size, 2))
    by_groups = list(TrajectorySplit(n_splits=3).split(X, groups=ids))
    by_trajectory = list(TrajectorySplit(n_splits=3).split(X, trajectory=ids))
    for (train_g, test_g), (train_t, test_t) in zip(by_groups, by_trajectory):
        np.testing.assert_array_equal(train_g, train_t)
        np.testing.assert_array_equal(test_g, test_t)
    assert TrajectorySplit(n_splits=3).get_n_splits() == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, r"needs the trajectory id of each row"),
        ({"trajectory": [0, 0, 1, 1, 2]}, r"trajectory must have shape \(6,\)"),
        ({"trajectory": [0, 0, 1, 1, 2, 2], "groups": [0, 0, 1, 1, 2, 3]}, r"both given and differ"),
        ({"trajectory": [0, 0, 0, 1, 1, 1]}, r"n_splits=3 is greater than the number of trajectories, 2"),
    ],
)
def test_trajectory_split_rejects_bad_ids(kwargs, match):
    with pytest.raises(ValueError, match=match):
        next(TrajectorySplit(n_splits=3).split(np.zeros(6), **kwargs))


# ----------------------------------------------------------------------
# Scoring trajectories unseen in fit


def test_score_unseen_trajectory_rolls_out_first_row():
    X, y, ids = several_trajectories()
    train = ids != "d"
    model = small_model().fit(X[train], y[train], trajectory=ids[train])

    test = np.flatnonzero(~train)
    expected_path = model.simulate(X[test, 0], y[test[0]], u=X[test, 1:])
    expected = np.mean(
        [r2_score(y[test[1:], i], expected_path[1:, i]) for i in range(2)]
    )
    score = model.score(X[test], y[test], trajectory=ids[test])
    assert score == pytest.approx(expected, rel=1e-12)
    assert score > 0.8

    # Rows may come in any order; the earliest time gives the initial state.
    shuffled = np.random.default_rng(1).permutation(test)
    assert model.score(X[shuffled], y[shuffled], trajectory=ids[shuffled]) == pytest.approx(
        expected, rel=1e-12
    )


def test_score_mixes_seen_and_unseen_trajectories():
    X, y, ids = several_trajectories()
    train = ids != "d"
    model = small_model().fit(X[train], y[train], trajectory=ids[train])
    rows = np.flatnonzero(np.isin(ids, ["b", "d"]))
    seen = rows[ids[rows] == "b"]
    unseen = rows[ids[rows] == "d"]

    y_pred = np.empty((rows.size, 2))
    y_pred[ids[rows] == "b"] = model.predict(X[seen], trajectory=ids[seen])
    y_pred[ids[rows] == "d"] = model.simulate(X[unseen, 0], y[unseen[0]], u=X[unseen, 1:])
    keep = rows != unseen[0]
    expected = np.mean([r2_score(y[rows][keep, i], y_pred[keep, i]) for i in range(2)])
    assert model.score(X[rows], y[rows], trajectory=ids[rows]) == pytest.approx(expected, rel=1e-12)


def test_score_unseen_missing_first_row_raises():
    X, y, ids = several_trajectories()
    train = ids != "d"
    model = small_model().fit(X[train], y[train], trajectory=ids[train])
    test = np.flatnonzero(~train)
    y_test = y[test].copy()
    y_test[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"Trajectory 'd' was not seen in fit.*missing \(NaN\)"):
        model.score(X[test], y_test, trajectory=ids[test])


def test_score_without_ids_names_routing():
    X, y, ids = several_trajectories()
    model = small_model().fit(X, y, trajectory=ids)
    with pytest.raises(ValueError, match=r"enable_metadata_routing=True"):
        model.score(X, y)


# ----------------------------------------------------------------------
# One trajectory: TimeSeriesSplit forecasts


def test_time_series_split_forecasts_across_gap():
    X, y = damped_oscillator(1.0, n_samples=60, t_end=12.0, noise=0.01)
    t = X[:, 0]
    model = small_model(n_collocation=16)
    cv = TimeSeriesSplit(n_splits=3, gap=4)

    scores = cross_val_score(model, t, y, cv=cv)

    for score, (train, test) in zip(scores, cv.split(t)):
        assert test[0] - train[-1] == 5
        fitted = clone(model).fit(t[train], y[train])
        forecast = fitted.predict(t[test])
        # The forecast starts at the fitted initial state, not at the last
        # training sample, and integrates across the gap.
        from_start = fitted.simulate(np.r_[fitted.t0_[0], t[test]], fitted.y0_[0])[1:]
        np.testing.assert_allclose(forecast, from_start, rtol=1e-9, atol=1e-12)
        assert score == pytest.approx(fitted.score(t[test], y[test]), rel=1e-12)
    # The last fold trains on three quarters of the record; its forecast
    # must beat the mean of the held-out samples.
    assert scores[-1] > 0.0


# ----------------------------------------------------------------------
# Searches


def test_grid_search_parallel_matches_serial():
    X, y = damped_oscillator(1.0, n_samples=50, t_end=10.0, noise=0.01)
    t = X[:, 0]
    grid = {
        "n_collocation": [13, 25],
        "alpha": [1e-4, 1e-2],
        "hidden_layer_sizes": [(4,), (8,)],
    }
    cv = TimeSeriesSplit(n_splits=2)
    search = GridSearchCV(small_model(), grid, cv=cv, n_jobs=2).fit(t, y)

    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_params_
    serial = cross_val_score(small_model(**best), t, y, cv=cv)
    assert search.best_score_ == pytest.approx(serial.mean(), rel=1e-10)
    assert search.best_estimator_.hidden_layer_sizes == best["hidden_layer_sizes"]
    assert search.score(t, y) == pytest.approx(search.best_estimator_.score(t, y), rel=1e-12)


def test_randomized_search_parallel():
    X, y = damped_oscillator(1.0, n_samples=50, t_end=10.0, noise=0.01)
    t = X[:, 0]
    distributions = {
        "n_collocation": [13, 19, 25],
        "alpha": loguniform(1e-5, 1e-1),
        "hidden_layer_sizes": [(4,), (6,), (8,)],
    }
    search = RandomizedSearchCV(
        small_model(), distributions, n_iter=3, cv=TimeSeriesSplit(n_splits=2), n_jobs=2,
        random_state=0,
    ).fit(t, y)

    for params in search.cv_results_["params"]:
        assert params["n_collocation"] in distributions["n_collocation"]
        assert 1e-5 <= params["alpha"] <= 1e-1
        assert params["hidden_layer_sizes"] in distributions["hidden_layer_sizes"]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.score(t, y) > 0.9


def test_grid_search_routes_ids_and_inputs(routing):
    X, y, ids = several_trajectories()
    cv = TrajectorySplit(n_splits=2)
    search = GridSearchCV(
        small_model(), {"alpha": [1e-4, 1e-2]}, cv=cv, n_jobs=2, error_score="raise"
    ).fit(X, y, trajectory=ids)

    # The refitted model saw every trajectory and the input column.
    assert search.best_estimator_.trajectories_.tolist() == ["a", "b", "c", "d"]
    assert search.best_estimator_.n_inputs_ == 1
    # Each fold's score is a rollout of the held-out trajectories from
    # their first rows, with their own inputs.
    alpha = search.best_params_["alpha"]
    for fold, (train, test) in enumerate(cv.split(X, trajectory=ids)):
        fitted = small_model(alpha=alpha).fit(X[train], y[train], trajectory=ids[train])
        expected = fitted.score(X[test], y[test], trajectory=ids[test])
        got = search.cv_results_[f"split{fold}_test_score"][search.best_index_]
        assert got == pytest.approx(expected, rel=1e-10)


def test_cross_val_score_without_routing_fails():
    X, y, ids = several_trajectories()
    with pytest.raises(ValueError, match=r"enable_metadata_routing=True"):
        cross_val_score(
            small_model(), X, y, groups=ids, cv=TrajectorySplit(n_splits=2),
            params={"trajectory": ids}, error_score="raise",
        )


# ----------------------------------------------------------------------
# Pipelines


def forced_data_in_units():
    """Forced oscillator with states and input far from zero mean and unit scale."""
    X, y = damped_oscillator(1.0, forcing=1.0, n_samples=60, t_end=10.0, noise=0.02)
    X[:, 1] = 2.0 + 4.0 * X[:, 1]
    y = 5.0 + 3.0 * y
    t_new = np.linspace(0.0, 12.0, 30)
    X_new = np.column_stack([t_new, 2.0 + 4.0 * np.sin(t_new)])
    return X, y, X_new


def assert_matches_plain_fit(y_pred, y_plain, y):
    # The estimator standardises time, states and inputs itself, so affine
    # transforms outside it change only rounding; IPOPT's path then differs
    # at the level of its tolerance.
    tolerance = 2e-4 * np.ptp(y, axis=0)
    assert np.all(np.abs(y_pred - y_plain) <= tolerance), np.abs(y_pred - y_plain).max(axis=0)


def test_transformed_target_matches_plain_fit():
    X, y, X_new = forced_data_in_units()
    model = small_model(n_collocation=31, tol=1e-8)
    plain = clone(model).fit(X, y)
    y_plain = plain.predict(X_new)
    wrapped = TransformedTargetRegressor(regressor=clone(model), transformer=StandardScaler())
    y_pred = wrapped.fit(X, y).predict(X_new)
    assert_matches_plain_fit(y_pred, y_plain, y)
    # The regressor saw standardised y, so its own scale shrinks by std(y).
    np.testing.assert_allclose(
        wrapped.regressor_.state_scale_, plain.state_scale_ / y.std(axis=0), rtol=1e-12
    )


def test_pipeline_matches_plain_fit():
    X, y, X_new = forced_data_in_units()
    model = small_model(n_collocation=31, tol=1e-8)
    y_plain = clone(model).fit(X, y).predict(X_new)
    pipeline = make_pipeline(StandardScaler(), clone(model))
    assert_matches_plain_fit(pipeline.fit(X, y).predict(X_new), y_plain, y)


def test_column_transformer_keeps_time_first():
    X, y, X_new = forced_data_in_units()
    model = small_model(n_collocation=31, tol=1e-8)
    y_plain = clone(model).fit(X, y).predict(X_new)
    columns = ColumnTransformer(
        [("time", "passthrough", [0]), ("inputs", StandardScaler(), [1])]
    )
    pipeline = make_pipeline(columns, clone(model))
    assert_matches_plain_fit(pipeline.fit(X, y).predict(X_new), y_plain, y)
    assert pipeline[-1].t0_[0] == pytest.approx(0.0)
    assert pipeline[-1].input_mean_ == pytest.approx([0.0], abs=1e-12)


def test_pipeline_passes_trajectory():
    X, y, ids = several_trajectories()
    pipeline = make_pipeline(StandardScaler(), small_model())
    pipeline.fit(X, y, collocationneuralode__trajectory=ids)
    plain = small_model().fit(X, y, trajectory=ids)
    assert pipeline[-1].trajectories_.tolist() == ["a", "b", "c", "d"]
    np.testing.assert_allclose(
        pipeline[-1].y0_, plain.y0_, atol=2e-4 * np.ptp(y)
    )

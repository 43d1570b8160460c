"""Fits to measured data held to published reference figures.

The data are read from the measured-data folder (see
:mod:`sklearn_nodecoll.datasets`); every test skips when it is absent.
"""

import os
import warnings

import numpy as np
import pytest

from sklearn_nodecoll import CollocationNeuralODE, datasets
from sklearn_nodecoll.benchmarks import (
    ALPHA_PINENE_OPTIONS,
    HARE_LYNX_OPTIONS,
    tanks_inputs,
    tanks_model,
)


def _needs(filename):
    return pytest.mark.skipif(
        not datasets.data_available(filename),
        reason=f"{filename} not found in {datasets.get_data_home()}; set "
        f"{datasets.DATA_ENVIRONMENT_VARIABLE} to the measured-data folder",
    )


def _rmse(prediction, measured, axis=None):
    return np.sqrt(np.mean((prediction - measured) ** 2, axis=axis))


def test_missing_data_folder_is_reported(monkeypatch, tmp_path):
    absent = tmp_path / "absent"
    monkeypatch.setenv(datasets.DATA_ENVIRONMENT_VARIABLE, str(absent))
    assert datasets.get_data_home() == absent
    assert not datasets.data_available()
    with pytest.raises(FileNotFoundError, match=r"absent.*folder not found.*SKLEARN_NODECOLL_DATA"):
        datasets.load_hare_lynx()


def test_default_data_folder_is_beside_checkout(monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENVIRONMENT_VARIABLE, raising=False)
    package = os.path.dirname(os.path.abspath(datasets.__file__))
    expected = os.path.join(os.path.dirname(os.path.dirname(package)), "shared", "data")
    assert str(datasets.get_data_home()) == expected


@_needs("hare_lynx_1845_1935.csv")
def test_hare_lynx_reference_figures():
    year, pelts = datasets.load_hare_lynx()
    assert pelts.shape == (91, 2)
    assert year[0] == 1845
    assert year[-1] == 1935
    # Constant-mean predictor over the whole file: 36.2 (hare), 18.8 (lynx).
    np.testing.assert_allclose(pelts.std(axis=0), [36.2, 18.8], atol=0.05)


# NOTE: not met. Free runs of the learned two-state ODE over 1845-1915
# leave the fitted collocation states within a few years and settle near a
# fixed point, so their RMSE stays close to the mean predictor's. A
# two-state model is near periodic after its transient, and the best
# periodic signal that yearly samples resolve (examples/plot_hare_lynx.py)
# is only 1.2 and 1.9 times better than the mean. The test fails loudly
# (strict) once a change makes it pass.
@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the free run of a two-state neural ODE over 71 years stays near the mean predictor",
)
@_needs("hare_lynx_1845_1935.csv")
def test_hare_lynx_beats_mean_predictor():
    year, pelts = datasets.load_hare_lynx()
    train = year <= 1915
    mean_rmse = pelts[train].std(axis=0)
    model = CollocationNeuralODE(**HARE_LYNX_OPTIONS)
    model.fit(year[train], pelts[train])
    fit_rmse = _rmse(model.predict(year[train]), pelts[train], axis=0)
    assert fit_rmse[0] * 3 <= mean_rmse[0], (fit_rmse, mean_rmse)
    assert fit_rmse[1] * 3 <= mean_rmse[1], (fit_rmse, mean_rmse)


@_needs("cascaded_tanks.csv")
def test_cascaded_tanks_validation_rmse():
    data = datasets.load_cascaded_tanks()
    model = tanks_model()
    y_est = np.where(data["y_est"] >= datasets.TANKS_SENSOR_LIMIT, np.nan, data["y_est"])
    inputs_est = tanks_inputs(data["u_est"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=RuntimeWarning)
        model.fit(np.column_stack([data["t"], inputs_est]), y_est)
    assert model.converged_

    inputs_val = tanks_inputs(data["u_val"])
    simulated = model.simulate(data["t"], [data["y_val"][0]], inputs_val)
    measured_output = np.minimum(simulated, datasets.TANKS_SENSOR_LIMIT)
    assert _rmse(measured_output, data["y_val"]) < 0.6
    # The constant-mean predictor scores 2.10 V on the validation run.
    assert _rmse(data["y_val"].mean(), data["y_val"]) == pytest.approx(2.10, abs=0.005)


@_needs("alpha_pinene_box1973.csv")
def test_alpha_pinene_sse_near_kinetic_model():
    t, composition, species = datasets.load_alpha_pinene()
    assert species == ["alpha_pinene", "dipentene", "allo_ocimene", "pyronene", "dimer"]
    model = CollocationNeuralODE(**ALPHA_PINENE_OPTIONS)
    model.fit(t, composition)
    # Simulated from the measured initial composition, as the five-rate
    # linear kinetic model is, so the 40 later residuals compare with its 19.87.
    simulated = model.simulate(t, composition[0])
    sse = np.sum((simulated[1:] - composition[1:]) ** 2)
    assert sse <= 2 * 19.87

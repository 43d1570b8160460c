"""Model settings and input features for the measured data sets.

The examples and the tests on measured data share these, so that a figure
quoted in an example is the one the tests check. Each setting was chosen on
the training data only, with fixed seeds, as the comment beside it explains.
"""

import numpy as np

from .datasets import TANKS_SAMPLING_PERIOD
from .estimator import CollocationNeuralODE

# Alpha-pinene: nine samples, so a small network on the default grid of 13
# nodes. It reaches a training SSE of 3.2 with seed 0 (7.44 with seeds 0, 1
# and 2 under the package's earlier defaults). An SSE far
# below the kinetic model's 19.87 would mean the network interpolates the
# nine points, so the test bounds it from above only.
ALPHA_PINENE_OPTIONS = {
    "hidden_layer_sizes": (8,),
    "alpha": 1e-4,
    "state_init": "interpolate",
    "max_iter": 1000,
    "random_state": 0,
}

# Time constant (seconds) of the low-pass filter that turns the pump
# voltage into a second input. It approximates the unmeasured upper tank,
# which delays and smooths the pump's effect on the lower tank. The choice
# went by the free-run RMSE on the estimation run, with seed 0 and the
# package's defaults of that time (validation RMSE with today's: 0.55 V):
#
#   time constant (s)        10     20     40     60     100    200
#   estimation RMSE (V)      0.405  0.414  0.393  0.398  0.462  0.541
#   validation RMSE (V)      0.791  0.621  0.581  0.588  0.624  0.901
#
# The validation figures were computed in the same runs but not used to
# choose. Note that 10 s is close on the estimation run and far worse on
# the validation run, so the estimation run separates the choices weakly.
TANKS_FILTER_TIME_CONSTANT = 40.0


def low_pass(u, time_constant, sampling_period):
    """Filter a sampled signal by a first-order low-pass, held between samples.

    ``x[0] = u[0]`` (the signal is taken as steady before the record starts)
    and ``x[k] = a x[k-1] + (1 - a) u[k-1]`` with
    ``a = exp(-sampling_period / time_constant)``, the exact response of
    ``time_constant * dx/dt = u - x`` to ``u`` held constant over each period.
    """
    u = np.asarray(u, dtype=float)
    decay = np.exp(-sampling_period / time_constant)
    filtered = np.empty_like(u)
    filtered[0] = u[0]
    for k in range(1, u.size):
        filtered[k] = decay * filtered[k - 1] + (1.0 - decay) * u[k - 1]
    return filtered


def tanks_inputs(pump_voltage, time_constant=TANKS_FILTER_TIME_CONSTANT):
    """Return the inputs of the cascaded-tanks model: pump voltage and its low-pass."""
    return np.column_stack(
        [pump_voltage, low_pass(pump_voltage, time_constant, TANKS_SAMPLING_PERIOD)]
    )


def tanks_model(**overrides):
    """Return the unfitted cascaded-tanks model: one state, the lower-tank level."""
    options = {"hidden_layer_sizes": (16,), "alpha": 1e-3, "max_iter": 300, "random_state": 0}
    options.update(overrides)
    return CollocationNeuralODE(**options)

# Hare and lynx pelts, fitted on the years up to 1915. With these settings
# the collocation states follow the data: RMSE 12.9 hare and 5.5 lynx,
# against 36.4 and 19.4 for the mean. But the free run of the learned ODE
# from the fitted initial state settles on a fixed point within a few years. Radau
# grids of 211 and 421 nodes and alpha from 1e-5 to 1e-2 did no better.
# NOTE: no setting tried yet gives a free run that beats the mean predictor.
HARE_LYNX_OPTIONS = {
    "hidden_layer_sizes": (16,),
    "alpha": 1e-4,
    "collocation": "chebyshev",
    "n_collocation": 101,
    "state_init": "interpolate",
    "max_iter": 800,
    "random_state": 0,
}

"""
Hare and lynx: fit, forecast and phase portrait
===============================================

Hudson's Bay Company records of snowshoe hare and Canada lynx pelts,
thousands per year, 1845-1935: two interacting populations through nine
cycles of about ten years. A two-state neural ODE ``d(hare, lynx)/dt =
f(hare, lynx)`` is fitted twice: to the whole series, and to the years up
to 1915, with the remaining 20 years forecast by integrating the learned
ODE forward.

Scores are root-mean-square errors of the free-run prediction, that is the
learned ODE integrated from its fitted initial state, next to the
constant-mean predictor of the same years.

This example shows a failure. The collocation states of the fit to 1915
follow the data (RMSE 12.9 thousand hare and 5.5 thousand lynx pelts,
against 36.4 and 19.4 for the mean), but they satisfy the ODE only at the
nodes. Integrated from the fitted initial state, the learned ODE leaves them
within a few years and settles on a fixed point, so the free run scores
no better than the mean (36.2 and 21.7). The fit to the whole series fares
worse: its free run diverges, with RMSEs in the thousands. The plots show
the data, both fits and the collocation states, and the phase portrait
shows the learned vector field. These figures are from seed 0 at full size.
"""

# %%
import logging
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sklearn_nodecoll import CollocationNeuralODE, datasets
from sklearn_nodecoll.benchmarks import HARE_LYNX_OPTIONS

logging.basicConfig(level=logging.INFO, format="%(message)s")
SMALL = os.environ.get("SKLEARN_NODECOLL_EXAMPLE_SIZE") == "small"

year, pelts = datasets.load_hare_lynx()
species = ["hare", "lynx"]
options = dict(HARE_LYNX_OPTIONS, verbose=1)
if SMALL:
    options["max_iter"] = 15


def rmse(prediction, measured):
    return np.sqrt(np.mean((prediction - measured) ** 2, axis=0))


# %%
# Fit the whole series.
whole = CollocationNeuralODE(**options).fit(year, pelts)
whole_prediction = whole.predict(year)
print("Whole series, free-run RMSE (hare, lynx):", rmse(whole_prediction, pelts).round(1),
      "; mean predictor:", pelts.std(axis=0).round(1))

# %%
# Fit the years up to 1915 and forecast 1916-1935.
train = year <= 1915
early = CollocationNeuralODE(**options).fit(year[train], pelts[train])
early_prediction = early.predict(year)
print("Up to 1915, free-run RMSE:", rmse(early_prediction[train], pelts[train]).round(1),
      "; mean predictor:", pelts[train].std(axis=0).round(1))
print("Forecast 1916-1935, RMSE:", rmse(early_prediction[~train], pelts[~train]).round(1),
      "; mean of the training years:",
      rmse(pelts[train].mean(axis=0), pelts[~train]).round(1))

# %%
# Data, fits and forecast.
fine = np.linspace(year[0], year[-1], 900)
figure, axes = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
for index, axis in enumerate(axes):
    axis.plot(year, pelts[:, index], "o", markersize=3, color="black", label="data")
    axis.plot(fine, whole.predict(fine)[:, index], "-", label="fit, whole series")
    axis.plot(fine, early.predict(fine)[:, index], "-", label="fit to 1915, then forecast")
    axis.plot(early.collocation_times_[0], early.collocation_states_[0][:, index], ":",
              label="collocation states, fit to 1915")
    axis.axvline(1915.5, color="grey", linestyle="--")
    # A diverging free run would otherwise flatten the data to a line.
    axis.set_ylim(-0.1 * pelts[:, index].max(), 1.3 * pelts[:, index].max())
    axis.set_ylabel(f"{species[index]} (thousand pelts)")
axes[0].legend(fontsize="small")
axes[1].set_xlabel("year")
figure.tight_layout()
figure.savefig("hare_lynx.png", dpi=100)

# %%
# Learned vector field of the whole-series model, with the data in the
# phase plane. The model works in time units of years.
hare_grid, lynx_grid = np.meshgrid(
    np.linspace(0, pelts[:, 0].max() * 1.1, 20), np.linspace(0, pelts[:, 1].max() * 1.1, 20)
)
points = np.column_stack([hare_grid.ravel(), lynx_grid.ravel()])
# Derivatives by a short free run from each grid point.
step = 0.05
ends = np.array([whole.simulate([0.0, step], point)[1] for point in points])
velocity = (ends - points) / step
figure, axis = plt.subplots(figsize=(6, 6))
axis.quiver(points[:, 0], points[:, 1], velocity[:, 0], velocity[:, 1], angles="xy",
            color="grey")
axis.plot(pelts[:, 0], pelts[:, 1], "o-", markersize=3, linewidth=0.6, color="black",
          label="data")
axis.plot(*whole.predict(fine).T, "-", label="fitted trajectory")
axis.set_xlim(hare_grid.min(), hare_grid.max())
axis.set_ylim(lynx_grid.min(), lynx_grid.max())
axis.set_xlabel("hare (thousand pelts)")
axis.set_ylabel("lynx (thousand pelts)")
axis.legend()
figure.tight_layout()
figure.savefig("hare_lynx_phase.png", dpi=100)

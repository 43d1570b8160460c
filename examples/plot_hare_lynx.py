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
worse: its free run diverges, with RMSEs in the thousands.

A two-state model is unlikely to do much better. After its transient, its
free run is close to periodic. The best periodic signal that yearly samples
resolve (any period from 6 to 14 years, harmonics below 0.5 cycles per
year) has an RMSE of 31.5 hare and 9.9 lynx on the years up to 1915, with a
period of 9.73 years. That is 1.2 and 1.9 times better than the mean, not
3 times.

The plots show the data, both fits and the collocation states, and the
phase portrait shows the learned vector field. These figures are from seed 0 at full size.
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
# How far can a two-state model go? By the Poincare-Bendixson theorem, a
# bounded trajectory of an autonomous two-state ODE approaches a fixed point,
# a closed orbit, or a chain of fixed points joined by orbits. So after its
# transient it is close to periodic, or slows down near fixed points. The
# best periodic signal estimates what such a model can reach on the
# training years: any period from 6 to 14 years, a mean and every harmonic
# below 0.5 cycles per year, fitted by least squares to each species.
# Harmonics above that frequency would alias between the yearly samples,
# and with enough of them a periodic signal fits any yearly series.
t_train = year[train].astype(float)
best = None
for period in np.linspace(6.0, 14.0, 801):
    n_harmonics = int(np.ceil(period / 2)) - 1
    angles = 2 * np.pi * np.outer(t_train, np.arange(1, n_harmonics + 1)) / period
    basis = np.column_stack([np.ones_like(t_train), np.cos(angles), np.sin(angles)])
    coefficients = np.linalg.lstsq(basis, pelts[train], rcond=None)[0]
    periodic_rmse = rmse(basis @ coefficients, pelts[train])
    if best is None or periodic_rmse.sum() < best[1].sum():
        best = (period, periodic_rmse)
print(f"Best periodic signal up to 1915: period {best[0]:.2f} years, RMSE",
      best[1].round(1), "; mean predictor:", pelts[train].std(axis=0).round(1))

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

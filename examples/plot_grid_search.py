"""
=====================================================
Tuning collocation nodes, penalty and width by search
=====================================================

Three hyperparameters decide most of a fit: the number of collocation
nodes ``n_collocation``, the L2 penalty ``alpha`` and the hidden layer
width ``hidden_layer_sizes``. This example tunes them with
:class:`~sklearn.model_selection.GridSearchCV` on a forced Van der Pol
oscillator,

.. math::

    \\dot x = v, \\qquad \\dot v = (1 - x^2)\\, v - x + \\cos t,
    \\qquad (x, v)(0) = (0, 1),

sampled at 200 times on :math:`[0, 15]` with Gaussian noise of standard
deviation 0.1. The forcing :math:`u = \\cos t` is passed as an input column
of ``X``.

The folds come from :class:`~sklearn.model_selection.TimeSeriesSplit`, so
each candidate is scored on a forecast: the model is fitted on the start of
the record and integrated from its fitted initial state to the next
samples, an eighth of the record. Forecasts over a longer horizon are
dominated by the drift of the oscillator's phase and rank the candidates
poorly.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sklearn_nodecoll import CollocationNeuralODE
from sklearn_nodecoll.synthetic import make_forced_van_der_pol

small = os.environ.get("SKLEARN_NODECOLL_EXAMPLE_SIZE") == "small"

# %%
# Data
# ----
n_samples = 80 if small else 200
data = make_forced_van_der_pol(n_samples=n_samples, t_end=15.0, noise=0.1, random_state=0)
t, y = data["t"], data["y"]
X = np.column_stack([t, data["u"]])

# %%
# Search
# ------
# ``n_jobs=2`` fits two candidates at a time in separate processes.
if small:
    grid = {
        "n_collocation": [16, 31],
        "alpha": [1e-4, 1e-2],
        "hidden_layer_sizes": [(4,), (8,)],
    }
else:
    grid = {
        "n_collocation": [31, 61, 100],
        "alpha": [1e-5, 1e-3, 1e-1],
        "hidden_layer_sizes": [(8,), (16,)],
    }
search = GridSearchCV(
    CollocationNeuralODE(random_state=0),
    grid,
    cv=TimeSeriesSplit(n_splits=3, test_size=n_samples // 8),
    n_jobs=2,
)
search.fit(X, y)
print("best parameters:", search.best_params_)
print(f"best mean forecast R^2: {search.best_score_:.3f}")

# %%
# Search results
# --------------
# One panel per hidden layer width: the mean forecast :math:`R^2` over the
# folds against ``alpha``, one line per number of nodes, with the standard
# deviation over the folds as error bars. A forecast that drifts away from
# the data has a large negative :math:`R^2`, so means below -1 are drawn
# at -1.
results = search.cv_results_
widths = grid["hidden_layer_sizes"]
fig, axes = plt.subplots(1, len(widths), figsize=(5 * len(widths), 4), sharey=True)
for ax, width in zip(axes, widths):
    for n_nodes in grid["n_collocation"]:
        chosen = [
            k
            for k, params in enumerate(results["params"])
            if params["hidden_layer_sizes"] == width and params["n_collocation"] == n_nodes
        ]
        alphas = [results["params"][k]["alpha"] for k in chosen]
        ax.errorbar(
            alphas,
            np.maximum(results["mean_test_score"][chosen], -1.0),
            yerr=results["std_test_score"][chosen],
            marker="o",
            capsize=3,
            label=f"n_collocation={n_nodes}",
        )
    ax.set_xscale("log")
    ax.set_ylim(-1.1, 1.05)
    ax.set_xlabel("alpha")
    ax.set_title(f"hidden_layer_sizes={width}")
axes[0].set_ylabel("mean forecast $R^2$")
axes[0].legend(loc="lower right")
fig.tight_layout()

# %%
# The refitted best model
# -----------------------
# ``best_estimator_`` was refitted on all samples. Its trajectory from the
# fitted initial state runs through the data.
best = search.best_estimator_
t_fine = np.linspace(0.0, 15.0, 400)
y_fine = best.predict(np.column_stack([t_fine, np.cos(t_fine)]))
fig, ax = plt.subplots(figsize=(8, 3.5))
for i, name in enumerate(["x", "v"]):
    ax.plot(t, y[:, i], ".", alpha=0.5, label=f"{name} (data)")
    ax.plot(t_fine, y_fine[:, i], label=f"{name} (model)")
ax.set_xlabel("t")
ax.legend(ncol=2)
fig.tight_layout()
plt.show()

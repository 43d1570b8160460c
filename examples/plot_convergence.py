"""
=====================================
Convergence of the IPOPT optimisation
=====================================

A fit is one run of IPOPT on the whole collocation problem, so its
progress is IPOPT's: the objective (data misfit plus penalty) and the
constraint violation, the largest residual of the collocation equations
:math:`D Y - f_\\theta(Y, u)`. Both are recorded at every iteration in
``loss_curve_`` and ``constraint_violation_curve_``, with one entry for the
initial point and one per iteration. ``verbose=1`` logs one line when the
fit starts and one when it ends, and ``verbose=2`` prints IPOPT's own
iteration table.

The initial point smooths the data and sets random weights, so the
collocation equations are violated at first. IPOPT drives the violation
towards zero, and the objective may rise in early iterations while the
node states move onto a solution of the learned ODE.
"""

import logging
import os

import matplotlib.pyplot as plt
import numpy as np

from sklearn_nodecoll import CollocationNeuralODE
from sklearn_nodecoll.synthetic import make_forced_van_der_pol

small = os.environ.get("SKLEARN_NODECOLL_EXAMPLE_SIZE") == "small"
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

# %%
# Data: the forced Van der Pol oscillator of the grid-search example.
n_samples = 80 if small else 200
data = make_forced_van_der_pol(n_samples=n_samples, t_end=15.0, noise=0.1, random_state=0)
t, y = data["t"], data["y"]
X = np.column_stack([t, data["u"]])

# %%
# Fit, logging the start and the end.
model = CollocationNeuralODE(
    hidden_layer_sizes=(8,) if small else (16,),
    n_collocation=31 if small else 100,
    alpha=1e-4,
    random_state=0,
    verbose=1,
)
model.fit(X, y)
print(f"{model.n_iter_} iterations, status {model.termination_condition_}")

# %%
# Objective and constraint violation per iteration
# ------------------------------------------------
iterations = np.arange(model.n_iter_ + 1)
fig, (ax_loss, ax_violation) = plt.subplots(1, 2, figsize=(10, 4))
ax_loss.semilogy(iterations, model.loss_curve_, marker=".")
ax_loss.set_xlabel("IPOPT iteration")
ax_loss.set_ylabel("objective")
ax_violation.semilogy(iterations, model.constraint_violation_curve_, marker=".")
ax_violation.set_xlabel("IPOPT iteration")
ax_violation.set_ylabel("constraint violation")
fig.tight_layout()
plt.show()

"""
Bound a state through the Pyomo model
=====================================

With ``backend="pyomo"`` the training problem is a Pyomo model that can be
changed before solving. Here the position of a damped oscillator is bounded
above by 0.8, below its first sample of 1.0, and the fit respects the bound.
"""

# %%
# Data: a damped oscillator sampled 40 times.
import matplotlib.pyplot as plt
import numpy as np
from scipy.integrate import solve_ivp

from sklearn_nodecoll import CollocationNeuralODE

t = np.linspace(0.0, 10.0, 40)
solution = solve_ivp(
    lambda _, z: [z[1], -z[0] - 0.3 * z[1]], (0.0, 10.0), [1.0, 0.0], t_eval=t, rtol=1e-10
)
y = solution.y.T

# %%
# Build the model and bound the position. The model is in scaled units, so
# the bound goes through the estimator's ``scaling_``.
estimator = CollocationNeuralODE(
    hidden_layer_sizes=(8,), n_collocation=30, backend="pyomo", random_state=0
)
model = estimator.build_pyomo_model(t, y)
upper = estimator.scaling_.scale_states([0.8, 0.0])[0]
for node in model.nodes:
    model.y[node, 0].setub(upper)

# %%
# Fit from the changed model and compare the states at the nodes with the data.
estimator.fit_pyomo_model(model)
print(f"route: {estimator.backend_}, status: {estimator.termination_condition_}")

fig, ax = plt.subplots()
ax.plot(t, y[:, 0], "o", label="position samples")
ax.plot(estimator.collocation_times_[0], estimator.collocation_states_[0][:, 0], label="fit, x <= 0.8")
ax.axhline(0.8, color="grey", linestyle="--")
ax.set_xlabel("t")
ax.legend()
plt.show()

"""
Alpha-pinene: five species from nine uneven samples
===================================================

Thermal isomerisation of alpha-pinene, measured as the percent composition
of five species at nine times between 0 and 36,420 minutes. Four species
start at exactly zero, and the gaps between samples grow from 20 hours to
over 5 days. The five-rate linear kinetic model reaches a sum of squared
errors (SSE) of 19.87 over the 40 residuals after the initial sample.

The neural ODE below is scored the same way: simulated from the measured
initial composition, SSE over the 40 later residuals. At full size it
reaches an SSE of 3.2 with seed 0. With 93 weights for 45 numbers this
shows flexibility more than chemistry, so the plot also shows
the fitted curves between the samples, where nothing constrains them but
the ODE and the weight penalty.
"""

# %%
import logging
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sklearn_nodecoll import CollocationNeuralODE, datasets
from sklearn_nodecoll.benchmarks import ALPHA_PINENE_OPTIONS

logging.basicConfig(level=logging.INFO, format="%(message)s")
SMALL = os.environ.get("SKLEARN_NODECOLL_EXAMPLE_SIZE") == "small"

# %%
t, composition, species = datasets.load_alpha_pinene()
options = dict(ALPHA_PINENE_OPTIONS, verbose=1)
if SMALL:
    options["max_iter"] = 10
model = CollocationNeuralODE(**options).fit(t, composition)

# %%
simulated = model.simulate(t, composition[0])
sse = np.sum((simulated[1:] - composition[1:]) ** 2)
print(f"Training SSE over 40 residuals: {sse:.2f} (five-rate linear model: 19.87)")

# %%
fine = np.linspace(t[0], t[-1], 400)
curves = model.simulate(fine, composition[0])
figure, axis = plt.subplots(figsize=(8, 5))
for index, name in enumerate(species):
    (line,) = axis.plot(fine, curves[:, index], "-", label=name)
    axis.plot(t, composition[:, index], "o", color=line.get_color())
axis.set_xlabel("time (min)")
axis.set_ylabel("composition (%)")
axis.legend()
figure.tight_layout()
figure.savefig("alpha_pinene.png", dpi=100)

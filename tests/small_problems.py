"""Small data sets with known solutions, shared by the robustness tests."""

import numpy as np

# A network this small fits the data sets below in well under a second.
SMALL = dict(hidden_layer_sizes=(4,), random_state=0)


def decay_data(n=40):
    """Samples of y = exp(-t), the solution of dy/dt = -y with y(0) = 1."""
    t = np.linspace(0.0, 4.0, n)
    return t, np.exp(-t)

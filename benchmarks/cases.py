"""Data sets of the peer benchmarks, identical for every tool.

Each ``make_*`` function returns a dict with:

``t``, ``y``, ``u``
    Training samples: times (n,), states (n, n_states), inputs (n, n_inputs)
    or None. Every tool fits these and nothing else.
``train_t``, ``train_y0``, ``train_truth``
    Train score: the learned ODE is rolled out from ``train_y0`` at
    ``train_t[0]`` and compared with the noise-free ``train_truth``.
``test_t``, ``test_u``, ``test_truth``
    Test score: rollout from the true state ``test_truth[0]`` at
    ``test_t[0]``.

Robertson states are divided by each species' largest value, so that all
three columns are of order one for every tool.
"""

import numpy as np
from scipy.integrate import solve_ivp

from sklearn_nodecoll.synthetic import make_forced_van_der_pol

ROBERTSON_RATES = (0.04, 3e7, 1e4)


def make_van_der_pol_case(with_input=True, n_samples=200, t_end=15.0):
    """Forced Van der Pol oscillator on [0, t_end], test span [t_end, t_end + 15] (400 points)."""
    data = make_forced_van_der_pol(n_samples=n_samples, t_end=t_end, test_end=t_end + 15.0)
    return {
        "t": data["t"],
        "y": data["y"],
        "u": data["u"] if with_input else None,
        "train_t": data["t"],
        "train_y0": np.array([0.0, 1.0]),
        "train_truth": data["y_true"],
        "test_t": data["t_test"],
        "test_u": data["u_test"] if with_input else None,
        "test_truth": data["y_test"],
    }


def robertson(t, y, k1, k2, k3):
    """Right-hand side of Robertson's three-species kinetics."""
    a, b, c = y
    return [-k1 * a + k3 * b * c, k1 * a - k2 * b**2 - k3 * b * c, k2 * b**2]


def simulate_robertson(t, y0=(1.0, 0.0, 0.0), t0=0.0, rates=ROBERTSON_RATES):
    """Integrate Robertson's kinetics with Radau at tight tolerance from ``y0`` at ``t0``."""
    solution = solve_ivp(
        robertson,
        (t0, t[-1]),
        np.asarray(y0, dtype=float),
        t_eval=t,
        args=rates,
        method="Radau",
        rtol=1e-10,
        atol=1e-14,
    )
    return solution.y.T


def make_robertson_case(n_samples=40, n_test=20):
    """Robertson kinetics, ``n_samples`` log-spaced noise-free samples on [1e-1, 1e5].

    The test span is [1e5, 1e6] with ``n_test`` log-spaced points.
    """
    t = np.logspace(-1, 5, n_samples)
    t_test = np.logspace(5, 6, n_test)
    y = simulate_robertson(t)
    y_test = simulate_robertson(t_test)
    scale = np.abs(np.vstack([y, y_test])).max(axis=0)
    y, y_test = y / scale, y_test / scale
    return {
        "t": t,
        "y": y,
        "u": None,
        "train_t": t,
        "train_y0": y[0],
        "train_truth": y,
        "test_t": t_test,
        "test_u": None,
        "test_truth": y_test,
    }


def lorenz96(t, x, forcing):
    """Right-hand side of Lorenz-96: ``x_i' = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F``."""
    return (np.roll(x, -1) - np.roll(x, 2)) * np.roll(x, 1) - x + forcing


def make_lorenz96_case(n_states, n_samples=500, t_end=2.0, forcing=8.0, noise=0.1, seed=0):
    """Lorenz-96 with ``n_states >= 4`` states from a perturbed equilibrium.

    The equilibrium is ``x_i = F``; the first state starts 0.5 above it and
    random offsets of standard deviation 1 are added to all states, so the
    trajectory leaves the equilibrium at once. Test span: [t_end, 1.5 t_end].
    """
    if n_states < 4:
        raise ValueError(f"Lorenz-96 needs n_states >= 4, got {n_states}.")
    rng = np.random.default_rng(seed)
    x0 = forcing + rng.standard_normal(n_states)
    x0[0] += 0.5
    t = np.linspace(0.0, t_end, n_samples)
    t_test = np.linspace(t_end, 1.5 * t_end, n_samples // 2)
    t_all = np.concatenate([t, t_test[1:]])
    solution = solve_ivp(
        lorenz96, (0.0, t_all[-1]), x0, t_eval=t_all, args=(forcing,), rtol=1e-10, atol=1e-10
    )
    truth = solution.y.T
    y_true, y_test = truth[:n_samples], truth[n_samples - 1 :]
    return {
        "t": t,
        "y": y_true + noise * rng.standard_normal(y_true.shape),
        "u": None,
        "train_t": t,
        "train_y0": x0,
        "train_truth": y_true,
        "test_t": t_test,
        "test_u": None,
        "test_truth": y_test,
    }

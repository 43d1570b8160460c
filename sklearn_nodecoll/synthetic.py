"""Simulated data sets with known dynamics, for examples, tests and benchmarks."""

import numpy as np
from scipy.integrate import solve_ivp


def forced_van_der_pol(t, state, mu=1.0, amplitude=1.0, frequency=1.0):
    """Right-hand side of ``x' = v, v' = mu (1 - x^2) v - x + A cos(w t)``."""
    x, v = state
    return [v, mu * (1.0 - x**2) * v - x + amplitude * np.cos(frequency * t)]


def simulate_forced_van_der_pol(t, y0=(0.0, 1.0), mu=1.0, amplitude=1.0, frequency=1.0):
    """Integrate the forced Van der Pol oscillator to tight tolerance.

    Parameters
    ----------
    t : array-like of shape (n_times,)
        Increasing times; the state is ``y0`` at ``t[0]``.
    y0 : array-like of shape (2,), default=(0, 1)
    mu, amplitude, frequency : float, default=1
        Damping, forcing amplitude A and forcing angular frequency w.

    Returns
    -------
    states : ndarray of shape (n_times, 2)
        Position x and velocity v.

    Examples
    --------
    >>> from sklearn_nodecoll.synthetic import simulate_forced_van_der_pol
    >>> simulate_forced_van_der_pol([0.0, 1.0]).shape
    (2, 2)
    """
    t = np.asarray(t, dtype=float)
    solution = solve_ivp(
        forced_van_der_pol,
        (t[0], t[-1]),
        np.asarray(y0, dtype=float),
        t_eval=t,
        args=(mu, amplitude, frequency),
        method="DOP853",
        rtol=1e-10,
        atol=1e-12,
    )
    return solution.y.T


def make_forced_van_der_pol(
    n_samples=200,
    t_end=15.0,
    noise=0.1,
    n_test=400,
    test_end=30.0,
    random_state=0,
):
    """Make the forced Van der Pol case study of Shapovalova and Tsay (2025).

    ``x' = v, v' = (1 - x^2) v - x + cos t`` from ``(0, 1)`` at ``t = 0``,
    sampled at ``n_samples`` uniform times on ``[0, t_end]`` with Gaussian
    noise of standard deviation ``noise`` on both states. The test span
    ``[t_end, test_end]`` has ``n_test`` noise-free points.

    Returns
    -------
    data : dict
        ``t``, ``y`` (noisy), ``y_true`` (noise-free), ``u`` (the forcing
        ``cos t`` as an input column), and ``t_test``, ``y_test``,
        ``u_test`` for the test span.

    Examples
    --------
    >>> from sklearn_nodecoll.synthetic import make_forced_van_der_pol
    >>> data = make_forced_van_der_pol()
    >>> data["y"].shape, data["y_test"].shape
    ((200, 2), (400, 2))
    """
    rng = np.random.default_rng(random_state)
    t = np.linspace(0.0, t_end, n_samples)
    y_true = simulate_forced_van_der_pol(t)
    t_test = np.linspace(t_end, test_end, n_test)
    y_test = simulate_forced_van_der_pol(t_test, y0=y_true[-1])
    return {
        "t": t,
        "y": y_true + noise * rng.standard_normal(y_true.shape),
        "y_true": y_true,
        "u": np.cos(t)[:, None],
        "t_test": t_test,
        "y_test": y_test,
        "u_test": np.cos(t_test)[:, None],
    }

"""Integrate a fitted network ODE with scipy; needs only numpy and scipy.

Everything here works on plain arrays, so that a fitted model predicts in a
process where neither CasADi nor Pyomo can be imported.
"""

import warnings

import numpy as np
from scipy.integrate import solve_ivp

from . import network
from .exceptions import IntegrationError

# A scaled state beyond this magnitude is taken as a blow-up. Scaled training
# states are of order one, so a model that leaves them by six orders of
# magnitude has diverged.
BLOW_UP_THRESHOLD = 1e6


def make_input_function(times, values, rule):
    """Return ``u(t)`` interpolating input samples by the declared rule.

    Parameters
    ----------
    times : ndarray of shape (n_samples,)
        Sorted sample times; repeated times are averaged.
    values : ndarray of shape (n_samples, n_inputs)
    rule : {"linear", "previous"}
        ``"linear"`` interpolates linearly between samples; ``"previous"``
        holds each sample until the next one (zero-order hold).

    Returns
    -------
    input_function : callable
        Maps a scalar or an array of times of shape (n,) to shape
        (n_inputs,) or (n, n_inputs). Outside the samples it returns the
        first or last sample; callers check the range.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll.simulation import make_input_function
    >>> u = make_input_function(np.array([0.0, 1.0]), np.array([[0.0], [2.0]]), "linear")
    >>> u(0.25).tolist()
    [0.5]
    """
    times, inverse = np.unique(times, return_inverse=True)
    sums = np.zeros((times.size, values.shape[1]))
    np.add.at(sums, inverse, values)
    values = sums / np.bincount(inverse, minlength=times.size)[:, None]

    if rule == "linear":

        def input_function(t):
            t = np.asarray(t, dtype=float)
            columns = [np.interp(t, times, values[:, j]) for j in range(values.shape[1])]
            return np.stack(columns, axis=-1)

    elif rule == "previous":

        def input_function(t):
            t = np.asarray(t, dtype=float)
            index = np.clip(np.searchsorted(times, t, side="right") - 1, 0, times.size - 1)
            return values[index]

    else:
        raise ValueError(f"input interpolation must be 'linear' or 'previous', got {rule!r}.")
    return input_function


def integrate(
    coefs,
    intercepts,
    activation,
    t_eval,
    z0,
    t0,
    input_function=None,
    method="LSODA",
    rtol=1e-6,
    atol=1e-8,
    to_user_time=None,
    t_end=None,
):
    """Integrate ``dz/dtau = f([z, u(tau)])`` from ``z0`` at ``t0`` in scaled units.

    Times before ``t0`` are reached by integrating backwards.

    Parameters
    ----------
    coefs, intercepts : lists of ndarray
        The network, as from :func:`network.unpack`.
    activation : str
    t_eval : ndarray of shape (n_times,)
        Scaled times, in any order, repeats allowed.
    z0 : ndarray of shape (n_states,)
        Scaled state at ``t0``.
    t0 : float
    input_function : callable or None
        Scaled inputs as a function of scaled time.
    method, rtol, atol
        Passed to :func:`scipy.integrate.solve_ivp`.
    to_user_time : callable or None
        Converts a scaled time to user units for error messages.
    t_end : float or None
        Integrate forwards at least to this scaled time, so that the steps
        taken do not depend on which times are requested.

    Returns
    -------
    states : ndarray of shape (n_times, n_states)

    Raises
    ------
    IntegrationError
        If the solution blows up or the integrator fails; the message
        names the time reached.
    """
    t_eval = np.asarray(t_eval, dtype=float)
    z0 = np.asarray(z0, dtype=float)
    n_states = z0.shape[0]
    states = np.empty((t_eval.size, n_states))
    to_user_time = to_user_time or (lambda tau: tau)

    if input_function is None:

        def augmented(tau, z):
            return z

    else:

        def augmented(tau, z):
            return np.concatenate([z, np.atleast_1d(input_function(tau))])

    # Last time at which the integrator saw a finite state and derivative,
    # the best available estimate of where a failed integration stopped:
    # with t_eval, solve_ivp reports only the requested times it reached.
    last_finite = {"tau": t0}

    def rhs(tau, z):
        derivative = network.forward(augmented(tau, z)[None, :], coefs, intercepts, activation)[0]
        if np.all(np.isfinite(z)) and np.all(np.isfinite(derivative)):
            last_finite["tau"] = tau
        return derivative

    def jacobian(tau, z):
        return network.input_jacobian(augmented(tau, z), coefs, intercepts, activation)[:, :n_states]

    def blow_up(tau, z):
        return BLOW_UP_THRESHOLD - np.max(np.abs(z))

    blow_up.terminal = True
    implicit = method in ("Radau", "BDF", "LSODA")

    at_start = t_eval == t0
    states[at_start] = z0
    for direction in (1.0, -1.0):
        selected = np.flatnonzero(direction * (t_eval - t0) > 0)
        if selected.size == 0:
            continue
        targets = np.unique(t_eval[selected])
        if direction < 0:
            targets = targets[::-1]
        bound = targets[-1]
        if direction > 0 and t_end is not None:
            bound = max(bound, t_end)
        with warnings.catch_warnings():
            # The failure is reported below with the time it happened.
            warnings.simplefilter("ignore")
            with np.errstate(over="ignore", invalid="ignore"):
                solution = solve_ivp(
                    rhs,
                    (t0, bound),
                    z0,
                    method=method,
                    dense_output=True,
                    rtol=rtol,
                    atol=atol,
                    events=blow_up,
                    jac=jacobian if implicit else None,
                )
        if solution.status == 1:
            blow_up_time = solution.t_events[0][0]
            raise IntegrationError(
                f"The learned ODE blew up at t={to_user_time(blow_up_time):.6g}: a scaled "
                f"state exceeded {BLOW_UP_THRESHOLD:.0e}. The model is not reliable that "
                "far from the training data; predict over a shorter horizon."
            )
        if solution.status != 0 or not np.all(np.isfinite(solution.y)):
            # solve_ivp can report success although the states became NaN.
            reason = solution.message if solution.status != 0 else "the states became NaN or infinite"
            raise IntegrationError(
                f"Integration with {method} failed near t={to_user_time(last_finite['tau']):.6g} "
                f"before reaching t={to_user_time(bound):.6g}: {reason}. Check that "
                "the inputs are finite over the whole time span."
            )
        states[selected] = solution.sol(t_eval[selected]).T
    return states

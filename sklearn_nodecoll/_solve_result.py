"""The outcome of one IPOPT solve, shared by all backends.

Kept apart from the backends so that code reading a result, such as the
ADMM meta-estimator, imports neither CasADi nor Pyomo.
"""

from dataclasses import dataclass, field

import numpy as np

# IPOPT return statuses after which the iterate is a local optimum.
CONVERGED_STATUSES = ("Solve_Succeeded", "Solved_To_Acceptable_Level")
# Statuses after which the last iterate is kept and a ConvergenceWarning raised.
LIMIT_STATUSES = (
    "Maximum_Iterations_Exceeded",
    "Maximum_CpuTime_Exceeded",
    "Maximum_WallTime_Exceeded",
    "User_Requested_Stop",
)


@dataclass
class SolveResult:
    """Outcome of one IPOPT solve.

    Attributes
    ----------
    states : ndarray of shape (n_nodes, n_states)
    params : ndarray of shape (n_parameters,)
    status : str
        IPOPT's return status, for example ``"Solve_Succeeded"``.
    success : bool
        Whether ``status`` is one of :data:`CONVERGED_STATUSES`.
    n_iter : int
    objective : float
    build_time, solve_time : float
        Seconds spent building the program and inside IPOPT.
    history : dict of str to ndarray
        Per-iteration ``objective``, ``constraint_violation`` and
        ``dual_infeasibility`` from IPOPT's iteration log.
    backend : str
        The backend and, for Pyomo, the route to IPOPT that produced this.
    nl_write_time : float
        Seconds spent writing an NL file; zero when none was written.
    multipliers : ndarray of shape (n_constraints,) or None
        Constraint multipliers at the last iterate, where the backend
        reports them.
    """

    states: np.ndarray
    params: np.ndarray
    status: str
    success: bool
    n_iter: int
    objective: float
    build_time: float
    solve_time: float
    history: dict = field(default_factory=dict)
    backend: str = "casadi"
    nl_write_time: float = 0.0
    multipliers: np.ndarray = None

"""Exceptions raised by sklearn-nodecoll."""


class SolverError(RuntimeError):
    """IPOPT failed to solve the training problem.

    Attributes
    ----------
    status : str
        IPOPT's return status, for example ``"Restoration_Failed"``.
    n_attempts : int
        Number of solves tried, the first one included.
    """

    def __init__(self, message, status, n_attempts=1):
        super().__init__(message)
        self.status = status
        self.n_attempts = n_attempts


class IntegrationError(RuntimeError):
    """Integrating the learned ODE failed or the solution blew up."""

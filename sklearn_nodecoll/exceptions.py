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

    def __reduce__(self):
        # The default reduction passes only the message back to __init__,
        # which also needs the status; joblib workers pickle exceptions.
        return (type(self), (self.args[0], self.status, self.n_attempts))


class IntegrationError(RuntimeError):
    """Integrating the learned ODE failed or the solution blew up."""


class UntrustedTypeError(ValueError):
    """A model file names a type that loading it would have to construct or import.

    Raised by :func:`sklearn_nodecoll.persistence.load_model` before any such
    type is imported, so a tampered file cannot run code.
    """


class ModelVersionWarning(UserWarning):
    """A loaded model was saved by another release of sklearn-nodecoll.

    Its predictions may differ from those the saving release gave; refit
    the model or use the release it was saved with.
    """

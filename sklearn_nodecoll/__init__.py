"""Neural ODEs trained by simultaneous collocation and IPOPT, as scikit-learn estimators."""

from .estimator import CollocationNeuralODE
from .exceptions import IntegrationError, SolverError

__version__ = "0.1.0"

__all__ = ["CollocationNeuralODE", "IntegrationError", "SolverError", "__version__"]

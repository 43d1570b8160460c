"""Neural ODEs trained by simultaneous collocation and IPOPT, as scikit-learn estimators."""

from .admm import BatchedADMMRegressor
from .estimator import CollocationNeuralODE
from .exceptions import IntegrationError, SolverError

__version__ = "0.1.0"

__all__ = ["BatchedADMMRegressor", "CollocationNeuralODE", "IntegrationError", "SolverError", "__version__"]

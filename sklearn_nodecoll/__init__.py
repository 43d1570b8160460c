"""Neural ODEs trained by simultaneous collocation and IPOPT, as scikit-learn estimators."""

from .admm import BatchedADMMRegressor
from .estimator import CollocationNeuralODE
from .exceptions import IntegrationError, ModelVersionWarning, SolverError, UntrustedTypeError
from .persistence import load_model, save_model

__version__ = "0.1.0"

__all__ = [
    "BatchedADMMRegressor",
    "CollocationNeuralODE",
    "IntegrationError",
    "ModelVersionWarning",
    "SolverError",
    "UntrustedTypeError",
    "__version__",
    "load_model",
    "save_model",
]

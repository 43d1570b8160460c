"""Save and load fitted models in a format that cannot run code when loaded.

Pickle and joblib files can execute arbitrary code on load, so share those
only between parties who trust each other. :func:`save_model` writes a
NumPy ``.npz`` archive instead: the numeric arrays of the model, plus one
JSON document that describes the model's attributes and refers to those
arrays by key. :func:`load_model` reads the archive with
``allow_pickle=False`` and constructs only the types listed in
:data:`TRUSTED_TYPES`; a file that names any other type, or that carries a
pickled (object) array, raises :class:`UntrustedTypeError` before anything
from it is imported or unpickled.

A model file records the sklearn-nodecoll release that wrote it, and loading
it under another release raises :class:`ModelVersionWarning`. Pickle and
joblib round trips get the same check through the estimator's
``__setstate__``.
"""

import importlib
import json
import warnings
import zipfile

import numpy as np

from .exceptions import ModelVersionWarning, UntrustedTypeError

FORMAT_NAME = "sklearn-nodecoll-model"
FORMAT_VERSION = 1

# The only classes load_model constructs, as "module.ClassName". A class
# listed here must keep its whole state in its instance __dict__.
TRUSTED_TYPES = frozenset(
    {
        "sklearn_nodecoll.estimator.CollocationNeuralODE",
        "sklearn_nodecoll.problem.Scaling",
    }
)

_METADATA_KEY = "model.json"
_TYPE_TAG = "__type__"


def package_version():
    """Return the installed sklearn-nodecoll version string."""
    # Imported here because the package __init__ imports the estimator,
    # which imports this module.
    from . import __version__

    return __version__


def warn_on_version_mismatch(model):
    """Warn with :class:`ModelVersionWarning` if ``model`` was fitted by another release.

    Models without the ``_sklearn_nodecoll_version`` attribute (unfitted
    ones) pass silently.
    """
    saved = getattr(model, "_sklearn_nodecoll_version", None)
    if saved is None:
        return
    current = package_version()
    if saved != current:
        warnings.warn(
            f"This {type(model).__name__} was fitted with sklearn-nodecoll {saved} and "
            f"is loaded with version {current}; its predictions may differ. Refit the "
            f"model, or load it with sklearn-nodecoll {saved}.",
            ModelVersionWarning,
            stacklevel=3,
        )


def _qualified_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


class _Encoder:
    """Turn a model into JSON-compatible nodes, collecting its arrays by key."""

    def __init__(self):
        self.arrays = {}

    def add_array(self, array):
        key = f"array_{len(self.arrays)}"
        self.arrays[key] = array
        return {_TYPE_TAG: "ndarray", "key": key}

    def encode(self, value, path):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, np.generic):
            return value
        if isinstance(value, (np.ndarray, np.generic)):
            return self.encode_array(np.asarray(value), path, scalar=isinstance(value, np.generic))
        if isinstance(value, list):
            return [self.encode(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, tuple):
            return {
                _TYPE_TAG: "tuple",
                "items": [self.encode(item, f"{path}[{i}]") for i, item in enumerate(value)],
            }
        if isinstance(value, dict):
            return self.encode_dict(value, path)
        if isinstance(value, np.random.RandomState):
            return {_TYPE_TAG: "RandomState", "state": self.encode(value.get_state(), path)}
        name = _qualified_name(type(value))
        if name in TRUSTED_TYPES:
            return {
                _TYPE_TAG: "object",
                "class": name,
                "state": self.encode_dict(vars(value), path)["items"],
            }
        raise TypeError(
            f"{path or 'The model'} is a {name}, which save_model cannot store safely; the format "
            f"holds numbers, strings, arrays, lists, tuples, dicts and the types "
            f"{sorted(TRUSTED_TYPES)}. Use pickle or joblib for such models."
        )

    def encode_dict(self, value, path):
        items = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has the key {key!r}; save_model stores only string keys.")
            items[key] = self.encode(item, f"{path}.{key}" if path else key)
        return {_TYPE_TAG: "dict", "items": items}

    def encode_array(self, array, path, scalar):
        if array.dtype.hasobject:
            if not all(isinstance(item, str) for item in array.ravel()):
                raise TypeError(
                    f"{path} is an object array with non-string entries, which "
                    "save_model cannot store without pickle."
                )
            return {
                _TYPE_TAG: "str_array",
                "shape": list(array.shape),
                "values": array.ravel().tolist(),
            }
        node = self.add_array(array)
        node["scalar"] = scalar
        return node


class _Decoder:
    """Rebuild values from JSON nodes, constructing only trusted types."""

    def __init__(self, archive):
        self.archive = archive

    def decode(self, node):
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict):
            return node
        tag = node.get(_TYPE_TAG)
        if tag == "ndarray":
            return self.decode_array(node)
        if tag == "str_array":
            values = np.empty(len(node["values"]), dtype=object)
            values[:] = [str(item) for item in node["values"]]
            return values.reshape(node["shape"])
        if tag == "tuple":
            return tuple(self.decode(item) for item in node["items"])
        if tag == "dict":
            return {str(key): self.decode(item) for key, item in node["items"].items()}
        if tag == "RandomState":
            random_state = np.random.RandomState()
            random_state.set_state(self.decode(node["state"]))
            return random_state
        if tag == "object":
            return self.decode_object(node)
        raise UntrustedTypeError(
            f"The model file contains an entry of unknown type {tag!r}; only files "
            f"written by save_model can be loaded."
        )

    def decode_array(self, node):
        key = node["key"]
        if key not in self.archive.files:
            raise ValueError(f"The model file refers to array {key!r}, which it does not contain.")
        try:
            array = self.archive[key]
        except ValueError as error:
            raise UntrustedTypeError(
                f"Array {key!r} of the model file contains pickled Python objects, which "
                "could run code when loaded, so the file is rejected."
            ) from error
        return array[()] if node.get("scalar") else array

    def decode_object(self, node):
        name = node.get("class")
        if name not in TRUSTED_TYPES:
            raise UntrustedTypeError(
                f"The model file requests an object of type {name!r}, which is not one "
                f"of the trusted types {sorted(TRUSTED_TYPES)}; the file is rejected "
                "without importing it."
            )
        module_name, class_name = name.rsplit(".", 1)
        cls = getattr(importlib.import_module(module_name), class_name)
        instance = cls.__new__(cls)
        instance.__dict__.update(
            {str(key): self.decode(item) for key, item in node["state"].items()}
        )
        return instance


def save_model(model, path):
    """Write a fitted model to ``path`` as a NumPy ``.npz`` archive.

    Parameters
    ----------
    model : CollocationNeuralODE
        A fitted estimator.
    path : str or path-like
        Destination; written as given, with no suffix added.

    Raises
    ------
    TypeError
        If an attribute or parameter of the model has a type that the format
        cannot hold, for example a callable; the message names it.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_nodecoll import CollocationNeuralODE, load_model, save_model
    >>> t = np.linspace(0, 3, 30)
    >>> model = CollocationNeuralODE(hidden_layer_sizes=(3,), random_state=0).fit(t, np.exp(-t))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> save_model(model, path)
    >>> bool((load_model(path).predict(t) == model.predict(t)).all())
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if hasattr(model, "consensus_estimator_"):
        raise TypeError(
            f"save_model stores a CollocationNeuralODE, got a {type(model).__name__}. Save "
            "its consensus_estimator_, a plain fitted CollocationNeuralODE, instead."
        )
    encoder = _Encoder()
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": package_version(),
        "model": encoder.encode(model, ""),
    }
    metadata = np.array(json.dumps(document))
    with open(path, "wb") as file:
        np.savez_compressed(file, **{_METADATA_KEY: metadata}, **encoder.arrays)


def load_model(path):
    """Read a model written by :func:`save_model`, without running code from the file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model : CollocationNeuralODE

    Raises
    ------
    UntrustedTypeError
        If the file names a type outside :data:`TRUSTED_TYPES` or contains
        a pickled array.
    ValueError
        If the file is not a model file of this format.

    Warns
    -----
    ModelVersionWarning
        If the model was saved by another release of sklearn-nodecoll.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{path} is not a model file written by save_model (a NumPy .npz archive); "
            "pickle files must be opened with pickle or joblib, and only if trusted."
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} contains a single array, not a model file written by save_model.")
    with archive:
        if _METADATA_KEY not in archive.files:
            raise ValueError(f"{path} has no {_METADATA_KEY!r} entry; it was not written by save_model.")
        try:
            model = _decode_document(path, archive)
        except (UntrustedTypeError, ValueError):
            raise
        except (
            KeyError,
            TypeError,
            AttributeError,
            IndexError,
            RecursionError,
            OSError,
            EOFError,
            zipfile.BadZipFile,
        ) as error:
            # A damaged or hand-edited file.
            raise ValueError(
                f"{path} is not a valid model file written by save_model: "
                f"{type(error).__name__}: {error}"
            ) from error
    from .estimator import CollocationNeuralODE

    if not isinstance(model, CollocationNeuralODE):
        raise ValueError(
            f"{path} contains a {type(model).__name__}, not a CollocationNeuralODE; it was not "
            "written by save_model."
        )
    warn_on_version_mismatch(model)
    return model


def _decode_document(path, archive):
    document = json.loads(str(archive[_METADATA_KEY]))
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ValueError(f"{path} has format {found!r}, expected {FORMAT_NAME!r}.")
    version = document.get("format_version", 0)
    if not isinstance(version, int):
        raise ValueError(f"{path} has format version {version!r}, expected an integer.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} uses format version {version}, but this release reads up to "
            f"version {FORMAT_VERSION}; upgrade sklearn-nodecoll."
        )
    return _Decoder(archive).decode(document["model"])

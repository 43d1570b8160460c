"""Model files: pickle, joblib and the safe npz + JSON format."""

import io
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import sklearn_nodecoll
from sklearn_nodecoll import (
    CollocationNeuralODE,
    ModelVersionWarning,
    UntrustedTypeError,
    load_model,
    save_model,
)

REPOSITORY_ROOT = Path(sklearn_nodecoll.__file__).resolve().parent.parent


def forced_data(n=40):
    t = np.linspace(0.0, 6.0, n)
    u = np.sin(t)
    y = np.column_stack([0.5 * (np.sin(t) - np.cos(t) + np.exp(-t)), np.exp(-0.3 * t)])
    return t, u, y


@pytest.fixture(scope="module")
def model():
    t, u, y = forced_data()
    X = pd.DataFrame({"time": np.concatenate([t, t]), "u": np.concatenate([u, 0.5 * u])})
    ids = np.repeat(["run a", "run b"], t.size)
    return CollocationNeuralODE(hidden_layer_sizes=(5,), random_state=0).fit(
        X, np.vstack([y, 0.8 * y]), trajectory=ids
    )


def new_X():
    t = np.linspace(0.0, 8.0, 17)
    return pd.DataFrame({"time": np.concatenate([t, t]), "u": np.cos(np.concatenate([t, t]))})


NEW_IDS = np.repeat(["run a", "run b"], 17)


def max_difference(first, second):
    return float(np.max(np.abs(first.predict(new_X(), NEW_IDS) - second.predict(new_X(), NEW_IDS))))


def test_pickle_round_trip(model):
    assert max_difference(pickle.loads(pickle.dumps(model)), model) == 0.0


def test_joblib_round_trip(model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    assert max_difference(joblib.load(path), model) == 0.0


def leaf_types(value, path="model"):
    """Yield (path, type) of every value a fitted model holds, recursively."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from leaf_types(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_types(item, f"{path}[{key!r}]")
    elif hasattr(value, "__dict__") and type(value).__module__.startswith("sklearn_nodecoll"):
        for key, item in vars(value).items():
            yield from leaf_types(item, f"{path}.{key}")
    else:
        yield path, type(value)


def test_fitted_model_holds_no_solver_object(model):
    for path, value_type in leaf_types(model):
        module = value_type.__module__.split(".")[0]
        assert module in ("builtins", "numpy"), f"{path} is a {value_type}"


PREDICT_WITHOUT_SOLVERS = textwrap.dedent(
    """
    import importlib.abc
    import sys

    class BlockSolvers(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("casadi", "pyomo"):
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, BlockSolvers())

    import numpy as np
    import pandas as pd

    for name in ("casadi", "pyomo"):
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{name} was importable")

    loader, path, expected_path = sys.argv[1:4]
    if loader == "pickle":
        import pickle
        with open(path, "rb") as file:
            model = pickle.load(file)
    else:
        from sklearn_nodecoll import load_model
        model = load_model(path)
    t = np.linspace(0.0, 8.0, 17)
    X = pd.DataFrame({"time": np.concatenate([t, t]), "u": np.cos(np.concatenate([t, t]))})
    predicted = model.predict(X, np.repeat(["run a", "run b"], 17))
    print(float(np.max(np.abs(predicted - np.load(expected_path)))))
    print(sorted(name for name in sys.modules if name.split(".")[0] in ("casadi", "pyomo")))
    """
)


@pytest.mark.parametrize("loader", ["pickle", "load_model"])
def test_predict_without_solvers(model, tmp_path, loader):
    path = tmp_path / "model.bin"
    if loader == "pickle":
        path.write_bytes(pickle.dumps(model))
    else:
        save_model(model, path)
    expected_path = tmp_path / "expected.npy"
    np.save(expected_path, model.predict(new_X(), NEW_IDS))
    script = tmp_path / "predict.py"
    script.write_text(PREDICT_WITHOUT_SOLVERS)
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY_ROOT))
    completed = subprocess.run(
        [sys.executable, str(script), loader, str(path), str(expected_path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    difference, imported = completed.stdout.split("\n")[:2]
    assert float(difference) == 0.0
    assert imported == "[]"


# ----------------------------------------------------------------------
# Safe format


def test_save_load_round_trip(model, tmp_path):
    path = tmp_path / "model.nodecoll"
    save_model(model, path)
    assert path.exists()  # written as given, no suffix appended
    loaded = load_model(path)
    assert max_difference(loaded, model) == 0.0
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    np.testing.assert_array_equal(loaded.trajectories_, model.trajectories_)
    assert loaded.layer_sizes_ == model.layer_sizes_
    assert loaded.converged_ is model.converged_
    assert type(loaded.n_iter_) is type(model.n_iter_)
    assert loaded._sklearn_nodecoll_version == sklearn_nodecoll.__version__
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        loaded.predict(new_X().to_numpy(), NEW_IDS)


def test_save_load_random_state_instance(tmp_path):
    t = np.linspace(0.0, 4.0, 30)
    random_state = np.random.RandomState(7)
    fitted = CollocationNeuralODE(hidden_layer_sizes=(3,), random_state=random_state)
    fitted.fit(t, np.exp(-t))
    save_model(fitted, tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    assert isinstance(loaded.random_state, np.random.RandomState)
    assert loaded.random_state.randint(1 << 30) == fitted.random_state.randint(1 << 30)


def test_save_rejects_unfitted_and_unsafe(model, tmp_path):
    with pytest.raises(NotFittedError):
        save_model(CollocationNeuralODE(), tmp_path / "unfitted.npz")
    unsafe = pickle.loads(pickle.dumps(model))
    unsafe.solver_options = {"callback": print}
    with pytest.raises(TypeError, match=r"solver_options\.callback is a builtins\.builtin_function"):
        save_model(unsafe, tmp_path / "unsafe.npz")


def read_archive(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def write_archive(path, entries):
    # allow_pickle is only needed to plant the object array of the attack.
    with open(path, "wb") as file:
        np.savez(file, **entries, allow_pickle=True)


def tamper_metadata(source, target, edit):
    entries = read_archive(source)
    document = json.loads(str(entries["model.json"]))
    edit(document)
    entries["model.json"] = np.array(json.dumps(document))
    write_archive(target, entries)


def test_tampered_class_rejected(model, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "payload_module.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n\nclass Payload:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    save_model(model, tmp_path / "clean.npz")

    def swap_class(document):
        document["model"]["class"] = "payload_module.Payload"

    tamper_metadata(tmp_path / "clean.npz", tmp_path / "tampered.npz", swap_class)
    with pytest.raises(UntrustedTypeError, match="'payload_module.Payload', which is not one of the trusted"):
        load_model(tmp_path / "tampered.npz")
    assert not marker.exists()
    assert "payload_module" not in sys.modules


def test_tampered_nested_type_rejected(model, tmp_path):
    save_model(model, tmp_path / "clean.npz")

    def add_unknown_node(document):
        document["model"]["state"]["solver_options"] = {"__type__": "os.system", "args": ["true"]}

    tamper_metadata(tmp_path / "clean.npz", tmp_path / "tampered.npz", add_unknown_node)
    with pytest.raises(UntrustedTypeError, match="unknown type 'os.system'"):
        load_model(tmp_path / "tampered.npz")


class CreateDirectoryOnUnpickle:
    """An object whose unpickling creates a directory, standing in for any code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_tampered_pickled_array_rejected(model, tmp_path):
    save_model(model, tmp_path / "clean.npz")
    marker = tmp_path / "unpickled"
    entries = read_archive(tmp_path / "clean.npz")
    payload = np.empty(1, dtype=object)
    payload[0] = CreateDirectoryOnUnpickle(marker)
    entries["array_0"] = payload
    write_archive(tmp_path / "tampered.npz", entries)

    with pytest.raises(UntrustedTypeError, match="'array_0' of the model file contains pickled Python objects"):
        load_model(tmp_path / "tampered.npz")
    assert not marker.exists()


def test_load_rejects_pickle_file(model, tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    with pytest.raises(ValueError, match="not a model file written by save_model"):
        load_model(path)


# ----------------------------------------------------------------------
# Versions


def with_version(model, version):
    copy = pickle.loads(pickle.dumps(model))
    copy._sklearn_nodecoll_version = version
    return copy


def test_pickle_version_mismatch_warns(model):
    data = pickle.dumps(with_version(model, "0.0.1"))
    with pytest.warns(ModelVersionWarning, match=r"fitted with sklearn-nodecoll 0\.0\.1 and is loaded with version 0\.1\.0"):
        loaded = pickle.loads(data)
    assert loaded._sklearn_nodecoll_version == "0.0.1"
    with pytest.warns(ModelVersionWarning, match="0.0.1"):
        joblib.load(io.BytesIO(_joblib_bytes(with_version(model, "0.0.1"))))


def _joblib_bytes(value):
    buffer = io.BytesIO()
    joblib.dump(value, buffer)
    return buffer.getvalue()


def test_safe_format_version_mismatch_warns(model, tmp_path):
    save_model(with_version(model, "0.0.1"), tmp_path / "old.npz")
    with pytest.warns(ModelVersionWarning, match="fitted with sklearn-nodecoll 0.0.1"):
        loaded = load_model(tmp_path / "old.npz")
    assert loaded._sklearn_nodecoll_version == "0.0.1"


def test_same_version_loads_silently(model, tmp_path):
    save_model(model, tmp_path / "model.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(tmp_path / "model.npz")
        pickle.loads(pickle.dumps(model))


@pytest.mark.parametrize(
    "damage",
    ["truncated", "list-document", "string-version", "no-model", "plain-dict"],
)
def test_damaged_file_raises_value_error(tmp_path, damage):
    import json

    model = CollocationNeuralODE(hidden_layer_sizes=(3,), random_state=0)
    t = np.linspace(0.0, 2.0, 12)
    model.fit(t, np.exp(-t))
    path = tmp_path / "model.npz"
    save_model(model, path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    key = next(name for name in arrays if arrays[name].dtype.kind == "U")
    document = json.loads(str(arrays[key]))
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:
        if damage == "list-document":
            document = [document]
        elif damage == "string-version":
            document["format_version"] = "2"
        elif damage == "no-model":
            del document["model"]
        else:
            document["model"] = {"plain": 1}
        arrays[key] = np.array(json.dumps(document))
        np.savez(path, **arrays)
    # UntrustedTypeError, for an entry without a type tag, is a ValueError too.
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}|model file contains"):
        load_model(path)

"""Checks of the arrays passed to fit, predict and score.

Each error names the argument, the column (index, and name when the caller
passed named columns), the row, what was expected and what was received.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, validate_data


def as_2d(array):
    """Return a 1-D array as a single column; leave 2-D arrays unchanged."""
    return array.reshape(-1, 1) if array.ndim == 1 else array


def reject_sparse(array, name):
    """Raise TypeError if ``array`` is a scipy sparse matrix or array."""
    if sp.issparse(array):
        raise TypeError(
            f"{name} is a sparse {type(array).__name__} of shape {array.shape}; sparse "
            f"input is not supported because every row is a sample time. Pass a dense "
            f"array, for example {name}.toarray()."
        )


def plain_id(trajectory_id):
    """Return a trajectory id as a Python scalar, so that messages show ``3``, not ``np.int64(3)``."""
    return trajectory_id.item() if isinstance(trajectory_id, np.generic) else trajectory_id


def describe_column(index, name, feature_names=None):
    """Return how errors refer to column ``index`` of ``X`` or ``y``."""
    if name == "X":
        label = "time column 0" if index == 0 else f"input column {index}"
    else:
        label = f"column {index}"
    if feature_names is not None and index < len(feature_names):
        label += f" ({feature_names[index]!r})"
    return f"{label} of {name}"


def _column_names(array):
    columns = getattr(array, "columns", None)
    if columns is None:
        return None
    return [str(column) for column in columns]


def _find_non_numeric(array):
    """Return (row, column, value) of the first entry that is not a real number, or None."""
    if np.iscomplexobj(array):
        values = as_2d(np.asarray(array))
        non_real = np.argwhere(values.imag != 0)
        row, column = (int(index) for index in (non_real[0] if non_real.size else (0, 0)))
        return row, column, values[row, column].item()
    try:
        values = np.asarray(array, dtype=object)
    except ValueError:
        return None
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        return None
    for column in range(values.shape[1]):
        for row, value in enumerate(values[:, column]):
            if isinstance(value, (complex, np.complexfloating)):
                return row, column, value
            try:
                float(value)
            except (TypeError, ValueError):
                return row, column, value
    return None


def _raise_non_numeric(array, name, error):
    located = _find_non_numeric(array)
    if located is None:
        raise error
    row, column, value = located
    where = describe_column(column, name, _column_names(array))
    if isinstance(value, (complex, np.complexfloating)):
        raise ValueError(
            f"Complex data not supported: {where} contains {value!r} at row {row}; "
            "pass real numbers."
        ) from error
    raise ValueError(
        f"{where} must be numeric, but row {row} contains {value!r} "
        f"({type(value).__name__}). Convert the column to numbers or drop it."
    ) from error


def check_finite(array, name, feature_names=None, allow_nan=False):
    """Raise ValueError naming the first NaN or infinite entry of a 2-D array."""
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if not bad.any():
        return
    row, column = (int(index) for index in np.argwhere(bad)[0])
    kind = "NaN" if np.isnan(array[row, column]) else "infinity"
    where = describe_column(column, name, feature_names)
    if name == "X":
        rule = "times and inputs must be finite; missing values are allowed only in y"
    else:
        rule = "only NaN, marking a missing value, is allowed"
    raise ValueError(
        f"{where} contains {kind} at row {row} ({int(bad.sum())} non-finite "
        f"entries in {name} in all): {rule}."
    )


def check_X(estimator, X, reset, ensure_min_samples=1):
    """Validate ``X`` (times, then inputs) into a finite 2-D float64 array.

    Through scikit-learn's ``validate_data`` this also sets or checks
    ``feature_names_in_``. Unlike scikit-learn's own message for
    non-finite input, the error here names the column and the row.
    """
    reject_sparse(X, "X")
    try:
        validated = validate_data(
            estimator,
            X,
            reset=reset,
            dtype=np.float64,
            ensure_2d=False,
            ensure_all_finite=False,
            ensure_min_samples=ensure_min_samples,
        )
    except ValueError as error:
        if "convert" not in str(error) and "Complex" not in str(error):
            raise
        _raise_non_numeric(X, "X", error)
    validated = as_2d(validated)
    if validated.ndim != 2:
        raise ValueError(f"X must be 1-D or 2-D, got an array of shape {validated.shape}.")
    check_finite(validated, "X", getattr(estimator, "feature_names_in_", None))
    return validated


def check_y(y, n_samples):
    """Validate ``y`` into a float64 array with NaN allowed and infinity rejected."""
    if y is None:
        raise ValueError(
            "CollocationNeuralODE requires y to be passed, but the target y is None; "
            "pass the observed states, one row per row of X."
        )
    reject_sparse(y, "y")
    try:
        validated = check_array(
            y,
            dtype=np.float64,
            ensure_2d=False,
            ensure_all_finite=False,
            ensure_min_samples=0,
            input_name="y",
        )
    except ValueError as error:
        if "convert" not in str(error) and "Complex" not in str(error):
            raise
        _raise_non_numeric(y, "y", error)
    if validated.ndim == 0 or validated.shape[0] == 0:
        raise ValueError(
            f"y has no rows; expected one row of observed states per row of X "
            f"({n_samples} rows)."
        )
    if validated.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {validated.shape}.")
    if validated.shape[0] != n_samples:
        raise ValueError(
            f"X and y must have the same number of rows, got {n_samples} rows in X "
            f"and {validated.shape[0]} in y."
        )
    check_finite(as_2d(validated), "y", _column_names(y), allow_nan=True)
    return validated


def check_n_features(estimator, X):
    """Raise ValueError unless ``X`` has the time column and every fitted input."""
    expected = estimator.n_features_in_
    if X.shape[1] == expected:
        return
    n_inputs = expected - 1
    names = getattr(estimator, "feature_names_in_", None)
    inputs = f" ({', '.join(map(str, names[1:]))})" if names is not None else ""
    # The first sentence is scikit-learn's own wording, which its estimator
    # checks match.
    raise ValueError(
        f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
        f"{expected} features as input: the time column and {n_inputs} input(s){inputs}. "
        "Reshape your data: pass X with the time in column 0 followed by the inputs "
        "at those times."
    )


def warn_if_time_restarts(t, trajectory, trajectory_given, min_run_length):
    """Warn when the time column drops back within a trajectory, in row order.

    Rows in any order are valid, so a single drop does not warn. Rows that
    form two or more increasing runs of at least ``min_run_length`` rows
    each look like stacked experiments that lack trajectory ids, which
    would otherwise be fitted silently as replicates of one trajectory.
    Randomly shuffled rows form runs of about two rows and do not warn.
    """
    for k in np.unique(trajectory):
        rows = np.flatnonzero(trajectory == k)
        times = t[rows]
        drops = np.flatnonzero(np.diff(times) < 0)
        if drops.size == 0:
            continue
        run_starts = np.concatenate([[0], drops + 1])
        run_lengths = np.diff(np.concatenate([run_starts, [times.size]]))
        if run_lengths.min() < min_run_length:
            continue
        first = int(drops[0])
        scope = f"trajectory {plain_id(k)!r}" if trajectory_given else "the single trajectory"
        warnings.warn(
            f"The time column of X starts over {drops.size} time(s) within {scope}: "
            f"at row {rows[first + 1]} of X, t drops from {times[first]:.6g} to "
            f"{times[first + 1]:.6g}. Rows with equal times are fitted as replicate "
            f"measurements of one trajectory. If the rows stack separate "
            f"experiments, pass trajectory= with one id per experiment.",
            UserWarning,
            stacklevel=3,
        )

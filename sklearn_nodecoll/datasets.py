"""Loaders for the measured data sets used by the examples and tests.

The data live outside the repository, in a folder found as follows: the
environment variable ``SKLEARN_NODECOLL_DATA`` when it is set, else
``../shared/data`` relative to the repository root (the folder that contains
this package). Each loader returns plain numpy arrays, parsed with numpy
only, so that loading needs no optional dependency.
"""

import os
from pathlib import Path

import numpy as np

DATA_ENVIRONMENT_VARIABLE = "SKLEARN_NODECOLL_DATA"

# Level at which the cascaded-tanks level sensor saturates, in volts.
TANKS_SENSOR_LIMIT = 10.0

# Sampling period of the cascaded-tanks benchmark, in seconds.
TANKS_SAMPLING_PERIOD = 4.0

# Sampling frequency of the Silverbox benchmark: 10**7 / 2**14 Hz.
SILVERBOX_SAMPLING_FREQUENCY = 1e7 / 2**14


def get_data_home():
    """Return the folder holding the measured data sets.

    The folder is not checked for existence; :func:`data_path` does that.
    """
    override = os.environ.get(DATA_ENVIRONMENT_VARIABLE)
    if override:
        return Path(override)
    repository_root = Path(__file__).resolve().parent.parent
    return repository_root.parent / "shared" / "data"


def data_path(filename):
    """Return the path of one data file, raising if it is not there.

    Raises
    ------
    FileNotFoundError
        If the data folder or the file is missing, with the path searched
        and the environment variable that overrides it.
    """
    home = get_data_home()
    path = home / filename
    if not path.is_file():
        where = "folder not found" if not home.is_dir() else f"{filename} not found in it"
        raise FileNotFoundError(
            f"Measured data file {path} is missing ({where}). Set the environment "
            f"variable {DATA_ENVIRONMENT_VARIABLE} to the folder that contains {filename}."
        )
    return path


def data_available(filename=None):
    """Return whether the data folder (and ``filename`` in it, if given) exists."""
    home = get_data_home()
    if filename is None:
        return home.is_dir()
    return (home / filename).is_file()


def _read_table(filename):
    """Read a comma-separated file with a header row into (names, float array)."""
    path = data_path(filename)
    with open(path, encoding="utf-8") as stream:
        header = stream.readline()
    names = [name.strip().strip('"') for name in header.strip().split(",")]
    values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return names, values


def load_hare_lynx():
    """Load the Hudson's Bay Company hare and lynx pelt records, 1845-1935.

    Returns
    -------
    year : ndarray of shape (91,)
    pelts : ndarray of shape (91, 2)
        Hare and lynx pelts, in thousands per year.
    """
    _, values = _read_table("hare_lynx_1845_1935.csv")
    return values[:, 0], values[:, 1:3]


def load_cascaded_tanks():
    """Load the cascaded-tanks benchmark (estimation and validation runs).

    Returns
    -------
    data : dict
        ``"t"`` (seconds, 4 s sampling, shape (1024,)), ``"u_est"``,
        ``"y_est"``, ``"u_val"`` and ``"y_val"`` (volts). The level ``y``
        saturates at :data:`TANKS_SENSOR_LIMIT`.
    """
    names, values = _read_table("cascaded_tanks.csv")
    columns = dict(zip(names, values.T))
    return {
        "t": columns["t_s"],
        "u_est": columns["u_est"],
        "y_est": columns["y_est"],
        "u_val": columns["u_val"],
        "y_val": columns["y_val"],
    }


def load_alpha_pinene():
    """Load the alpha-pinene isomerisation data of Fuguitt and Hawkins (1947).

    Returns
    -------
    t : ndarray of shape (9,)
        Minutes since the start.
    composition : ndarray of shape (9, 5)
        Percent of alpha-pinene, dipentene, allo-ocimene, pyronene and dimer.
    species : list of str
    """
    names, values = _read_table("alpha_pinene_box1973.csv")
    return values[:, 0], values[:, 1:], names[1:]


def load_silverbox():
    """Load the Silverbox benchmark (SNLS80mV record).

    Returns
    -------
    t : ndarray of shape (131072,)
        Seconds, at :data:`SILVERBOX_SAMPLING_FREQUENCY`.
    v1 : ndarray of shape (131072,)
        Input voltage.
    v2 : ndarray of shape (131072,)
        Output voltage.
    """
    path = data_path("silverbox_SNLS80mV.csv")
    # Every row ends with a comma, so the third column is empty.
    values = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1), ndmin=2)
    t = np.arange(values.shape[0]) / SILVERBOX_SAMPLING_FREQUENCY
    return t, values[:, 0], values[:, 1]

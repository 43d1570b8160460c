"""Command line: fit a neural ODE to a CSV file, and predict from a saved model.

``sklearn-nodecoll fit data.csv --time t --states y --inputs u --model m.joblib``
fits :class:`~sklearn_nodecoll.CollocationNeuralODE`, prints the fit's
metrics, and writes the model and a plot of the fit against the data.
``sklearn-nodecoll predict m.joblib new.csv --output pred.csv`` integrates the
saved model at the times (and with the inputs) of another file.

The cascaded-tanks file as distributed has no time column, so its sampling
period is given instead::

    sklearn-nodecoll fit cascaded_tanks_original.csv --sampling-period 4 \
        --states yEst --inputs uEst --saturation 10 --model tanks.joblib
    sklearn-nodecoll predict tanks.joblib cascaded_tanks_original.csv \
        --sampling-period 4 --inputs uVal --states yVal --from-first-row \
        --output validation.csv
"""

import argparse
import csv
import logging
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np

from . import __version__
from ._table import TableError, read_table
from .estimator import CollocationNeuralODE
from .exceptions import IntegrationError, SolverError

logger = logging.getLogger(__name__)

PROGRAM = "sklearn-nodecoll"

# Version of the dictionary written by ``fit``; ``predict`` rejects others.
MODEL_FORMAT = 1


class CommandError(Exception):
    """An error to report to the user as one line, with exit status 2."""


# ----------------------------------------------------------------------
# Argument parsing


def _names(text):
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated column names without empty entries, got {text!r}"
        )
    return names


def _finite(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _hidden(text):
    try:
        sizes = tuple(int(size) for size in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 16 or 32,32, got {text!r}"
        ) from None
    return sizes


def _add_time_arguments(parser):
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--time", metavar="COLUMN", help="Name of the time column.")
    group.add_argument(
        "--sampling-period",
        type=float,
        metavar="SECONDS",
        help="Time between rows, for files without a time column; row 1 is at time 0.",
    )


def build_parser():
    """Build the argument parser of the ``fit`` and ``predict`` subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Fit neural ODEs dy/dt = f(y, u) to CSV data by collocation and IPOPT.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="Hide the progress log of the fit; results and errors are still printed."
    )
    subcommands = parser.add_subparsers(dest="command", required=True)

    fit = subcommands.add_parser("fit", help="Fit a model to a CSV file.")
    fit.add_argument("data", type=Path, help="CSV file with a header row.")
    _add_time_arguments(fit)
    fit.add_argument("--states", type=_names, required=True, metavar="COLUMNS",
                     help="Comma-separated state columns; empty cells are missing values.")
    fit.add_argument("--inputs", type=_names, default=[], metavar="COLUMNS",
                     help="Comma-separated input columns (default: none).")
    fit.add_argument("--saturation", type=_finite, metavar="LIMIT",
                     help="Treat state values at or above LIMIT as missing, for a sensor "
                          "that saturates there.")
    fit.add_argument("--model", type=Path, required=True, metavar="PATH",
                     help="Where to write the fitted model (joblib).")
    fit.add_argument("--plot", type=Path, metavar="PATH",
                     help="Where to write a PNG of fit against data (default: the model "
                          "path with .png). Needs matplotlib.")
    fit.add_argument("--no-plot", action="store_true", help="Write no plot.")
    fit.add_argument("--hidden", type=_hidden, default=(16,), metavar="WIDTHS",
                     help="Hidden layer widths, comma-separated (default: 16).")
    fit.add_argument("--activation", default="tanh",
                     choices=["tanh", "logistic", "softplus", "identity"])
    fit.add_argument("--alpha", type=float, default=1e-3,
                     help="L2 penalty on the network weights, in scaled units (default: 1e-3).")
    fit.add_argument("--n-collocation", default="auto", metavar="N",
                     help="Collocation nodes, or 'auto' (default).")
    fit.add_argument("--state-init", default="lowess", choices=["lowess", "interpolate", "zeros"],
                     help="Initial guess of the node states (default: lowess).")
    fit.add_argument("--max-iter", type=int, default=500,
                     help="Maximum IPOPT iterations (default: 500).")
    fit.add_argument("--max-time", type=float, metavar="SECONDS",
                     help="Wall-clock limit of the IPOPT solve in seconds.")
    fit.add_argument("--random-state", type=int, default=0,
                     help="Seed of the weight initialisation (default: 0).")

    predict = subcommands.add_parser("predict", help="Predict with a saved model.")
    predict.add_argument(
        "model",
        type=Path,
        help="Model file written by 'fit'. It is a joblib pickle, which can run code "
        "when loaded: load only files you trust.",
    )
    predict.add_argument("data", type=Path,
                         help="CSV file with the times and the model's input columns.")
    _add_time_arguments(predict)
    predict.add_argument("--output", type=Path, required=True, metavar="PATH",
                         help="CSV file to write: time and predicted states.")
    predict.add_argument("--inputs", type=_names, metavar="COLUMNS",
                         help="Input columns in the order used in fit (default: the names "
                              "used in fit).")
    predict.add_argument("--states", type=_names, metavar="COLUMNS",
                         help="Measured state columns, for metrics and --from-first-row "
                              "(default: the names used in fit, when present).")
    predict.add_argument("--from-first-row", action="store_true",
                         help="Start from the states measured in the first row (free-run "
                              "simulation) rather than from the fitted initial state.")
    return parser


# ----------------------------------------------------------------------
# Reading data


def _check_column_roles(time_name, roles):
    """Reject a column named twice, within one option or across options.

    ``roles`` maps an option name such as ``"--states"`` to its column names.
    """
    seen = {} if time_name is None else {time_name: "--time"}
    for option, names in roles.items():
        for name in names or []:
            if name in seen:
                if seen[name] == option:
                    where = f"twice in {option}"
                else:
                    where = f"in {seen[name]} and {option}"
                raise CommandError(f"column {name!r} is named {where}. Give each column one role.")
            seen[name] = option


def _check_output_folder(option, path):
    """Reject an output path whose folder does not exist, before any work is done."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise CommandError(f"{option} {path}: the folder {folder} does not exist.")
    if Path(path).is_dir():
        raise CommandError(f"{option} {path} is a folder. Give a file name.")


def _check_distinct_files(paths):
    """Reject two roles that name the same file, so that no output overwrites another file.

    ``paths`` maps a role such as ``"--model"`` to its path.
    """
    seen = {}
    for role, path in paths.items():
        resolved = Path(path).resolve()
        if resolved in seen:
            raise CommandError(
                f"{role} and {seen[resolved]} name the same file, {path}. "
                "Give each a different path."
            )
        seen[resolved] = role


# Formats that matplotlib writes with its default backends.
PLOT_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp")


def _read_times(table, args):
    if args.time is not None:
        return table.sorted_time(args.time)
    if not args.sampling_period > 0:
        raise CommandError(f"--sampling-period must be positive, got {args.sampling_period:g}.")
    return args.sampling_period * np.arange(table.n_rows)


def _read_fit_data(args):
    table = read_table(args.data)
    times = _read_times(table, args)
    states = table.columns(args.states, allow_missing=True)
    inputs = table.columns(args.inputs)
    if args.saturation is not None:
        saturated = states >= args.saturation
        logger.info(
            "Treating %d of %d state values at or above %g as missing.",
            int(saturated.sum()), states.size, args.saturation,
        )
        states = np.where(saturated, np.nan, states)
    return times, states, inputs


def _parse_n_collocation(text):
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"--n-collocation must be an integer or 'auto', got {text!r}.") from None


# ----------------------------------------------------------------------
# Metrics and output


def _rmse_per_state(prediction, states):
    errors = np.where(np.isfinite(states), prediction - states, np.nan)
    return np.sqrt(np.nanmean(errors**2, axis=0))


def _print_metrics(names, prediction, states, label):
    rmse = _rmse_per_state(prediction, states)
    spread = np.nanstd(states, axis=0)
    for name, error, scale in zip(names, rmse, spread):
        print(f"{label} RMSE {name}: {error:.6g} (standard deviation of data {scale:.6g})")


def _write_plot(path, times, states, prediction, names):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed; no plot written.")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(names), 1, sharex=True, squeeze=False,
                                figsize=(8, 2.5 * len(names)))
    for axis, name, measured, fitted in zip(axes[:, 0], names, states.T, prediction.T):
        axis.plot(times, measured, ".", markersize=3, label="data")
        axis.plot(times, fitted, "-", label="model")
        axis.set_ylabel(name)
    axes[0, 0].legend(loc="best")
    axes[-1, 0].set_xlabel("time")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"Wrote plot {path}")


def _write_csv(path, time_name, times, state_names, prediction):
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([time_name, *state_names])
        for time_value, row in zip(times, prediction):
            writer.writerow([repr(float(time_value)), *(repr(float(v)) for v in row)])


# ----------------------------------------------------------------------
# Subcommands


def run_fit(args):
    """Fit a model to a CSV file, print metrics, and write the model and a plot."""
    _check_column_roles(args.time, {"--states": args.states, "--inputs": args.inputs})
    _check_output_folder("--model", args.model)
    files = {"data file": args.data, "--model": args.model}
    plot_path = args.plot or args.model.with_suffix(".png")
    if not args.no_plot:
        _check_output_folder("--plot", plot_path)
        if Path(plot_path).suffix.lower() not in PLOT_FORMATS:
            raise CommandError(
                f"--plot {plot_path}: unsupported image format. Use one of "
                f"{', '.join(PLOT_FORMATS)}."
            )
        files["--plot" if args.plot else "the default plot (--model with .png)"] = plot_path
    _check_distinct_files(files)
    times, states, inputs = _read_fit_data(args)
    print(f"Read {times.size} rows of {args.data}: states {', '.join(args.states)}"
          + (f"; inputs {', '.join(args.inputs)}" if args.inputs else ""))
    model = CollocationNeuralODE(
        hidden_layer_sizes=args.hidden,
        activation=args.activation,
        alpha=args.alpha,
        n_collocation=_parse_n_collocation(args.n_collocation),
        state_init=args.state_init,
        max_iter=args.max_iter,
        max_time=args.max_time,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    X = np.column_stack([times, inputs])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, states)
    for warning in caught:
        print(f"Warning: {warning.message}")
    print(f"IPOPT: {model.termination_condition_} after {model.n_iter_} iterations, "
          f"{model.fit_time_:.1f} s")

    prediction = model.predict(X)
    _print_metrics(args.states, prediction, states, "Fit")
    bundle = {
        "format": MODEL_FORMAT,
        "model": model,
        "time": args.time or "t",
        "states": list(args.states),
        "inputs": list(args.inputs),
        "saturation": args.saturation,
    }
    joblib.dump(bundle, args.model)
    print(f"Wrote model {args.model}")
    if not args.no_plot:
        _write_plot(plot_path, times, states, prediction, args.states)
    return 0


def _load_bundle(path):
    try:
        bundle = joblib.load(path)
    except FileNotFoundError:
        raise CommandError(f"Model file {path} not found.") from None
    except Exception as error:  # noqa: BLE001 - unpickling raises many types
        raise CommandError(
            f"{path} is not a model written by '{PROGRAM} fit': loading it failed with "
            f"{type(error).__name__}: {error}"
        ) from None
    if not isinstance(bundle, dict) or bundle.get("format") != MODEL_FORMAT:
        raise CommandError(
            f"{path} is not a model written by '{PROGRAM} fit' (format {MODEL_FORMAT})."
        )
    return bundle


def _predict_columns(table, option, fitted, kind):
    if option is None:
        return list(fitted)
    if len(option) != len(fitted):
        raise CommandError(
            f"--{kind} names {len(option)} column(s), but the model was fitted with "
            f"{len(fitted)} {kind} ({', '.join(fitted) or 'none'})."
        )
    return option


def run_predict(args):
    """Predict the states at the times of a CSV file and write them to a CSV file."""
    _check_column_roles(args.time, {"--inputs": args.inputs, "--states": args.states})
    _check_output_folder("--output", args.output)
    _check_distinct_files({"data file": args.data, "model file": args.model, "--output": args.output})
    bundle = _load_bundle(args.model)
    model = bundle["model"]
    table = read_table(args.data)
    times = _read_times(table, args)
    input_names = _predict_columns(table, args.inputs, bundle["inputs"], "inputs")
    state_names = _predict_columns(table, args.states, bundle["states"], "states")
    inputs = table.columns(input_names)
    print(f"Read {times.size} rows of {args.data}")

    if args.from_first_row:
        # Only the first row is the initial state; later rows may have gaps.
        initial = table.columns(state_names, allow_missing=True)[0]
        if not np.all(np.isfinite(initial)):
            missing = [name for name, value in zip(state_names, initial) if not np.isfinite(value)]
            raise CommandError(
                f"--from-first-row needs every state in the first data row, but "
                f"{', '.join(missing)} is missing there."
            )
        prediction = model.simulate(times, initial, inputs if inputs.shape[1] else None)
    else:
        prediction = model.predict(np.column_stack([times, inputs]))
    prediction = prediction.reshape(times.size, -1)

    if all(name in table.names for name in state_names):
        states = table.columns(state_names, allow_missing=True)
        saturation = bundle.get("saturation")
        if saturation is not None:
            print(f"Leaving out measured values at or above the saturation limit {saturation:g}.")
            states = np.where(states >= saturation, np.nan, states)
        _print_metrics(state_names, prediction, states, "Prediction")
    _write_csv(args.output, args.time or bundle["time"], times, bundle["states"], prediction)
    print(f"Wrote predictions {args.output}")
    return 0


def main(argv=None):
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    command = run_fit if args.command == "fit" else run_predict
    try:
        return command(args)
    except (TableError, CommandError) as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{PROGRAM}: error: {error.strerror}: {error.filename}", file=sys.stderr)
        return 2
    except (SolverError, IntegrationError, ValueError) as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 1

"""Benchmark CollocationNeuralODE against torchdiffeq and diffrax, side by side.

Every fit runs in a fresh process, so that its peak resident memory is its
own, and under a wall-clock limit. The tools take turns within each repeat,
so that a slow spell of a shared machine hits all of them alike. Tables
give medians over the repeats; a peer's time ratio is the median over
repeats of (peer fit time / this package's fit time in the same repeat).

Cases (``--case``; in this order by default):

- ``vdp-input``: forced Van der Pol, forcing ``cos t`` as an input column.
- ``vdp-no-input``: the same data without the input column.
- ``robertson``: stiff Robertson kinetics, time not transformed.
- ``init``: this package only, state initialisation against iterations.
- ``width``: this package only, hidden units 8 to 128 against test MSE.
- ``lorenz96``: this package only, Lorenz-96 with 4 to 24 states on 1000
  collocation nodes, time and memory.
- ``vdp-long``: forced Van der Pol with input over a ten times longer
  record, 2000 samples on [0, 150], test span [150, 165].
- ``admm``: this package only, on the ``vdp-long`` data: the monolithic fit
  and ``BatchedADMMRegressor`` over 2, 4 and 8 time windows, with
  ``n_jobs=2``.

Run from the repository root with torch, torchdiffeq, jax, diffrax,
equinox and optax installed (``pip install -e ".[benchmarks]"``)::

    python benchmarks/bench_peers.py                  # everything, hours
    python benchmarks/bench_peers.py --case vdp-input # one case
    python benchmarks/bench_peers.py --quick          # smoke run, no peers

Results go to ``benchmarks/results/<case>.md`` and ``<case>.csv``.
"""

import argparse
import csv
import importlib.metadata
import logging
import multiprocessing
import os
import platform
import queue
import resource
import sys
import time
from pathlib import Path

import numpy as np

# Run from a checkout, the package is importable without installing it.
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

logger = logging.getLogger("bench_peers")

TOOLS = ("nodecoll", "torchdiffeq", "diffrax")
CASES = ("vdp-input", "vdp-no-input", "robertson", "init", "width", "lorenz96", "vdp-long", "admm")
VERSIONED_PACKAGES = (
    "sklearn-nodecoll", "numpy", "scipy", "scikit-learn", "casadi",
    "torch", "torchdiffeq", "jax", "jaxlib", "diffrax", "equinox", "optax",
)
# IPOPT iteration cap of the smoke run, which checks that everything runs.
QUICK_MAX_ITER = 100
CSV_FIELDS = (
    "case", "variant", "tool", "repeat", "status", "fit_s", "iterations",
    "train_mse", "test_mse", "peak_mb", "detail",
)


def make_tasks(case, quick):
    """Return the variants of a case as (variant name, tool, case builder kwargs, options)."""
    small = {"n_samples": 40} if quick else {}
    if case in ("vdp-input", "vdp-no-input"):
        data = {"kind": "vdp", "with_input": case == "vdp-input", **small}
        return [("", tool, data, {}) for tool in TOOLS]
    if case == "robertson":
        data = {"kind": "robertson", **({"n_samples": 12, "n_test": 5} if quick else {})}
        return [("", tool, data, {}) for tool in TOOLS]
    if case == "init":
        data = {"kind": "vdp", "with_input": True, **small}
        return [
            (f"state_init={init}", "nodecoll", data, {"state_init": init})
            for init in ("interpolate", "lowess", "zeros")
        ]
    if case == "width":
        data = {"kind": "vdp", "with_input": True, **small}
        widths = (8,) if quick else (8, 16, 32, 64, 128)
        return [
            (f"width={width}", "nodecoll", data, {"hidden_layer_sizes": (width,), "alpha": 1e-3})
            for width in widths
        ]
    if case == "lorenz96":
        sizes = (4,) if quick else (4, 6, 12, 24)
        nodes = 61 if quick else 1000
        samples = 60 if quick else 500
        return [
            (
                f"{n} states, {nodes} nodes",
                "nodecoll",
                {"kind": "lorenz96", "n_states": n, "n_samples": samples},
                {"n_collocation": nodes},
            )
            for n in sizes
        ]
    long_data = {"kind": "vdp", "with_input": True, "n_samples": 2000, "t_end": 150.0}
    if quick:
        long_data.update(n_samples=120, t_end=30.0)
    if case == "vdp-long":
        return [("", tool, long_data, {}) for tool in TOOLS]
    if case == "admm":
        batches = (2,) if quick else (2, 4, 8)
        return [("monolithic", "nodecoll", long_data, {})] + [
            (f"ADMM, {n} windows", "nodecoll", long_data, {"admm_batches": n}) for n in batches
        ]
    raise ValueError(f"case must be one of {', '.join(CASES)}, got {case!r}.")


def build_case(kind, **kwargs):
    import cases

    builders = {
        "vdp": cases.make_van_der_pol_case,
        "robertson": cases.make_robertson_case,
        "lorenz96": cases.make_lorenz96_case,
    }
    return builders[kind](**kwargs)


def mean_squared_error(predicted, truth):
    return float(np.mean((predicted - truth) ** 2))


def score_network(case, coefs, intercepts):
    """Roll out a peer's raw-unit network with scipy and return (train MSE, test MSE)."""
    from sklearn_nodecoll import simulation
    from sklearn_nodecoll.exceptions import IntegrationError

    scores = []
    for prefix, inputs in (("train", case["u"]), ("test", case["test_u"])):
        times = case[f"{prefix}_t"]
        y0 = case["train_y0"] if prefix == "train" else case["test_truth"][0]
        input_function = None
        if inputs is not None:
            input_function = simulation.make_input_function(times, inputs, "linear")
        try:
            states = simulation.integrate(
                coefs, intercepts, "tanh", times, y0, times[0], input_function,
                rtol=1e-8, atol=1e-10,
            )
        except IntegrationError:
            scores.append(float("nan"))
            continue
        scores.append(mean_squared_error(states, case[f"{prefix}_truth"]))
    return scores


def fit_nodecoll(case, seed, options, time_limit):
    """Fit this package's estimator and return its metrics."""
    from sklearn_nodecoll import BatchedADMMRegressor, CollocationNeuralODE
    from sklearn_nodecoll.exceptions import IntegrationError

    options = dict(options)
    n_batches = options.pop("admm_batches", None)
    start = time.perf_counter()
    X = case["t"] if case["u"] is None else np.column_stack([case["t"], case["u"]])
    model = CollocationNeuralODE(random_state=seed, max_time=time_limit, **options)
    if n_batches is not None:
        model = BatchedADMMRegressor(model, n_batches=n_batches, n_jobs=2)
    model.fit(X, case["y"])
    fit_time = time.perf_counter() - start

    scores = []
    for prefix, y0, inputs in (
        ("train", case["train_y0"], case["u"]),
        ("test", case["test_truth"][0], case["test_u"]),
    ):
        try:
            states = model.simulate(case[f"{prefix}_t"], y0, inputs)
            scores.append(mean_squared_error(states, case[f"{prefix}_truth"]))
        except IntegrationError:
            scores.append(float("nan"))
    return {
        "status": model.termination_condition_,
        "fit_s": fit_time,
        "iterations": model.n_iter_,
        "train_mse": scores[0],
        "test_mse": scores[1],
        "detail": (
            f"ADMM residuals primal {model.primal_residuals_[-1]:.3g} "
            f"(tolerance {model.primal_tolerances_[-1]:.3g}), dual "
            f"{model.dual_residuals_[-1]:.3g} (tolerance {model.dual_tolerances_[-1]:.3g})"
            if n_batches is not None
            else f"build {model.build_time_:.2f} s, solve {model.solve_time_:.2f} s"
        ),
    }


def fit_peer(tool, case, seed, progress, epoch_fraction):
    """Train a peer and return its metrics; solver errors become a 'failed' status."""
    import peers

    try:
        coefs, intercepts, epochs, fit_time = peers.PEERS[tool](
            case, seed, progress, epoch_fraction
        )
    except Exception as error:  # noqa: BLE001 - any solver error is a result here
        message = str(error).strip().splitlines()
        detail = f"{type(error).__name__}: {message[0] if message else ''}"[:200]
        logger.warning("%s training failed: %s", tool, detail)
        return {"status": "failed", "detail": detail}
    train_mse, test_mse = score_network(case, coefs, intercepts)
    return {
        "status": "done",
        "fit_s": fit_time,
        "iterations": epochs,
        "train_mse": train_mse,
        "test_mse": test_mse,
        "detail": "",
    }


def run_worker(task, messages):
    """Run one fit in this (fresh) process and put its metrics on ``messages``."""
    tool, data, options, seed, time_limit, epoch_fraction = task
    # Imports happen before the clock starts in either branch.
    if tool == "torchdiffeq":
        import torch  # noqa: F401
        import torchdiffeq  # noqa: F401
    elif tool == "diffrax":
        import diffrax  # noqa: F401
    import sklearn_nodecoll  # noqa: F401

    case = build_case(**data)
    if tool == "nodecoll":
        metrics = fit_nodecoll(case, seed, options, time_limit)
        # This process waits for its children before it exits. Without the
        # shutdown, joblib's idle workers kept it alive for five minutes.
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    else:
        def progress(epoch, loss):
            messages.put(("progress", {"epoch": epoch, "loss": loss}))

        metrics = fit_peer(tool, case, seed, progress, epoch_fraction)
    metrics["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    messages.put(("result", metrics))


def run_isolated(task, time_limit):
    """Run ``task`` in a spawned process; stop it after ``time_limit`` seconds."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    process = context.Process(target=run_worker, args=(task, messages))
    start = time.perf_counter()
    process.start()

    last_progress, result = None, None
    # Imports and data generation get a minute on top of the fit's limit.
    deadline = start + time_limit + 60.0
    while result is None and time.perf_counter() < deadline:
        try:
            kind, payload = messages.get(timeout=1.0)
        except queue.Empty:
            if not process.is_alive():
                break
            continue
        if kind == "progress":
            last_progress = payload
        else:
            result = payload

    if result is None:
        timed_out = process.is_alive()
        if timed_out:
            process.terminate()
        detail = "no progress reported"
        if last_progress:
            detail = f"reached epoch {last_progress['epoch']}, loss {last_progress['loss']:.3g}"
        result = {
            "status": f"timed out after {time_limit:.0f} s" if timed_out else "crashed",
            "detail": detail if timed_out else f"exit code {process.exitcode}",
        }
        if last_progress:
            result["iterations"] = last_progress["epoch"]
    process.join()
    return result


def describe_environment():
    """Return Markdown lines naming the machine, load and package versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = []
    for name in VERSIONED_PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return [
        f"- Machine: {cpu}, {os.cpu_count()} logical cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"- Load average (1, 5, 15 min) when the case finished: {load}",
        f"- Packages: {', '.join(versions)}",
    ]


def format_number(value, digits=4):
    if value is None or value == "":
        return "-"
    if isinstance(value, float) and np.isnan(value):
        return "diverged"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def summarise(rows):
    """Return one Markdown summary row per (variant, tool) with medians over repeats."""
    lines = [
        "| variant | tool | fits done | median fit s | time / nodecoll | iterations "
        "| train MSE | test MSE | peak MB | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = list(dict.fromkeys((row["variant"], row["tool"]) for row in rows))
    for variant, tool in keys:
        selected = [r for r in rows if r["variant"] == variant and r["tool"] == tool]
        done = [r for r in selected if "fit_s" in r]

        def median(field, done=done):
            values = [r[field] for r in done if r.get(field) is not None]
            return float(np.median(values)) if values else None

        ratio = None
        if tool != "nodecoll":
            ratios = []
            for row in done:
                reference = [
                    r for r in rows
                    if r["tool"] == "nodecoll" and r["repeat"] == row["repeat"]
                    and r["variant"] == variant and "fit_s" in r
                ]
                if reference:
                    ratios.append(row["fit_s"] / reference[0]["fit_s"])
            ratio = float(np.median(ratios)) if ratios else None
        statuses = ", ".join(sorted({r["status"] for r in selected}))
        iterations = [r["iterations"] for r in selected if r.get("iterations") is not None]
        lines.append(
            f"| {variant or '-'} | {tool} | {len(done)}/{len(selected)} "
            f"| {format_number(median('fit_s'), 3)} | {format_number(ratio, 3)} "
            f"| {format_number(int(np.median(iterations)) if iterations else None)} "
            f"| {format_number(median('train_mse'))} | {format_number(median('test_mse'))} "
            f"| {format_number(median('peak_mb'), 4)} | {statuses} |"
        )
    return lines


def write_results(case, rows, output, header_lines):
    output.mkdir(parents=True, exist_ok=True)
    with open(output / f"{case}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({field: row.get(field, "") for field in CSV_FIELDS})
    per_fit = ["| repeat | variant | tool | status | fit s | iterations | train MSE | test MSE "
               "| peak MB | detail |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        per_fit.append(
            f"| {row['repeat']} | {row['variant'] or '-'} | {row['tool']} | {row['status']} "
            f"| {format_number(row.get('fit_s'), 3)} | {format_number(row.get('iterations'))} "
            f"| {format_number(row.get('train_mse'))} | {format_number(row.get('test_mse'))} "
            f"| {format_number(row.get('peak_mb'), 4)} | {row.get('detail', '')} |"
        )
    text = header_lines + [""] + describe_environment() + ["", "Medians over repeats:", ""]
    text += summarise(rows) + ["", "Every fit:", ""] + per_fit
    (output / f"{case}.md").write_text("\n".join(text) + "\n")


def run_case(case, arguments):
    tasks = make_tasks(case, arguments.quick)
    tools = set(arguments.tools)
    tasks = [task for task in tasks if task[1] in tools]
    time_limit = arguments.time_limit
    rows = []
    for repeat in range(arguments.repeats):
        for variant, tool, data, options in tasks:
            if arguments.quick:
                options = {**options, "max_iter": QUICK_MAX_ITER}
            task = (tool, data, options, repeat, time_limit, arguments.epoch_fraction)
            result = run_isolated(task, time_limit)
            row = {"case": case, "variant": variant, "tool": tool, "repeat": repeat, **result}
            rows.append(row)
            logger.info(
                "%s %s %s repeat %d: %s, fit %s s, test MSE %s",
                case, variant, tool, repeat, row["status"],
                format_number(row.get("fit_s"), 3), format_number(row.get("test_mse")),
            )
    header = [
        f"# {case}",
        "",
        f"Command: `python benchmarks/bench_peers.py {' '.join(sys.argv[1:])}`",
        f"Repeats: {arguments.repeats}, wall-clock limit per fit: {time_limit:.0f} s, "
        f"peer epochs scaled by {arguments.epoch_fraction:g}.",
    ]
    write_results(case, rows, arguments.output, header)
    return rows


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case", nargs="+", choices=CASES, default=list(CASES), help="cases to run, in order"
    )
    parser.add_argument(
        "--tools", nargs="+", choices=TOOLS, default=list(TOOLS),
        help="tools to run on the peer cases (the others use nodecoll only)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats of every fit")
    parser.add_argument(
        "--time-limit", type=float, default=600.0, help="wall-clock limit of one fit, in seconds"
    )
    parser.add_argument(
        "--epoch-fraction", type=float, default=1.0,
        help="scale the peers' epoch counts (1 is the published protocol; less is for trials)",
    )
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results",
        help="folder for the Markdown and CSV results",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="smoke run: tiny data, this package only, one repeat",
    )
    arguments = parser.parse_args(argv)

    if arguments.quick:
        arguments.tools = ["nodecoll"]
        arguments.repeats = 1
    if arguments.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {arguments.repeats}")
    return arguments


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    arguments = parse_arguments(argv)
    for case in arguments.case:
        run_case(case, arguments)
        logger.info("wrote %s", arguments.output / f"{case}.md")


if __name__ == "__main__":
    main()

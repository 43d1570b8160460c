"""Time and score the fit on the forced Van der Pol case study.

Case: x' = v, v' = (1 - x^2) v - x + cos t, y0 = (0, 1), 200 noisy samples
(sigma = 0.1) on [0, 15]; one hidden layer of 32 tanh units, alpha = 1e-3.
Train MSE: rollout from (0, 1) on [0, 15] against the noise-free truth.
Test MSE: rollout on [15, 30] (400 points) from the true state at t = 15.

Each fit runs in a fresh process so that its peak resident memory is its
own. Run ``python benchmarks/bench_vanderpol.py`` (about a minute), or
``--quick`` for one seed and one repeat.
"""

import argparse
import multiprocessing
import platform
import resource
import time

import numpy as np

VARIANTS = {
    "radau, input": ({}, True),
    "radau, no input": ({}, False),
    "chebyshev N=200, input": ({"collocation": "chebyshev", "n_collocation": 200}, True),
    "chebyshev N=200, no input": ({"collocation": "chebyshev", "n_collocation": 200}, False),
}


def run_one(options, with_input, seed):
    from sklearn_nodecoll import CollocationNeuralODE
    from sklearn_nodecoll.synthetic import make_forced_van_der_pol

    data = make_forced_van_der_pol()
    X = np.column_stack([data["t"], data["u"]]) if with_input else data["t"]
    model = CollocationNeuralODE(random_state=seed, **options)
    start = time.perf_counter()
    model.fit(X, data["y"])
    fit_time = time.perf_counter() - start
    train = model.simulate(data["t"], [0.0, 1.0], data["u"] if with_input else None)
    test = model.simulate(data["t_test"], data["y_test"][0], data["u_test"] if with_input else None)
    return {
        "fit": fit_time,
        "build": model.build_time_,
        "solve": model.solve_time_,
        "iterations": model.n_iter_,
        "status": model.termination_condition_,
        "train_mse": float(np.mean((train - data["y_true"]) ** 2)),
        "test_mse": float(np.mean((test - data["y_test"]) ** 2)),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_isolated(options, with_input, seed):
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(run_one, (options, with_input, seed))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="random_state values 0..N-1")
    parser.add_argument("--quick", action="store_true", help="one seed, radau variants only")
    arguments = parser.parse_args()
    seeds = range(1 if arguments.quick else arguments.seeds)
    variants = {k: v for k, v in VARIANTS.items() if not arguments.quick or k.startswith("radau")}

    print(f"# Forced Van der Pol, {platform.machine()}, Python {platform.python_version()}")
    header = (
        "| variant | seed | fit s | build s | solve s | iterations | train MSE | test MSE "
        "| peak MB | status |"
    )
    print(header)
    print("|" + "---|" * 10)
    summary = []
    for name, (options, with_input) in variants.items():
        rows = [run_isolated(options, with_input, seed) for seed in seeds]
        for seed, row in zip(seeds, rows):
            print(
                f"| {name} | {seed} | {row['fit']:.2f} | {row['build']:.3f} | {row['solve']:.2f} "
                f"| {row['iterations']} | {row['train_mse']:.4f} | {row['test_mse']:.4f} "
                f"| {row['peak_mb']:.0f} | {row['status']} |",
                flush=True,
            )
        summary.append((name, rows))

    print("\n| variant | median fit s | median train MSE | median test MSE | test MSE range |")
    print("|---|---|---|---|---|")
    for name, rows in summary:
        tests = [row["test_mse"] for row in rows]
        print(
            f"| {name} | {np.median([row['fit'] for row in rows]):.2f} "
            f"| {np.median([row['train_mse'] for row in rows]):.4f} | {np.median(tests):.4f} "
            f"| {min(tests):.4f} - {max(tests):.4f} |"
        )


if __name__ == "__main__":
    main()

"""Fit time, test error and memory of the collocation fit as horizon and width grow.

Forced Van der Pol oscillator x' = v, v' = (1 - x^2) v - x + cos t from
y0 = (0, 1), Gaussian noise of standard deviation 0.1 on both states, the
input column cos t given, one hidden layer of tanh units, alpha = 1e-3.
The test error is the mean squared error of a rollout over the 15 time
units after the training span, started from the true state at its end.

Cases run interleaved, repeat after repeat, so that load on the machine
affects them alike; the table reports the median of the repeats.

Usage::

    python benchmarks/bench_scale.py [--repeats 3] [--cases paper,long,...]
    python benchmarks/bench_scale.py --cases big --repeats 1
    python benchmarks/bench_scale.py --cases huge --repeats 1   # 20,000 samples
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp

from sklearn_nodecoll import CollocationNeuralODE

TEST_SPAN = 15.0

# name: (horizon, n_samples, estimator parameters)
CASES = {
    "paper": (15.0, 200, {}),
    "paper_xavier": (15.0, 200, {"weight_init": "xavier"}),
    "paper_chebyshev": (15.0, 200, {"collocation": "chebyshev", "n_collocation": 200}),
    "paper_128": (15.0, 200, {"hidden_layer_sizes": (128,)}),
    "long": (150.0, 2000, {}),
    "long_xavier": (150.0, 2000, {"weight_init": "xavier"}),
    "big": (750.0, 10000, {}),
    "huge": (1500.0, 20000, {}),
}


def forced_van_der_pol(t, state):
    x, v = state
    return [v, (1 - x**2) * v - x + np.cos(t)]


def run_case(name, seed=0):
    horizon, n_samples, params = CASES[name]
    t = np.linspace(0.0, horizon, n_samples)
    solution = solve_ivp(
        forced_van_der_pol,
        (0.0, horizon + TEST_SPAN),
        [0.0, 1.0],
        dense_output=True,
        rtol=1e-10,
        atol=1e-10,
    )
    rng = np.random.default_rng(seed)
    y = solution.sol(t).T + 0.1 * rng.standard_normal((n_samples, 2))
    X = np.column_stack([t, np.cos(t)])
    model = CollocationNeuralODE(alpha=1e-3, random_state=seed, **params)
    start = time.perf_counter()
    model.fit(X, y)
    fit_time = time.perf_counter() - start
    t_test = np.linspace(horizon, horizon + TEST_SPAN, 300)
    predicted = model.simulate(t_test, solution.sol(horizon), u=np.cos(t_test)[:, None])
    test_mse = float(np.mean((predicted - solution.sol(t_test).T) ** 2))
    return {
        "case": name,
        "fit_time": fit_time,
        "solve_time": model.solve_time_,
        "n_iter": model.n_iter_,
        "n_nodes": int(model.collocation_times_[0].size),
        "status": model.termination_condition_,
        "test_mse": test_mse,
        # ru_maxrss is in kilobytes on Linux; each case runs in its own process.
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def run_in_subprocess(name):
    output = subprocess.run(
        [sys.executable, __file__, "--one", name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cases",
        default="paper,paper_xavier,paper_chebyshev,paper_128,long,long_xavier",
        help="comma-separated names among: " + ", ".join(CASES),
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one)))
        return

    names = args.cases.split(",")
    results = {name: [] for name in names}
    for repeat in range(args.repeats):
        for name in names:
            result = run_in_subprocess(name)
            results[name].append(result)
            print(f"# repeat {repeat + 1}: {json.dumps(result)}", flush=True)

    header = f"{'case':<16} {'fit s':>8} {'iters':>6} {'nodes':>6} {'test MSE':>9} {'peak GB':>8}"
    print(header)
    print("-" * len(header))
    for name in names:
        runs = results[name]
        print(
            f"{name:<16} {np.median([r['fit_time'] for r in runs]):8.2f} "
            f"{int(np.median([r['n_iter'] for r in runs])):6d} {runs[0]['n_nodes']:6d} "
            f"{np.median([r['test_mse'] for r in runs]):9.4f} "
            f"{max(r['peak_rss_gb'] for r in runs):8.2f}"
        )
    medians = {name: np.median([r["fit_time"] for r in results[name]]) for name in names}
    for numerator, denominator in (
        ("long", "paper"),
        ("paper_chebyshev", "paper"),
        ("paper_128", "paper"),
    ):
        if numerator in medians and denominator in medians:
            print(f"{numerator} / {denominator}: {medians[numerator] / medians[denominator]:.1f}x")


if __name__ == "__main__":
    main()

"""Time the CasADi and Pyomo backends on the forced Van der Pol problem.

The case is that of Shapovalova and Tsay (2025), arXiv:2502.15642:
x' = v, v' = (1 - x^2) v - x + cos t, (x, v)(0) = (0, 1), t in [0, 15],
200 samples with Gaussian noise of standard deviation 0.1, the input cos t,
32 tanh hidden units and alpha = 1e-3. Both backends solve the same problem
from the same initial point with the estimator's default IPOPT settings.
The table lists medians over the repeats, in seconds.

Run ``python benchmarks/bench_pyomo.py [--repeats N] [--case NAME]``.
"""

import argparse
import logging
import statistics
import time

import numpy as np
from scipy.integrate import solve_ivp

from sklearn_nodecoll import CollocationNeuralODE, _casadi_backend, _pyomo_backend

CASES = {
    "chebyshev-200": dict(collocation="chebyshev", n_collocation=200),
    "radau-default": dict(),
}


def forced_van_der_pol(n_samples=200, noise=0.1, seed=0):
    t = np.linspace(0.0, 15.0, n_samples)
    solution = solve_ivp(
        lambda time_, z: [z[1], (1.0 - z[0] ** 2) * z[1] - z[0] + np.cos(time_)],
        (0.0, 15.0),
        [0.0, 1.0],
        t_eval=t,
        rtol=1e-10,
        atol=1e-10,
    )
    y = solution.y.T + noise * np.random.default_rng(seed).standard_normal((n_samples, 2))
    return np.column_stack([t, np.cos(t)]), y


def time_case(settings, X, y):
    """Return one run's timings of both backends on one problem."""
    estimator = CollocationNeuralODE(
        hidden_layer_sizes=(32,), activation="tanh", alpha=1e-3, random_state=0, **settings
    )
    problem = estimator.build_pyomo_model(X, y).collocation_problem
    solver_settings = dict(tol=estimator.tol, max_iter=estimator.max_iter)

    casadi_result = _casadi_backend.solve(
        problem, problem.states_init, problem.params_init, **solver_settings
    )
    start = time.perf_counter()
    model = _pyomo_backend.build_model(problem)
    model_build = time.perf_counter() - start
    pyomo_result = _pyomo_backend.solve(
        problem, problem.states_init, problem.params_init, model=model, **solver_settings
    )
    return problem.n_nodes, {
        "casadi": dict(
            model_build=casadi_result.build_time,
            nl_write=0.0,
            solver_setup=0.0,
            solve=casadi_result.solve_time,
            iterations=casadi_result.n_iter,
            objective=casadi_result.objective,
        ),
        pyomo_result.backend: dict(
            model_build=model_build,
            nl_write=pyomo_result.nl_write_time,
            # build_time of the Pyomo backend covers loading the initial
            # point and setting up the solver on the model built above.
            solver_setup=pyomo_result.build_time,
            solve=pyomo_result.solve_time,
            iterations=pyomo_result.n_iter,
            objective=pyomo_result.objective,
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per case; medians are shown")
    parser.add_argument(
        "--case", choices=sorted(CASES), action="append", help="case to run (repeatable); default all"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    X, y = forced_van_der_pol()

    header = f"{'case':<22} {'backend':<24} {'build':>7} {'NL write':>9} {'setup':>8} {'solve':>8} {'iter':>5} {'objective':>11}"
    print(header)
    print("-" * len(header))
    for name in args.case or CASES:
        settings = CASES[name]
        runs = [time_case(settings, X, y) for _ in range(args.repeats)]
        n_nodes = runs[0][0]
        for backend in runs[0][1]:
            figures = {
                key: statistics.median(run[1][backend][key] for run in runs)
                for key in runs[0][1][backend]
            }
            print(
                f"{name:<22} {backend:<24} {figures['model_build']:7.3f} {figures['nl_write']:9.3f} "
                f"{figures['solver_setup']:8.2f} {figures['solve']:8.2f} {figures['iterations']:5.0f} "
                f"{figures['objective']:11.6g}"
            )
        print(f"{'':<22} ({n_nodes} nodes)")


if __name__ == "__main__":
    main()

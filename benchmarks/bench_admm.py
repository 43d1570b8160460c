"""Compare consensus ADMM over time windows with the monolithic collocation fit.

System: the forced Van der Pol oscillator ``x' = v, v' = (1 - x^2) v - x + cos t``
with ``(x, v)(0) = (0, 1)``, sampled at equally spaced times on ``[0, T]``
with Gaussian noise of standard deviation 0.1 on both states; the input
column is ``cos t``. The network has 32 tanh units and ``alpha = 1e-3``.

For each model the script reports the wall time of ``fit``, the ADMM
residuals against their tolerances, and the test MSE of a rollout over
``[T, T + 15]`` started from the true state at ``T``.

Run from the repository root::

    python benchmarks/bench_admm.py                      # 2000 samples on [0, 150]
    python benchmarks/bench_admm.py --samples 10000 --horizon 750
    python benchmarks/bench_admm.py --lowess-samples 20  # lowess_frac = 20 / samples
"""

import argparse
import logging
import time

import numpy as np
from scipy.integrate import solve_ivp

from sklearn_nodecoll import CollocationNeuralODE
from sklearn_nodecoll.admm import BatchedADMMRegressor


def forced_van_der_pol(t, state):
    x, v = state
    return [v, (1.0 - x**2) * v - x + np.cos(t)]


def make_data(n_samples, horizon, noise, seed):
    """Return training times, noisy states, and the true test trajectory after ``horizon``."""
    t_train = np.linspace(0.0, horizon, n_samples)
    t_test = np.linspace(horizon, horizon + 15.0, 301)
    t_all = np.concatenate([t_train, t_test[1:]])
    solution = solve_ivp(
        forced_van_der_pol, (0.0, t_all[-1]), [0.0, 1.0], t_eval=t_all, rtol=1e-10, atol=1e-10
    )
    states = solution.y.T
    rng = np.random.default_rng(seed)
    y_train = states[:n_samples] + noise * rng.standard_normal((n_samples, 2))
    y_test = np.vstack([states[n_samples - 1], states[n_samples:]])
    return t_train, y_train, t_test, y_test


def rollout_mse(model, t_test, y_test):
    """Return the MSE of a rollout from the true state at ``t_test[0]``."""
    predicted = model.simulate(t_test, y_test[0], u=np.cos(t_test)[:, None])
    return float(np.mean((predicted - y_test) ** 2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000, help="training samples")
    parser.add_argument("--horizon", type=float, default=150.0, help="end of the training span")
    parser.add_argument("--batches", type=int, default=8, help="number of ADMM windows")
    parser.add_argument("--rho", type=float, default=0.1, help="initial ADMM penalty")
    parser.add_argument("--max-iter", type=int, default=100, help="maximum ADMM iterations")
    parser.add_argument("--tol", type=float, default=1e-3, help="relative tolerance of the ADMM residuals")
    parser.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance per weight of the ADMM residuals")
    parser.add_argument("--overlap", type=int, default=0, help="samples shared by neighbouring windows")
    parser.add_argument("--repeats", type=int, default=1, help="fits per variant; the median time is reported")
    parser.add_argument("--skip-monolithic", action="store_true", help="fit only the ADMM variants")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="n_jobs values to time")
    parser.add_argument("--verbose", type=int, default=1, help="verbose level of the ADMM estimator")
    parser.add_argument(
        "--lowess-samples",
        type=int,
        default=0,
        help="LOWESS window of the monolithic fit's initial states, in samples; it is passed "
        "as lowess_frac = N / samples, which each ADMM window applies to its own samples "
        "(at least 5). 0 keeps the estimator's default lowess_frac='auto', a window of 20 "
        "samples in the monolithic fit and in each ADMM window",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    t_train, y_train, t_test, y_test = make_data(args.samples, args.horizon, 0.1, seed=0)
    X = np.column_stack([t_train, np.cos(t_train)])
    base = CollocationNeuralODE(hidden_layer_sizes=(32,), alpha=1e-3, random_state=0)
    if args.lowess_samples:
        base.set_params(lowess_frac=args.lowess_samples / args.samples)

    rows = []
    if not args.skip_monolithic:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            monolithic = CollocationNeuralODE(**base.get_params()).fit(X, y_train)
            times.append(time.perf_counter() - start)
        rows.append(
            ("monolithic", np.median(times), rollout_mse(monolithic, t_test, y_test),
             f"IPOPT {monolithic.termination_condition_}, {monolithic.n_iter_} iterations")
        )
    for n_jobs in args.jobs:
        times = []
        for _ in range(args.repeats):
            admm = BatchedADMMRegressor(
                base,
                n_batches=args.batches,
                overlap=args.overlap,
                rho=args.rho,
                max_iter=args.max_iter,
                tol=args.tol,
                atol=args.atol,
                n_jobs=n_jobs,
                verbose=args.verbose,
            )
            start = time.perf_counter()
            admm.fit(X, y_train)
            times.append(time.perf_counter() - start)
        rows.append(
            (f"ADMM {args.batches} windows, n_jobs={n_jobs}", np.median(times), rollout_mse(admm, t_test, y_test),
             f"{admm.termination_condition_} after {admm.n_iter_} iterations, primal "
             f"{admm.primal_residuals_[-1]:.3g}/{admm.primal_tolerances_[-1]:.3g}, dual "
             f"{admm.dual_residuals_[-1]:.3g}/{admm.dual_tolerances_[-1]:.3g}, final rho "
             f"{admm.rho_history_[-1]:.3g}")
        )

    print(f"{args.samples} samples on [0, {args.horizon:g}], test rollout on "
          f"[{args.horizon:g}, {args.horizon + 15:g}], {args.repeats} fit(s) per variant, "
          f"lowess_frac {base.lowess_frac}")
    print(f"{'model':32s} {'fit time (s)':>12s} {'test MSE':>10s}  details")
    for name, seconds, mse, details in rows:
        print(f"{name:32s} {seconds:12.1f} {mse:10.4g}  {details}")


if __name__ == "__main__":
    main()

"""Fit the forced Van der Pol case study and report its metrics.

Run ``python -m sklearn_nodecoll.demo``. The data are simulated by the
package itself: ``x' = v, v' = (1 - x^2) v - x + cos t`` from ``(0, 1)``,
200 samples on ``[0, 15]`` with noise of standard deviation 0.1. The model
gets the forcing ``cos t`` as an input column. It prints the fit time and
the train and test mean squared errors and, when matplotlib is installed,
writes a plot of data, fit and forecast.
"""

import argparse
import logging
import time

import numpy as np

from .estimator import CollocationNeuralODE
from .synthetic import make_forced_van_der_pol

logger = logging.getLogger(__name__)


def run(output="van_der_pol.png", random_state=0):
    """Fit the case study, print metrics, and plot to ``output``.

    Returns
    -------
    metrics : dict
        ``fit_time``, ``n_iter``, ``status``, ``train_mse`` (rollout from
        (0, 1) on [0, 15] against the noise-free truth) and ``test_mse``
        (rollout on [15, 30] from the true state at 15).
    """
    data = make_forced_van_der_pol()
    model = CollocationNeuralODE(random_state=random_state)
    start = time.perf_counter()
    model.fit(np.column_stack([data["t"], data["u"]]), data["y"])
    fit_time = time.perf_counter() - start

    train = model.simulate(data["t"], [0.0, 1.0], data["u"])
    test = model.simulate(data["t_test"], data["y_test"][0], data["u_test"])
    metrics = {
        "fit_time": fit_time,
        "n_iter": model.n_iter_,
        "status": model.termination_condition_,
        "train_mse": float(np.mean((train - data["y_true"]) ** 2)),
        "test_mse": float(np.mean((test - data["y_test"]) ** 2)),
    }
    print(
        "Forced Van der Pol, 200 noisy samples on [0, 15], 32 tanh units, alpha=1e-3\n"
        f"  fit time      {metrics['fit_time']:.2f} s ({metrics['n_iter']} IPOPT iterations, "
        f"{metrics['status']})\n"
        f"  train MSE     {metrics['train_mse']:.4f}  (rollout on [0, 15] from (0, 1))\n"
        f"  test MSE      {metrics['test_mse']:.4f}  (forecast on [15, 30] from the true state)"
    )

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  plot          skipped: matplotlib is not installed")
        return metrics

    figure, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for i, (axis, label) in enumerate(zip(axes, ["position x", "velocity v"])):
        axis.plot(data["t"], data["y"][:, i], ".", color="0.6", markersize=3, label="noisy data")
        axis.plot(data["t"], data["y_true"][:, i], "k-", linewidth=1, label="truth")
        axis.plot(data["t_test"], data["y_test"][:, i], "k-", linewidth=1)
        axis.plot(data["t"], train[:, i], "C0--", label="fit (rollout)")
        axis.plot(data["t_test"], test[:, i], "C1--", label="forecast")
        axis.set_ylabel(label)
    axes[0].legend(loc="upper left", ncol=4, fontsize=8)
    axes[1].set_xlabel("t")
    figure.tight_layout()
    figure.savefig(output, dpi=120)
    plt.close(figure)
    print(f"  plot          {output}")
    return metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fit the forced Van der Pol case study.")
    parser.add_argument("--output", default="van_der_pol.png", help="path of the PNG plot")
    parser.add_argument("--random-state", type=int, default=0, help="seed of the weights")
    arguments = parser.parse_args(argv)
    run(arguments.output, arguments.random_state)


if __name__ == "__main__":
    main()

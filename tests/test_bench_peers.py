"""The peer benchmark script: its data sets, scoring, summary and smoke run."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_peers  # noqa: E402
import cases  # noqa: E402


def test_robertson_matches_reference_values():
    # Values at t = 40 as commonly quoted for this stiff test problem.
    # NOTE: quoted from memory, not copied from an opened source; the scipy
    # Radau solution agrees with them to 1e-5.
    states = cases.simulate_robertson(np.array([40.0]))
    np.testing.assert_allclose(states[0], [0.7158271, 9.185535e-6, 0.2841637], rtol=1e-5)


def test_robertson_case_conserves_mass():
    t = np.logspace(-1, 5, 40)
    states = cases.simulate_robertson(t)
    np.testing.assert_allclose(states.sum(axis=1), 1.0, atol=1e-8)
    case = cases.make_robertson_case()
    assert case["y"].shape == (40, 3)
    np.testing.assert_allclose(case["t"][[0, -1]], [1e-1, 1e5])
    # Scaled per species: the largest value of each column over both spans is 1.
    largest = np.abs(np.vstack([case["y"], case["test_truth"]])).max(axis=0)
    np.testing.assert_allclose(largest, 1.0)


def test_lorenz96_equilibrium_and_size_check():
    forcing = 8.0
    np.testing.assert_allclose(cases.lorenz96(0.0, np.full(6, forcing), forcing), 0.0)
    with pytest.raises(ValueError, match="n_states >= 4, got 3"):
        cases.make_lorenz96_case(3)
    case = cases.make_lorenz96_case(4, n_samples=50)
    assert case["y"].shape == (50, 4)
    np.testing.assert_allclose(case["test_truth"][0], case["train_truth"][-1])


def test_score_network_constant_rate():
    # A network whose output is the constant c: the rollout is y0 + c (t - t0).
    c = np.array([0.5, -1.0])
    coefs = [np.zeros((2, 3)), np.zeros((3, 2))]
    intercepts = [np.zeros(3), c]
    t = np.linspace(0.0, 2.0, 11)
    t_test = np.linspace(2.0, 3.0, 6)
    y0 = np.array([1.0, 2.0])
    line = y0 + np.outer(t, c)
    line_test = line[-1] + np.outer(t_test - 2.0, c)
    case = {
        "u": None,
        "test_u": None,
        "train_t": t,
        "train_y0": y0,
        "train_truth": line,
        "test_t": t_test,
        "test_truth": line_test + 1.0,
    }
    train_mse, test_mse = bench_peers.score_network(case, coefs, intercepts)
    assert train_mse == pytest.approx(0.0, abs=1e-12)
    # The test rollout starts from test_truth[0], which is shifted by 1 like
    # the rest of test_truth, so it matches exactly too.
    assert test_mse == pytest.approx(0.0, abs=1e-12)
    case["test_truth"] = line_test + np.array([[0.0, 0.0]] + [[1.0, 1.0]] * 5)
    _, test_mse = bench_peers.score_network(case, coefs, intercepts)
    assert test_mse == pytest.approx(5 / 6, rel=1e-9)


def test_summary_ratio_pairs_repeats():
    rows = []
    for repeat, (ours, peer) in enumerate([(1.0, 10.0), (2.0, 30.0), (4.0, 20.0)]):
        for tool, seconds in (("nodecoll", ours), ("diffrax", peer)):
            rows.append(
                {"variant": "", "tool": tool, "repeat": repeat, "status": "done",
                 "fit_s": seconds, "iterations": 5, "train_mse": 0.1, "test_mse": 0.2,
                 "peak_mb": 100.0}
            )
    lines = bench_peers.summarise(rows)
    peer_line = next(line for line in lines if "| diffrax |" in line)
    cells = [cell.strip() for cell in peer_line.strip("|").split("|")]
    # Per-repeat ratios 10, 15 and 5: median 10. The ratio of medians would be 10 too,
    # so the median fit time (20) distinguishes the columns.
    assert cells[3] == "20"
    assert cells[4] == "10"
    assert cells[2] == "3/3"


def test_quick_run_writes_tables(tmp_path):
    command = [
        sys.executable, str(BENCHMARKS / "bench_peers.py"),
        "--quick", "--case", "width", "--output", str(tmp_path),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    with open(tmp_path / "width.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["variant"] for row in rows] == ["width=8"]
    for row in rows:
        assert row["tool"] == "nodecoll"
        assert 0 < int(row["iterations"]) <= bench_peers.QUICK_MAX_ITER
        assert float(row["fit_s"]) > 0
        assert np.isfinite(float(row["test_mse"]))
        assert float(row["peak_mb"]) > 10
    report = (tmp_path / "width.md").read_text()
    assert "Medians over repeats" in report
    assert "scikit-learn " in report


@pytest.mark.slow
def test_quick_run_all_cases(tmp_path):
    command = [sys.executable, str(BENCHMARKS / "bench_peers.py"), "--quick", "--output",
               str(tmp_path)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-2000:]
    for case in bench_peers.CASES:
        with open(tmp_path / f"{case}.csv") as handle:
            rows = list(csv.DictReader(handle))
        assert rows, case
        assert all(row["status"] not in ("crashed", "") for row in rows), case


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["torchdiffeq", "diffrax"])
def test_peer_returns_network_layout(tool):
    pytest.importorskip(tool)
    import peers

    case = cases.make_van_der_pol_case(with_input=True, n_samples=20)
    epochs_seen = []
    coefs, intercepts, epochs, fit_time = peers.PEERS[tool](
        case, 0, lambda epoch, loss: epochs_seen.append(epoch), epoch_fraction=0.002
    )
    # 0.002 of the protocol rounds to 1 or 2 epochs in the first phase.
    assert epochs == sum(max(1, round(n * 0.002)) for n in peers.PEERS_EPOCHS[tool])
    assert [W.shape for W in coefs] == [(3, 32), (32, 2)]
    assert [b.shape for b in intercepts] == [(32,), (2,)]
    assert fit_time > 0

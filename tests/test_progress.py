"""Progress reporting: log lines, IPOPT's iteration table and the per-iteration curves."""

import logging
import re

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_nodecoll import CollocationNeuralODE

LOGGER = "sklearn_nodecoll.estimator"

# One row of IPOPT's iteration table: the iteration number (with an "r"
# suffix during restoration), the objective and the primal infeasibility.
TABLE_ROW = re.compile(r"^\s*(\d+)r?\s+(\S+)\s+(\S+)\s+\S+\s+\S+")


def decay_data():
    t = np.linspace(0.0, 4.0, 40)
    return t, np.exp(-t)


def small_model(**params):
    return CollocationNeuralODE(hidden_layer_sizes=(4,), n_collocation=16, random_state=0, **params)


def test_verbose_1_logs_start_and_end(caplog):
    t, y = decay_data()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        model = small_model(verbose=1).fit(t, y)
    records = [record for record in caplog.records if record.name == LOGGER]
    assert len(records) == 2
    start, end = (record.getMessage() for record in records)
    assert "1 trajectory(ies)" in start
    assert "16 nodes" in start
    assert "1 states" in start
    n_weights = sum(W.size + b.size for W, b in zip(model.coefs_, model.intercepts_))
    assert n_weights == 13
    assert "13 weights" in start
    assert "40 observed values" in start
    assert model.termination_condition_ in end
    assert f"after {model.n_iter_} iterations" in end
    assert f"objective {model.objective_:.6g}" in end
    assert re.search(r"\d+\.\d\d s\.$", end)


def test_verbose_0_logs_nothing_at_info(caplog):
    t, y = decay_data()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        small_model(verbose=0).fit(t, y)
    assert [record for record in caplog.records if record.name == LOGGER] == []


def test_verbose_2_prints_ipopt_table(capfd):
    t, y = decay_data()
    model = small_model(verbose=2).fit(t, y)
    output = capfd.readouterr().out
    assert "iter    objective    inf_pr" in output
    assert "EXIT: Optimal Solution Found." in output

    # IPOPT repeats the header line every 10 iterations; TABLE_ROW skips it.
    table = output.split("iter    objective", 1)[1].split("Number of Iterations")[0]
    rows = [TABLE_ROW.match(line) for line in table.splitlines()]
    rows = [row for row in rows if row]
    assert len(rows) == model.n_iter_ + 1
    assert [int(row.group(1)) for row in rows] == list(range(model.n_iter_ + 1))
    # IPOPT prints 8 significant digits of the objective and 3 of inf_pr.
    objective = np.array([float(row.group(2)) for row in rows])
    violation = np.array([float(row.group(3)) for row in rows])
    np.testing.assert_allclose(model.loss_curve_, objective, rtol=1e-7)
    np.testing.assert_allclose(model.constraint_violation_curve_, violation, rtol=5e-3)


def test_curves_have_one_entry_per_iterate():
    t, y = decay_data()
    model = small_model().fit(t, y)
    assert model.loss_curve_.shape == (model.n_iter_ + 1,)
    assert model.constraint_violation_curve_.shape == (model.n_iter_ + 1,)
    assert model.loss_curve_[-1] == pytest.approx(model.objective_, rel=1e-12)
    assert model.constraint_violation_curve_[-1] < 1e-6
    assert model.constraint_violation_curve_[0] > model.constraint_violation_curve_[-1]


def test_curves_stop_at_iteration_limit():
    t, y = decay_data()
    # Xavier weights, because derivative matching may converge within 3 iterations.
    with pytest.warns(ConvergenceWarning, match=r"Maximum_Iterations_Exceeded after 3 iterations"):
        model = small_model(max_iter=3, weight_init="xavier").fit(t, y)
    assert model.n_iter_ == 3
    assert model.loss_curve_.shape == (4,)
    assert model.constraint_violation_curve_.shape == (4,)

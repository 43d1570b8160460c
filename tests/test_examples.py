"""Run every example script at the reduced size, as the documentation build does."""

import os
import pathlib
import runpy

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("plot_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    monkeypatch.setenv("SKLEARN_NODECOLL_EXAMPLE_SIZE", "small")
    namespace = runpy.run_path(str(path), run_name="__main__")
    model = namespace.get("model", namespace.get("search"))
    assert model is not None
    import matplotlib.pyplot as plt

    assert plt.get_fignums(), f"{path.name} drew no figure"
    plt.close("all")


def test_examples_found():
    names = [path.name for path in EXAMPLES]
    assert "plot_grid_search.py" in names
    assert "plot_convergence.py" in names
    assert all(os.path.getsize(path) > 0 for path in EXAMPLES)

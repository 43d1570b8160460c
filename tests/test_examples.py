"""Run every example script at its reduced size and check the figures it draws."""

import runpy
from pathlib import Path

import pytest

from sklearn_nodecoll import datasets

matplotlib = pytest.importorskip("matplotlib")

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("plot_*.py"))

# Examples that read a measured data set, and the figures each writes.
DATA_EXAMPLES = {
    "plot_alpha_pinene.py": ("alpha_pinene_box1973.csv", ["alpha_pinene.png"]),
    "plot_cascaded_tanks.py": ("cascaded_tanks.csv", ["cascaded_tanks.png"]),
    "plot_hare_lynx.py": ("hare_lynx_1845_1935.csv", ["hare_lynx.png", "hare_lynx_phase.png"]),
    "plot_silverbox.py": ("silverbox_SNLS80mV.csv", ["silverbox.png"]),
}


def test_examples_found():
    names = [path.name for path in EXAMPLES]
    for expected in [*DATA_EXAMPLES, "plot_grid_search.py", "plot_convergence.py", "plot_admm_residuals.py"]:
        assert expected in names


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs_small(path, tmp_path, monkeypatch):
    data_file, figures = DATA_EXAMPLES.get(path.name, (None, []))
    if data_file is not None and not datasets.data_available(data_file):
        pytest.skip(f"{data_file} not found in {datasets.get_data_home()}")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    monkeypatch.setenv("SKLEARN_NODECOLL_EXAMPLE_SIZE", "small")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(path), run_name="__main__")

    assert plt.get_fignums() or figures, f"{path.name} drew no figure"
    plt.close("all")
    for figure in figures:
        written = tmp_path / figure
        assert written.is_file(), f"{path.name} did not write {figure}"
        assert written.read_bytes()[:4] == b"\x89PNG"

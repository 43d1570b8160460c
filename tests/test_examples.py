"""Run each example script at its reduced size and check the figures it writes."""

import runpy
from pathlib import Path

import pytest

from sklearn_nodecoll import datasets

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

CASES = {
    "plot_alpha_pinene.py": ("alpha_pinene_box1973.csv", ["alpha_pinene.png"]),
    "plot_cascaded_tanks.py": ("cascaded_tanks.csv", ["cascaded_tanks.png"]),
    "plot_hare_lynx.py": ("hare_lynx_1845_1935.csv", ["hare_lynx.png", "hare_lynx_phase.png"]),
    "plot_silverbox.py": ("silverbox_SNLS80mV.csv", ["silverbox.png"]),
}


def test_every_example_is_listed():
    assert sorted(path.name for path in EXAMPLES.glob("plot_*.py")) == sorted(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_small(script, tmp_path, monkeypatch):
    data_file, figures = CASES[script]
    if not datasets.data_available(data_file):
        pytest.skip(f"{data_file} not found in {datasets.get_data_home()}")
    monkeypatch.setenv("SKLEARN_NODECOLL_EXAMPLE_SIZE", "small")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    for figure in figures:
        written = tmp_path / figure
        assert written.is_file(), f"{script} did not write {figure}"
        assert written.read_bytes()[:4] == b"\x89PNG"

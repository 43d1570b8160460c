"""End-to-end tests of the command line on the cascaded-tanks file as distributed."""

import csv
import re

import joblib
import numpy as np
import pytest

from sklearn_nodecoll import datasets
from sklearn_nodecoll._table import TableError, read_table
from sklearn_nodecoll.cli import main

ORIGINAL = "cascaded_tanks_original.csv"

needs_data = pytest.mark.skipif(
    not datasets.data_available(ORIGINAL),
    reason=f"measured data folder {datasets.get_data_home()} not found; set "
    f"{datasets.DATA_ENVIRONMENT_VARIABLE} to run this test",
)


def _read_output(path):
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    return rows[0], np.array(rows[1:], dtype=float)


@needs_data
def test_original_file_matches_clean_copy():
    table = read_table(datasets.data_path(ORIGINAL))
    clean = datasets.load_cascaded_tanks()
    assert table.names[:5] == ["uEst", "uVal", "yEst", "yVal", "Ts"]
    assert table.n_rows == 1024
    np.testing.assert_array_equal(table.column("uEst"), clean["u_est"])
    np.testing.assert_array_equal(table.column("yVal"), clean["y_val"])
    # Ts is filled on the first row only, so it parses only with missing values allowed.
    sampling = table.column("Ts", allow_missing=True)
    assert sampling[0] == 4.0
    assert np.isnan(sampling[1:]).all()
    with pytest.raises(TableError, match=r"column 'Ts', row 2 \(line 3\): the cell is empty"):
        table.column("Ts")


@needs_data
def test_fit_then_predict_validation_run(tmp_path, capsys):
    model_path = tmp_path / "tanks.joblib"
    status = main([
        "fit", str(datasets.data_path(ORIGINAL)), "--sampling-period", "4",
        "--states", "yEst", "--inputs", "uEst", "--saturation", "10",
        # alpha=1e-2 rather than 1e-3: on the estimation run its free run is
        # closer to the data (RMSE 0.70 against 0.93 V) and agrees with its
        # collocation states, where 1e-3 departs from them.
        "--hidden", "8", "--alpha", "1e-2", "--random-state", "0", "--max-iter", "300",
        "--model", str(model_path),
    ])
    output = capsys.readouterr().out
    assert status == 0
    assert "Fit RMSE yEst:" in output
    assert model_path.is_file()
    plot_path = model_path.with_suffix(".png")
    assert plot_path.is_file()
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    prediction_path = tmp_path / "validation.csv"
    status = main([
        "predict", str(model_path), str(datasets.data_path(ORIGINAL)),
        "--sampling-period", "4", "--inputs", "uVal", "--states", "yVal",
        "--from-first-row", "--output", str(prediction_path),
    ])
    assert status == 0
    assert "Prediction RMSE yVal:" in capsys.readouterr().out
    header, values = _read_output(prediction_path)
    assert header == ["t", "yEst"]
    assert values.shape == (1024, 2)

    clean = datasets.load_cascaded_tanks()
    np.testing.assert_allclose(values[:, 0], clean["t"])
    model = joblib.load(model_path)["model"]
    expected = model.simulate(clean["t"], [clean["y_val"][0]], clean["u_val"][:, None])
    np.testing.assert_allclose(values[:, 1], expected[:, 0], rtol=1e-12)
    # A one-state model without the upper tank does worse than the
    # 0.6 V target, but far better than the mean predictor's 2.10 V.
    rmse = np.sqrt(np.mean((values[:, 1] - clean["y_val"]) ** 2))
    assert rmse < 1.2


def _write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "content, arguments, message",
    [
        ("t,y\n0,1\n1,2\n2,3\n", ["--states", "z"], r"column 'z' not found; the header has 't', 'y'"),
        ("t,y\n0,1\n1,abc\n2,3\n", ["--states", "y"],
         r"column 'y', row 2 \(line 3\): cannot parse 'abc' as a number"),
        ("t,y\n0,1\n2,2\n1,3\n", ["--states", "y"],
         r"column 't', row 3 \(line 4\): time 1 comes before the previous row's 2"),
        ("", ["--states", "y"], r"the file is empty"),
        ("t,y\n", ["--states", "y"], r"header but no data rows"),
        ("t,y,u\n0,1,0\n1,2,\n2,3,1\n", ["--states", "y", "--inputs", "u"],
         r"column 'u', row 2 \(line 3\): the cell is empty"),
        ("t,y,u\n0,1,0\n1,2,inf\n2,3,1\n", ["--states", "y", "--inputs", "u"],
         r"column 'u', row 2 \(line 3\): expected a finite number, got 'inf'"),
        ("t,y,y\n0,1,1\n", ["--states", "y"], r"column name 'y' appears more than once"),
        ("t,x\n0,2,0\n0.5,2,479\n1,2,841\n", ["--states", "x"],
         r"row 1 \(line 2\) has 3 fields, but the header has 2\. Check the delimiter"),
        ("t,x\n0,1\n1\n2,3\n", ["--states", "x"], r"row 2 \(line 3\) has 1 fields, but the header has 2"),
    ],
    ids=["missing-column", "non-numeric", "unsorted", "empty", "header-only",
         "empty-input", "infinite-input", "repeated-name", "decimal-comma", "short-row"],
)
def test_fit_reports_file_errors(tmp_path, capsys, content, arguments, message):
    data = _write(tmp_path / "data.csv", content)
    status = main(["fit", data, "--time", "t", *arguments, "--model", str(tmp_path / "m.joblib")])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("sklearn-nodecoll: error: ")
    assert re.search(message, error), error
    assert not (tmp_path / "m.joblib").exists()


def test_fit_missing_file_and_missing_model(tmp_path, capsys):
    status = main(["fit", str(tmp_path / "absent.csv"), "--time", "t", "--states", "y",
                   "--model", str(tmp_path / "m.joblib")])
    assert status == 2
    assert "No such file or directory" in capsys.readouterr().err

    data = _write(tmp_path / "data.csv", "t,y\n0,1\n1,2\n2,3\n")
    status = main(["predict", str(tmp_path / "absent.joblib"), data, "--time", "t",
                   "--output", str(tmp_path / "p.csv")])
    assert status == 2
    assert re.search(r"Model file .*absent.joblib not found", capsys.readouterr().err)


def test_fit_and_predict_small_file(tmp_path, capsys):
    t = np.linspace(0.0, 4.0, 41)
    lines = ["time,level"] + [f"{a:.17g},{b:.17g}" for a, b in zip(t, np.exp(-t))]
    data = _write(tmp_path / "decay.csv", "\n".join(lines) + "\n")
    model_path = tmp_path / "decay.joblib"
    status = main(["fit", data, "--time", "time", "--states", "level", "--hidden", "4",
                   "--model", str(model_path), "--no-plot"])
    assert status == 0
    assert not model_path.with_suffix(".png").exists()

    later = _write(tmp_path / "later.csv", "time\n4.5\n5.0\n")
    output = tmp_path / "p.csv"
    status = main(["predict", str(model_path), later, "--time", "time", "--output", str(output)])
    assert status == 0
    header, values = _read_output(output)
    assert header == ["time", "level"]
    np.testing.assert_allclose(values[:, 1], np.exp(-values[:, 0]), atol=0.02)

    with_input = _write(tmp_path / "with_input.csv", "time,u\n4.5,0\n5.0,1\n")
    status = main(["predict", str(model_path), with_input, "--time", "time", "--inputs", "u",
                   "--output", str(tmp_path / "q.csv")])
    assert status == 2
    assert re.search(r"--inputs names 1 column\(s\), but the model was fitted with 0 inputs",
                     capsys.readouterr().err)


def test_predict_from_first_row_allows_later_gaps(tmp_path, capsys):
    t = np.linspace(0.0, 4.0, 41)
    lines = ["time,level"] + [f"{a:.17g},{b:.17g}" for a, b in zip(t, np.exp(-t))]
    data = _write(tmp_path / "decay.csv", "\n".join(lines) + "\n")
    model_path = tmp_path / "decay.joblib"
    assert main(["fit", data, "--time", "time", "--states", "level", "--hidden", "4",
                 "--model", str(model_path), "--no-plot"]) == 0

    gappy = _write(tmp_path / "gappy.csv", "time,level\n1.0,0.5\n1.5,\n2.0,0.2\n")
    output = tmp_path / "p.csv"
    status = main(["predict", str(model_path), gappy, "--time", "time", "--from-first-row",
                   "--output", str(output)])
    assert status == 0
    _, values = _read_output(output)
    # From 0.5 at t=1 the learned decay e^-t gives 0.5 e^-(t-1).
    np.testing.assert_allclose(values[:, 1], 0.5 * np.exp(-(values[:, 0] - 1.0)), atol=0.02)

    no_start = _write(tmp_path / "no_start.csv", "time,level\n1.0,\n1.5,0.4\n")
    status = main(["predict", str(model_path), no_start, "--time", "time", "--from-first-row",
                   "--output", str(tmp_path / "q.csv")])
    assert status == 2
    assert "needs every state in the first data row, but level is missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--states", "y,y"], r"column 'y' is named twice in --states"),
        (["--states", "t"], r"column 't' is named in --time and --states"),
        (["--states", "y", "--inputs", "y"], r"column 'y' is named in --states and --inputs"),
    ],
    ids=["repeated-state", "time-as-state", "state-as-input"],
)
def test_fit_rejects_column_in_two_roles(tmp_path, capsys, arguments, message):
    data = _write(tmp_path / "data.csv", "t,y,u\n0,1,0\n1,2,1\n2,3,0\n")
    status = main(["fit", data, "--time", "t", *arguments, "--model", str(tmp_path / "m.joblib")])
    assert status == 2
    assert re.search(message, capsys.readouterr().err)


def test_fit_rejects_missing_model_folder_before_fitting(tmp_path, capsys):
    data = _write(tmp_path / "data.csv", "t,y\n0,1\n1,2\n2,3\n")
    model_path = tmp_path / "absent" / "m.joblib"
    status = main(["fit", data, "--time", "t", "--states", "y", "--model", str(model_path)])
    output = capsys.readouterr()
    assert status == 2
    assert re.search(r"--model .*m\.joblib: the folder .*absent does not exist", output.err)
    assert "IPOPT" not in output.out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--model", "{dir}/m.png"], r"the default plot \(--model with \.png\) and --model name the same file"),
        (["--model", "{dir}/data.csv"], r"--model and data file name the same file"),
        (["--model", "{dir}/m.joblib", "--plot", "{dir}/m.joblib"], r"--plot .*m\.joblib: unsupported image format"),
        (["--model", "{dir}"], r"--model .* is a folder\. Give a file name"),
    ],
    ids=["plot-over-model", "model-over-data", "plot-format", "model-is-folder"],
)
def test_fit_rejects_clashing_output_paths(tmp_path, capsys, arguments, message):
    content = "t,y\n0,1\n1,2\n2,3\n"
    data = _write(tmp_path / "data.csv", content)
    arguments = [argument.format(dir=tmp_path) for argument in arguments]
    status = main(["fit", data, "--time", "t", "--states", "y", *arguments])
    output = capsys.readouterr()
    assert status == 2
    assert re.search(message, output.err), output.err
    assert "IPOPT" not in output.out
    assert (tmp_path / "data.csv").read_text() == content


def test_predict_rejects_output_over_data(tmp_path, capsys):
    data = _write(tmp_path / "later.csv", "t\n4.5\n5.0\n")
    status = main(["predict", str(tmp_path / "m.joblib"), data, "--time", "t", "--output", data])
    assert status == 2
    assert re.search(r"--output and data file name the same file", capsys.readouterr().err)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--states", "y,"], r"argument --states: expected comma-separated column names without empty entries"),
        (["--states", "y", "--saturation", "nan"], r"argument --saturation: expected a finite number, got 'nan'"),
    ],
    ids=["empty-name", "nan-saturation"],
)
def test_fit_rejects_malformed_option_values(tmp_path, capsys, arguments, message):
    data = _write(tmp_path / "data.csv", "t,y\n0,1\n1,2\n2,3\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", data, "--time", "t", *arguments, "--model", str(tmp_path / "m.joblib")])
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)

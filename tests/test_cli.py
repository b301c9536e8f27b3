"""The ``skdeep`` command: compare, fit, predict, help and one-line errors."""

import csv
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import make_pipeline

import skdeep
from skdeep import _compare, cli
from skdeep._cli_families import FAMILIES, resolve
from skdeep._persist import load, save
from skdeep.cli import build_parser, main

pd = pytest.importorskip("pandas")

# A tiny grid: every compare below runs in about a second.
FAST = [
    "--max-iter",
    "3",
    "--cv",
    "2",
    "--activation",
    "relu",
    "--optimizer",
    "adam",
    "--batch-size",
    "auto",
]


@pytest.fixture
def data_csv(tmp_path) -> Path:
    """60 rows: two numeric features, a text label and a numeric target."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1]})
    frame["label"] = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    frame["value"] = 2 * X[:, 0] - X[:, 1] + 0.1 * rng.randn(60)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def model_file(tmp_path, data_csv) -> Path:
    """A stand-in for a model from ``skdeep fit`` that needs no training."""
    frame = pd.read_csv(data_csv)
    model = make_pipeline(DummyClassifier()).fit(frame[["a", "b"]], frame["label"])
    path = tmp_path / "model.skdeep"
    save(model, path)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def table_rows(out: str) -> list[list[str]]:
    lines = out.strip().splitlines()
    assert lines[0].split()[0] == "rank"
    return [line.split() for line in lines[1:]]


# -- compare ------------------------------------------------------------------


def test_compare_iris_ranks_candidates_and_writes_cv_results(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "compare",
        "--data",
        "iris",
        "--dropout",
        "0",
        "0.2",
        *FAST,
        "--output",
        tmp_path / "res" / "iris",  # made, parents too
    )
    assert code == 0
    rows = table_rows(out)
    assert [row[0] for row in rows] in (["1", "2"], ["1", "1"])
    assert "mean accuracy" in out and "dropout" in out
    scores = [float(row[1]) for row in rows]
    assert scores == sorted(scores, reverse=True)
    assert "compare" in err and "2/2" in err  # the progress bar
    # Not a terminal: one plain line per candidate, no redraws.
    progress = [line for line in err.splitlines() if line.startswith("compare:")]
    assert "\r" not in err and len(progress) >= 3
    with open(tmp_path / "res" / "iris" / "cv_results.csv", newline="") as handle:
        results = list(csv.DictReader(handle))
    assert len(results) == 2
    assert {
        "param_dropout",
        "params",
        "split0_test_score",
        "split1_test_score",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "mean_fit_time",
    } <= set(results[0])
    assert {r["param_dropout"] for r in results} == {"0", "0.2"}


def test_compare_quiet_prints_only_the_table(capsys):
    code, out, err = run(
        capsys, "compare", "--data", "wine", "--dropout", "0", *FAST, "--quiet"
    )
    assert code == 0 and err == ""
    assert len(table_rows(out)) == 1


def test_compare_diabetes_is_regression(capsys):
    code, out, err = run(
        capsys,
        "compare",
        "--data",
        "diabetes",
        "--dropout",
        "0",
        *FAST,
        "--hidden",
        "8",
        "4,4",
    )
    assert code == 0
    assert "mean r2" in out and "(regress)" in err
    assert {row[-2] for row in table_rows(out)} == {"8", "4,4"}


def test_compare_scoring_and_batch_modes(capsys):
    code, out, _ = run(
        capsys,
        "compare",
        "--data",
        "breast_cancer",
        "--dropout",
        "0",
        *FAST[:-1],
        "full",
        "16",
        "--scoring",
        "f1",
    )
    assert code == 0
    assert "mean f1" in out
    assert {row[5] for row in table_rows(out)} == {"full", "16"}


def test_compare_csv_with_text_labels(capsys, data_csv):
    code, out, err = run(
        capsys,
        "compare",
        "--csv",
        data_csv,
        "--target",
        "label",
        "--dropout",
        "0",
        *FAST,
    )
    assert code == 0
    assert "data.csv: 60 samples x 3 features (classify)" in err
    assert len(table_rows(out)) == 1


def numeric_only(path: Path) -> Path:
    pd.read_csv(path).drop(columns=["label"]).to_csv(path, index=False)
    return path


def test_compare_csv_guesses_regression(capsys, data_csv):
    numeric_only(data_csv)
    code, out, err = run(
        capsys,
        "compare",
        "--csv",
        data_csv,
        "--target",
        "value",
        "--dropout",
        "0",
        *FAST,
    )
    assert code == 0
    assert "(regress)" in err and "mean r2" in out


# -- fit and predict ------------------------------------------------------------


def test_fit_then_predict_round_trip(capsys, data_csv, tmp_path):
    model_path = tmp_path / "model.skdeep"
    code, out, _ = run(
        capsys,
        "fit",
        "--csv",
        data_csv,
        "--target",
        "label",
        "--output",
        model_path,
        "--hidden",
        "16",
        "--max-iter",
        "20",
    )
    assert code == 0
    assert "DNNClassifier" in out and "training accuracy" in out
    with zipfile.ZipFile(model_path) as archive:  # a safe model file
        assert archive.namelist() == ["skdeep.json", "tensors.safetensors"]
    model = load(model_path)
    frame = pd.read_csv(data_csv)
    expected = model.predict(frame.drop(columns="label")).tolist()

    code, out, _ = run(capsys, "predict", "--model", model_path, "--csv", data_csv)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "prediction" and lines[1:] == expected

    out_path = tmp_path / "predictions.csv"
    code, _, err = run(
        capsys,
        "predict",
        "--model",
        model_path,
        "--csv",
        data_csv,
        "--output",
        out_path,
    )
    assert code == 0 and "wrote 60 predictions" in err
    assert pd.read_csv(out_path)["prediction"].tolist() == expected
    # written atomically: no temporary file left, the mode of a new file
    assert sorted(os.listdir(tmp_path)) == [
        "data.csv",
        "model.skdeep",
        "predictions.csv",
    ]
    umask = os.umask(0)
    os.umask(umask)
    assert model_path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_fit_regression(capsys, data_csv, tmp_path):
    numeric_only(data_csv)
    code, out, _ = run(
        capsys,
        "fit",
        "--csv",
        data_csv,
        "--target",
        "value",
        "--output",
        tmp_path / "m.joblib",
        "--max-iter",
        "5",
        "--optimizer",
        "sgd",
        "--batch-size",
        "full",
    )
    assert code == 0
    assert "DNNRegressor" in out and "training R^2" in out


# -- families -------------------------------------------------------------------


@pytest.fixture
def digits_csv(tmp_path) -> Path:
    """90 digits of three classes: 64 pixel columns and a label."""
    X, y = load_digits(n_class=3, return_X_y=True)
    frame = pd.DataFrame(X[:90], columns=[f"p{i}" for i in range(64)])
    frame["label"] = y[:90]
    path = tmp_path / "digits.csv"
    frame.to_csv(path, index=False)
    return path


def column(out: str, name: str) -> list[str]:
    """A parameter's column of ``skdeep compare``'s table."""
    names = out.splitlines()[0].split()[7:]  # after "rank mean x std fit time (s)"
    return [row[4 + names.index(name)] for row in table_rows(out)]


# family -> (its flags, the knob they vary, its values, the header's note)
FAMILY_RUNS = {
    "cnn": (
        ["--architecture", "lenet5", "4,8", "--input-shape", "1x8x8"],
        "architecture",
        {"lenet5", "4,8"},
        "cnn, input_shape=1,8,8; 2 candidates",
    ),
    "rnn": (
        ["--cell", "lstm", "gru", "--hidden-size", "8", "--input-shape", "8,8"],
        "cell",
        {"lstm", "gru"},
        "rnn, input_shape=8,8; 2 candidates",
    ),
    "dbn": (
        ["--pretrain", "true", "false", "--pretrain-max-iter", "1", "--hidden", "16"],
        "pretrain",
        {"true", "false"},
        "dbn; 2 candidates",
    ),
}


@pytest.mark.parametrize("family", FAMILY_RUNS)
def test_compare_each_family_on_a_csv(capsys, digits_csv, tmp_path, family):
    flags, knob, values, note = FAMILY_RUNS[family]
    code, out, err = run(
        capsys,
        "compare",
        "--family",
        family,
        "--csv",
        digits_csv,
        "--target",
        "label",
        *flags,
        "--dropout",
        "0",
        *FAST,
        "--output",
        tmp_path / "res",
    )
    assert code == 0
    assert f"digits.csv: 90 samples x 64 features (classify); {note}" in err
    assert set(column(out, knob)) == values
    with open(tmp_path / "res" / "cv_results.csv", newline="") as handle:
        assert {row[f"param_{knob}"] for row in csv.DictReader(handle)} == values


def test_cnn_reads_the_bundled_digits_as_images(capsys):
    code, out, err = run(capsys, "compare", "--family", "cnn", "--dropout", "0", *FAST)
    assert code == 0
    assert (
        "digits: 1797 samples x 64 features (classify); cnn, input_shape=1,8,8" in err
    )
    assert column(out, "architecture") == ["lenet5"]


def test_rnn_regression_reads_rows_as_univariate_sequences(capsys):
    code, out, err = run(
        capsys, "compare", "--family", "rnn", "--data", "diabetes", "--cell", "gru",
        "--hidden-size", "4", "--dropout", "0", *FAST,
    )  # fmt: skip
    assert code == 0
    assert "(regress); rnn; 1 candidates" in err and "mean r2" in out


@pytest.mark.parametrize(
    "family, shape", [("dnn", None), ("cnn", (1, 8, 8)), ("rnn", (8, 8)), ("dbn", None)]
)
def test_default_grids_and_digits_shapes(family, shape):
    args = build_parser().parse_args(["compare", "--family", family])
    grid, fixed = resolve(args, 64, "digits")
    assert grid == FAMILIES[family].grid
    assert fixed == ({} if shape is None else {"input_shape": shape})
    assert resolve(args, 64, None)[1] == {}  # a CSV file's rows: no guess


def test_the_default_run_is_the_original_grid():
    args = build_parser().parse_args(["compare"])
    assert args.family == "dnn"
    assert resolve(args, 64, "digits") == (
        {
            "dropout": [0.0, 0.2, 0.5],
            "activation": ["relu", "tanh"],
            "optimizer": ["adam", "momentum", "sgd"],
            "batch_size": ["auto", 32],
            "hidden_layer_sizes": [(100,)],
        },
        {},
    )


def test_given_flags_replace_the_family_defaults():
    args = build_parser().parse_args(
        ["compare", "--family", "rnn", "--cell", "gru", "--bidirectional", "true"]
    )
    grid, _ = resolve(args, 64, "digits")
    assert grid == {**FAMILIES["rnn"].grid, "cell": ["gru"], "bidirectional": [True]}


FIT_FAMILIES = {
    "cnn": (["--input-shape", "1,8,8", "--architecture", "4,8"], "CNNClassifier"),
    "rnn": (["--input-shape", "8x8", "--cell", "gru", "--hidden-size", "8"], "RNN"),
    "dbn": (["--hidden", "16", "--pretrain-max-iter", "1"], "DBNClassifier"),
}


@pytest.mark.parametrize("family", FIT_FAMILIES)
def test_fit_then_predict_each_family(capsys, digits_csv, tmp_path, family):
    flags, name = FIT_FAMILIES[family]
    model_path = tmp_path / "model.skdeep"
    fit = ["fit", "--family", family, "--csv", digits_csv, "--target", "label"]
    code, out, _ = run(capsys, *fit, *flags, "--max-iter", "2", "--output", model_path)
    assert code == 0 and out.startswith(f"{name}")
    model = load(model_path)
    assert type(model[-1]) is FAMILIES[family].classifier
    frame = pd.read_csv(digits_csv)
    expected = [str(label) for label in model.predict(frame.drop(columns="label"))]
    code, out, _ = run(capsys, "predict", "--model", model_path, "--csv", digits_csv)
    assert code == 0
    assert out.splitlines()[1:] == expected


FAMILY_ERRORS = [
    (
        ["compare", "--family", "cnn", "--cell", "lstm"],
        "--cell does not apply to --family cnn (CNNClassifier has no cell); "
        "it is for --family rnn",
    ),
    (["compare", "--pretrain", "true"], "--pretrain does not apply to --family dnn"),
    (
        ["compare", "--family", "dbn", "--input-shape", "8,8"],
        "--input-shape does not apply to --family dbn (DBNClassifier has no "
        "input_shape); it is for --family cnn or --family rnn",
    ),
    (
        "fit --csv {csv} --target label --output m.skdeep --family rnn "
        "--architecture vgg".split(),
        "--architecture does not apply to --family rnn",
    ),
    (
        ["compare", "--family", "cnn", "--input-shape", "1,8,9"],
        "--input-shape 1,8,9 holds 72 values per row, but the data has 64 "
        "feature columns",
    ),
    (
        ["compare", "--family", "rnn", "--input-shape", "1,8,8"],
        "--input-shape 1,8,8: --family rnn reads a row as (T, F)",
    ),
    (["compare", "--input-shape", "8x0"], "argument --input-shape: expected 2 or 3"),
    (["compare", "--family", "rnn", "--bidirectional", "yes!"], "true or false"),
    (["compare", "--architecture", "lenet"], "argument --architecture: expected"),
    (["compare", "--cell", "lstn"], "unknown cell 'lstn' (did you mean 'lstm'?)"),
    (["compare", "--family", "mlp"], "argument --family: invalid choice: 'mlp'"),
    (
        ["compare", "--n-jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"],
        "give --n-jobs or --scheduler, not both",
    ),
]


@pytest.mark.parametrize("argv, message", FAMILY_ERRORS)
def test_family_usage_errors_exit_2(capsys, data_csv, no_training, argv, message):
    code, out, err = run(capsys, *[a.format(csv=data_csv) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("skdeep: error: ") and err.count("\n") == 1
    assert message in err


def test_scheduler_without_dask_says_what_to_install(capsys, monkeypatch, no_training):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    argv = ["compare", "--data", "iris", "--scheduler", "tcp://127.0.0.1:8786"]
    code, out, err = run(capsys, *argv, "--quiet")
    assert code == 1 and out == ""
    assert err == (
        "skdeep: error: --scheduler needs Dask's distributed package: "
        'pip install "skdeep[dask]"\n'
    )


# -- errors -------------------------------------------------------------------

ERRORS = [
    (["compare", "--activation", "foo"], "unknown activation 'foo'; valid: "),
    (["compare", "--optimizer", "adamm"], "did you mean 'adam'"),
    (["compare", "--dropout", "-0.5"], "dropout rate in [0, 1)"),
    (["compare", "--dropout", "1"], "dropout rate in [0, 1)"),
    (["compare", "--batch-size", "0"], "'auto', 'full' or a positive integer"),
    (["compare", "--hidden", "64,x"], "positive layer sizes"),
    (["compare", "--data", "mnist"], "unknown data set 'mnist'"),
    (["compare", "--scoring", "acuracy"], "unknown scoring 'acuracy'"),
    (["compare", "--cv", "1"], "an integer >= 2"),
    (["compare", "--n-jobs", "0"], "--n-jobs: expected a non-zero integer"),
    (["compare", "--n-jobs", "two"], "--n-jobs: expected a non-zero integer"),
    (["compare", "--target", "y"], "--target needs --csv"),
    (["compare", "--csv", "missing.csv", "--target", "y"], "no such file"),
    (["compare", "--csv", "{csv}", "--target", "nope"], "unknown column 'nope'"),
    (["compare", "--csv", "{csv}"], "--csv needs --target"),
    (
        ["compare", "--data", "iris", "--csv", "{csv}", "--target", "label"],
        "either --data or --csv",
    ),
    (["fit", "--csv", "{csv}", "--target", "label"], "--output"),
    (
        [
            "fit",
            "--csv",
            "{csv}",
            "--target",
            "label",
            "--task",
            "regress",
            "--output",
            "m.joblib",
        ],
        "is not numeric",
    ),
    (["predict", "--model", "missing.joblib", "--csv", "{csv}"], "no such file"),
    (["predict", "--model", "{csv}", "--csv", "{csv}"], "cannot load a model"),
    (["frobnicate"], "invalid choice"),
    ([], "choose a command"),
]


@pytest.mark.parametrize("argv, message", ERRORS)
def test_errors_are_one_line_without_traceback(capsys, data_csv, argv, message):
    code, out, err = run(capsys, *[a.format(csv=data_csv) for a in argv])
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("skdeep: error: ")
    assert message in err
    assert "Traceback" not in err


def test_non_numeric_features_are_an_error(capsys, data_csv):
    code, _, err = run(
        capsys, "fit", "--csv", data_csv, "--target", "value", "--output", "m.joblib"
    )
    assert code == 1
    assert err == (
        "skdeep: error: non-numeric feature columns in "
        f"{data_csv}: label; encode them as numbers first\n"
    )


def test_compare_reports_when_every_candidate_fails(capsys, data_csv):
    numeric_only(data_csv)  # then every value of "a" is a class of one row
    code, out, err = run(
        capsys,
        "compare",
        "--csv",
        data_csv,
        "--target",
        "a",
        "--task",
        "classify",
        "--dropout",
        "0",
        "0.1",
        *FAST,
        "--quiet",
    )
    assert code == 1 and out == ""
    assert err.startswith("skdeep: error: every candidate failed; the first: ")
    assert err.count("\n") == 1


def test_compare_ranks_a_failed_candidate_last(capsys, monkeypatch):
    make_model = _compare.make_model

    def failing_for_dropout_01(task, **params):
        if params["dropout"] == 0.1:  # a constant that is no class: fit fails
            return make_pipeline(DummyClassifier(strategy="constant", constant=99))
        return make_model(task, **params)

    monkeypatch.setattr(_compare, "make_model", failing_for_dropout_01)
    code, out, err = run(
        capsys, "compare", "--data", "iris", "--dropout", "0.1", "0", *FAST
    )
    assert code == 0
    rows = table_rows(out)
    assert rows[-1][:2] == ["2", "nan"] and rows[-1][6] == "0.1"
    assert "skdeep: warning: 1 of 2 candidates failed and rank last" in err


def test_predict_needs_the_model_columns(capsys, data_csv, tmp_path):
    model_path = tmp_path / "model.joblib"
    assert (
        main(
            [
                "fit",
                "--csv",
                str(data_csv),
                "--target",
                "label",
                "--output",
                str(model_path),
                "--max-iter",
                "2",
            ]
        )
        == 0
    )
    pd.read_csv(data_csv).drop(columns=["b"]).to_csv(data_csv, index=False)
    capsys.readouterr()
    code, _, err = run(capsys, "predict", "--model", model_path, "--csv", data_csv)
    assert code == 1
    assert err.startswith("skdeep: error: ") and "feature columns: b" in err


def test_n_jobs_takes_what_joblib_takes():
    for value in ("1", "2", "-1", "-2"):
        args = build_parser().parse_args(["compare", "--n-jobs", value])
        assert args.n_jobs == int(value)


# -- data files -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["fit", "predict"])
@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "is empty: expected a header line and rows"),
        ("\n\n", "is empty: expected a header line and rows"),
        ("a,b,label\n", "has a header but no rows"),
    ],
)
def test_empty_and_header_only_csv(
    capsys, tmp_path, model_file, command, text, problem
):
    path = tmp_path / "new.csv"
    path.write_text(text)
    argv = {
        "fit": ["--target", "label", "--output", tmp_path / "m.joblib"],
        "predict": ["--model", model_file],
    }[command]
    code, out, err = run(capsys, command, "--csv", path, *argv)
    assert code == 1 and out == ""
    assert err == f"skdeep: error: {path} {problem}\n"


def test_missing_values_are_named_by_column(capsys, data_csv, model_file, tmp_path):
    frame = pd.read_csv(data_csv)
    frame.loc[[1, 4, 7], "b"] = np.nan
    frame.loc[2, "label"] = np.nan
    frame.to_csv(data_csv, index=False)
    fix = "; fill them in or drop those rows first\n"
    fit = ["fit", "--csv", data_csv, "--target", "label"]
    code, _, err = run(capsys, *fit, "--output", tmp_path / "m.joblib")
    assert code == 1
    assert err == (
        f"skdeep: error: {data_csv} has missing values: column 'b' (3 rows), "
        f"column 'label' (1 row){fix}"
    )
    compare = ["compare", "--csv", data_csv, "--target", "label", *FAST]
    assert run(capsys, *compare)[2] == err
    # predict looks at the model's feature columns only, not at the target
    predict = ["predict", "--model", model_file, "--csv", data_csv]
    code, _, err = run(capsys, *predict)
    assert code == 1
    assert (
        err == f"skdeep: error: {data_csv} has missing values: column 'b' (3 rows){fix}"
    )
    frame.fillna({"b": 0.0}).to_csv(data_csv, index=False)
    assert run(capsys, *predict)[0] == 0


# -- output files ---------------------------------------------------------------


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a command trains anything."""

    def train(*args, **kwargs):
        pytest.fail("trained before checking --output")

    monkeypatch.setattr(cli, "make_model", train)
    monkeypatch.setattr(cli, "run_grid", train)


@pytest.fixture
def paths(tmp_path, data_csv, model_file) -> dict:
    """The inputs, a link to the CSV, a folder holding a CSV input."""
    (tmp_path / "link.csv").symlink_to(data_csv)
    (tmp_path / "res").mkdir()
    shutil.copy(data_csv, tmp_path / "res" / "cv_results.csv")
    return {"csv": data_csv, "model": model_file, "tmp": tmp_path}


def command_line(command: str, output: str, paths: dict) -> list[str]:
    """``command``'s words writing to ``output``, with the paths filled in."""
    template = {
        "fit": "fit --csv {csv} --target label --output",
        "predict": "predict --model {model} --csv {csv} --output",
        "compare": "compare --data iris --output",
    }.get(command, command)
    return [word.format(**paths) for word in [*template.split(), output]]


RES_CSV = "{tmp}/res/cv_results.csv"
COMPARE_RES = f"compare --csv {RES_CSV} --target label --output"


@pytest.mark.parametrize(
    "command, output, flag, input",
    [
        ("fit", "{csv}", "--csv", "{csv}"),
        ("fit", "{tmp}/link.csv", "--csv", "{csv}"),
        ("predict", "{csv}", "--csv", "{csv}"),
        ("predict", "{model}", "--model", "{model}"),
        ("compare --csv {csv} --target label --output", "{csv}", "--csv", "{csv}"),
        (COMPARE_RES, "{tmp}/res", "--csv", RES_CSV),
    ],
)  # fmt: skip
def test_output_may_not_be_an_input(
    capsys, paths, no_training, command, output, flag, input
):
    before = {p: p.read_bytes() for p in (paths["csv"], paths["model"])}
    code, out, err = run(capsys, *command_line(command, output, paths))
    assert code == 1 and out == ""
    output = output.format(**paths)
    if output.endswith("res"):  # the folder's cv_results.csv is the input
        output += "/cv_results.csv"
    assert err == (
        f"skdeep: error: --output {output} is the same file as {flag} "
        f"{input.format(**paths)}; choose another output\n"
    )
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize(
    "command, output, link",
    [
        ("fit", "{tmp}/m.joblib", "m.joblib"),
        ("predict", "{tmp}/out.csv", "out.csv"),
        ("compare", "{tmp}/res", "res/cv_results.csv"),
    ],
)
def test_output_through_a_symbolic_link_is_refused(
    capsys, paths, no_training, command, output, link
):
    elsewhere = paths["tmp"] / "elsewhere.txt"
    elsewhere.write_text("keep me")
    (paths["tmp"] / link).unlink(missing_ok=True)
    (paths["tmp"] / link).symlink_to(elsewhere)
    code, out, err = run(capsys, *command_line(command, output, paths))
    assert code == 1 and out == ""
    assert err == (
        f"skdeep: error: --output {paths['tmp'] / link} is a symbolic link; "
        "skdeep does not write through links: remove it or choose another path\n"
    )
    assert elsewhere.read_text() == "keep me"


@pytest.mark.parametrize(
    "command, output, message",
    [
        ("fit", "{tmp}/no/m.joblib", "--output {out}: no such folder {tmp}/no"),
        ("fit", "{tmp}", "--output {out} is a folder, not a file"),
        ("predict", "{tmp}/no/p.csv", "--output {out}: no such folder {tmp}/no"),
        ("fit", "{tmp}/ro/m.joblib", "--output {out}: folder {tmp}/ro is not writable"),
        ("compare", "{csv}", "--output {out} is a file, not a folder"),
        ("compare", "{csv}/res", "cannot create --output {out}: {csv} is not a folder"),
        (
            "compare",
            "{tmp}/ro/a/b",
            "cannot create --output {out}: {tmp}/ro is not writable",
        ),
        ("compare", "{tmp}/ro", "--output {out}: folder is not writable"),
    ],
)
def test_output_folder_is_checked_before_training(
    capsys, paths, no_training, monkeypatch, command, output, message
):
    (paths["tmp"] / "ro").mkdir()
    access = os.access  # as root every folder is writable: pretend, for "ro"
    monkeypatch.setattr(
        os, "access", lambda p, m: Path(p).name != "ro" and access(p, m)
    )
    code, out, err = run(capsys, *command_line(command, output, paths))
    assert code == 1 and out == ""
    message = message.format(out=output.format(**paths), **paths)
    assert err == f"skdeep: error: {message}\n"


class _FailingWriter:
    """A ``csv.writer`` whose disk fills up halfway."""

    def __init__(self, handle):
        self.handle = handle

    def writerows(self, rows):
        self.handle.write("prediction\npart")
        raise OSError("disk full")


def _failing_dump(model, path):
    Path(path).write_text("part of a model")
    raise OSError("disk full")


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_a_failed_write_keeps_the_old_file(capsys, paths, monkeypatch, command):
    monkeypatch.setattr(cli, "_save_model", _failing_dump)
    monkeypatch.setattr(csv, "writer", _FailingWriter)
    output = paths["tmp"] / "out"
    output.write_text("old")
    files = sorted(os.listdir(paths["tmp"]))
    extra = ["--max-iter", "1"] if command == "fit" else []
    code, _, err = run(capsys, *command_line(command, "{tmp}/out", paths), *extra)
    assert code == 1  # after the warning that one epoch did not converge:
    assert err.splitlines()[-1] == "skdeep: error: disk full"
    assert output.read_text() == "old"
    assert sorted(os.listdir(paths["tmp"])) == files


# -- untrusted model files ------------------------------------------------------


class _Payload:
    """Unpickling it writes ``marker``: the proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


def _pickle_dump(obj, path: Path):
    path.write_bytes(pickle.dumps(obj))


@pytest.mark.parametrize("dump", [joblib.dump, _pickle_dump], ids=["joblib", "pickle"])
def test_predict_refuses_a_crafted_pickle(capsys, data_csv, tmp_path, dump):
    marker = tmp_path / "marker"
    model = tmp_path / "model.joblib"
    dump(_Payload(marker), model)
    code, out, err = run(capsys, "predict", "--model", model, "--csv", data_csv)
    assert code == 1 and out == ""
    assert err.startswith(f"skdeep: error: cannot load a model from {model}: ")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "pickle" in err and "--trust-pickle" in err
    assert not marker.exists()
    # The payload is real: --trust-pickle, for files one trusts, runs it.
    args = ["predict", "--model", model, "--trust-pickle", "--csv", data_csv]
    code, _, err = run(capsys, *args)
    assert marker.read_text() == "ran"
    assert code == 1 and "not a model" in err


def test_predict_trusts_a_joblib_model_only_when_asked(capsys, data_csv, tmp_path):
    frame = pd.read_csv(data_csv)
    model = make_pipeline(DummyClassifier()).fit(frame[["a", "b"]], frame["label"])
    path = tmp_path / "old.joblib"
    joblib.dump(model, path)
    assert run(capsys, "predict", "--model", path, "--csv", data_csv)[0] == 1
    args = ["predict", "--model", path, "--trust-pickle", "--csv", data_csv]
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert out.splitlines()[1:] == model.predict(frame[["a", "b"]]).tolist()


def test_predict_refuses_a_tampered_model_file(capsys, data_csv, model_file):
    with zipfile.ZipFile(model_file) as archive:
        text = archive.read("skdeep.json").decode()
        tensors = archive.read("tensors.safetensors")
    text = text.replace("sklearn.dummy.DummyClassifier", "subprocess.Popen")
    with zipfile.ZipFile(model_file, "w") as archive:
        archive.writestr("skdeep.json", text)
        archive.writestr("tensors.safetensors", tensors)
    args = ["predict", "--model", model_file, "--csv", data_csv, "--trust-pickle"]
    code, _, err = run(capsys, *args)
    assert code == 1 and len(err.splitlines()) == 1
    assert "refused the unknown class 'subprocess.Popen'" in err


# -- pipes, version, python -m --------------------------------------------------


def test_closed_stdout_ends_quietly_with_141(tmp_path):
    read, write = os.pipe()
    os.close(read)  # nobody will read: every write to stdout fails
    try:
        result = subprocess.run(
            [sys.executable, "-m", "skdeep", "compare", "--data", "iris", *FAST],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert result.returncode == 141  # 128 + SIGPIPE, as `cat` ends
    assert "Broken pipe" not in result.stderr and "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr


def test_version_with_python_dash_m():
    result = subprocess.run(
        [sys.executable, "-m", "skdeep", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == f"skdeep {skdeep.__version__}\n"


# -- help ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["compare"], ["fit"], ["predict"]])
def test_help(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "usage: skdeep" in out and "examples:" in out


def test_console_script_help():
    script = shutil.which("skdeep", path=str(Path(sys.executable).parent))
    script = script or shutil.which("skdeep")
    assert script is not None, "the skdeep console script is not installed"
    result = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0
    assert "compare" in result.stdout and "predict" in result.stdout


def _ctrl_c_in_fit(monkeypatch, at_call: int = 1):
    """Make the n-th net fit receive Ctrl-C (SIGINT) as it starts."""
    import signal

    from skdeep import DNNClassifier

    calls = []
    fit = DNNClassifier.fit

    def interrupted(self, X, y, sample_weight=None):
        calls.append(1)
        if len(calls) == at_call:
            signal.raise_signal(signal.SIGINT)
        return fit(self, X, y, sample_weight)

    monkeypatch.setattr(DNNClassifier, "fit", interrupted)
    return calls


def test_ctrl_c_stops_compare_with_130_and_no_table(capsys, monkeypatch, tmp_path):
    calls = _ctrl_c_in_fit(monkeypatch, at_call=2)
    code, out, err = run(
        capsys,
        "compare",
        "--data",
        "iris",
        "--cv",
        "2",
        "--max-iter",
        "2",
        "--output",
        tmp_path / "res",
        "--quiet",
    )
    assert code == 130 and "interrupted" in err
    assert "rank" not in out  # no table of spoiled scores
    assert len(calls) == 2  # the grid stopped at the interrupted fit
    assert not (tmp_path / "res" / "cv_results.csv").exists()


def test_ctrl_c_stops_fit_with_130_and_saves_nothing(
    capsys, monkeypatch, data_csv, tmp_path
):
    _ctrl_c_in_fit(monkeypatch)
    model = tmp_path / "model.skdeep"
    code, _, err = run(
        capsys, "fit", "--csv", data_csv, "--target", "label", "--output", model
    )
    assert code == 130 and "interrupted" in err
    assert not model.exists() and list(tmp_path.iterdir()) == [data_csv]

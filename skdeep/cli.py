"""The ``skdeep`` command: compare, fit and apply nets from the shell.

``skdeep compare`` cross-validates a grid of dropout rates, activations,
optimizers, batch modes, layer sizes and the family's own knobs (``--family``
dnn, cnn, rnn or dbn) on a bundled data set or a CSV file and prints the
candidates ranked, in this process or on a Dask cluster (``--scheduler``);
``skdeep fit`` trains one net on a CSV file and saves it as a safe model file
(``skdeep.save``: plain data and safetensors weights, so loading it runs no
code); ``skdeep predict`` applies a saved net to a CSV file (a pickle or
joblib file only with ``--trust-pickle``). Every model is
``Pipeline(StandardScaler, net)``; a regressor also standardises its target.
Errors are one line on stderr and a non-zero exit (2 for a usage error).

Every ``--output`` is checked before any work starts (not an input, not a
symbolic link, its folder there and writable) and written atomically. When
the reader of stdout goes away (``skdeep compare | head -1``), the command
stops quietly with exit status 141 (128 + SIGPIPE), as ``cat`` or ``grep``
would end, so ``set -o pipefail`` scripts see the output was cut short.
"""

import argparse
import csv
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import get_scorer_names
from sklearn.model_selection import KFold, ParameterGrid, StratifiedKFold

from . import __version__
from ._cli_families import (
    add_net_args,
    checked,
    default_grids_text,
    int_at_least,
    name_in,
    resolve,
    show,
)
from ._compare import (
    DATASETS,
    TASKS,
    CLIError,
    dask_client,
    format_table,
    load_data,
    make_model,
    name_list,
    rank_results,
    read_csv,
    refuse_missing_values,
    run_grid,
    write_results,
)
from ._files import check_output_file, check_output_folder, replaced_atomically

__all__ = ["build_parser", "main"]

# Each command's help line, description and examples.
HELP = {
    "skdeep": (
        None,
        "Deep-learning nets as scikit-learn estimators, from the shell.",
        """examples:
  skdeep compare                     # default grid on the digits data
  skdeep compare --data iris --optimizer sgd adam --dropout 0 0.5
  skdeep compare --family cnn        # LeNet-5 on the digits as 8x8 images
  skdeep fit --csv train.csv --target label --output model.skdeep
  skdeep predict --model model.skdeep --csv new.csv --output predictions.csv
""",
    ),
    "compare": (
        "cross-validate a grid of net settings and rank them",
        f"""Cross-validate every combination of the grid values for
Pipeline(StandardScaler, net) and print the candidates ranked by mean CV
score, with a progress bar on stderr. --family picks the net: dnn (an MLP,
the default), cnn (convolutional), rnn (RNN, LSTM or GRU) or dbn (an MLP
pretrained as a deep belief net); a flag for another family's knob is an
error. --input-shape says how a CSV row holds an image or a sequence.
digits, iris, wine and breast_cancer are classification; diabetes is
regression. Batch sizes: 'auto' is min(200, n), 'full' is batch gradient
descent, 1 is stochastic. --scheduler runs each candidate and fold as a task on a
Dask cluster (pip install "skdeep[dask]").

{default_grids_text()}
rnn: --activation acts on the dense head only (--hidden), so its default
grid leaves it out; --dropout acts on the head, or on the recurrent summary
without one, and between stacked layers (--num-layers 2 or more).""",
        """examples:
  skdeep compare --data wine --activation relu tanh elu --cv 5
  skdeep compare --data diabetes --optimizer adam --batch-size full 32 1
  skdeep compare --csv data.csv --target y --hidden 100 64,32 --output results/
  skdeep compare --family cnn --architecture lenet5 vgg --dropout 0 0.3
  skdeep compare --family rnn --cell lstm gru --hidden 32 --dropout 0 0.3 \\
      --activation relu tanh
  skdeep compare --family cnn --csv images.csv --target label --input-shape 1x28x28
  skdeep compare --family dbn --pretrain true false --pretrain-max-iter 5 20
  skdeep compare --scheduler tcp://10.0.0.5:8786   # on a running Dask cluster
  skdeep compare --scheduler local                 # a Dask cluster on this machine
""",
    ),
    "fit": (
        "train one net on a CSV file and save it",
        """Train Pipeline(StandardScaler, net) on a CSV file, print its training
score and save it as a skdeep model file (skdeep.save: parameters as JSON,
weights as safetensors; loading it runs no code). A regressor also
standardises its target. --family picks the net as in 'skdeep compare';
each knob takes one value, by default the first of the family's default
grid (see 'skdeep compare --help'), else the estimator's own default.""",
        """examples:
  skdeep fit --csv train.csv --target label --output model.skdeep
  skdeep fit --csv houses.csv --target price --task regress --hidden 64,32 \\
      --dropout 0.1 --max-iter 500 --output price.skdeep
  skdeep fit --family cnn --csv images.csv --target label --input-shape 1,28,28 \\
      --architecture resnet --output images.skdeep
  skdeep fit --family rnn --csv series.csv --target next --input-shape 24,3 \\
      --cell gru --output series.skdeep
""",
    ),
    "predict": (
        "apply a saved net to a CSV file",
        """Predict the rows of a CSV file with a model saved by 'skdeep fit'
(or skdeep.save). Columns the model was not trained on (such as the target)
are ignored. Model files are read with skdeep.load, which runs no code from
the file; a pickle or joblib file is refused unless --trust-pickle is given.""",
        """examples:
  skdeep predict --model model.skdeep --csv new.csv
  skdeep predict --model model.skdeep --csv new.csv --output predictions.csv
  skdeep predict --model old.joblib --trust-pickle --csv new.csv

--trust-pickle: loading a pickle or joblib file runs whatever code it holds;
use it only for files you made yourself or trust as you would a program.
""",
    ),
}


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors raise :class:`CLIError`."""

    def error(self, message: str):
        raise CLIError(message, code=2)


# -- argument types -----------------------------------------------------------

# joblib's rule: 1, 2, ... processes; -1 every CPU, -2 all but one, ...
_n_jobs = checked(int, lambda n: n != 0, "a non-zero integer (-1: every CPU)")
_dataset = name_in(list(DATASETS), "data set")
_scorer = name_in(get_scorer_names(), "scoring", "see sklearn's get_scorer_names()")
_folds, _epochs = int_at_least(2), int_at_least(1)


class _Format(argparse.RawDescriptionHelpFormatter):
    """Keeps the layout of descriptions and epilogs; shows each default."""

    def _get_help_string(self, action):
        default = action.default
        if not action.help or default is None or default is False:
            return action.help
        if default == argparse.SUPPRESS:
            return action.help
        if isinstance(default, list):
            return f"{action.help} (default: {' '.join(map(show, default))})"
        return f"{action.help} (default: {show(default)})"


def build_parser() -> argparse.ArgumentParser:
    """Build the ``skdeep`` argument parser and its three subcommands.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parses ``compare``, ``fit`` and ``predict`` command lines; a usage
        error raises :class:`CLIError` (exit status 2) instead of exiting.
    """
    parser = _Parser(prog="skdeep", formatter_class=_Format, **_texts("skdeep"))
    parser.add_argument("--version", action="version", version=f"skdeep {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add_options in [
        ("compare", _add_compare),
        ("fit", _add_fit),
        ("predict", _add_predict),
    ]:
        add_options(commands.add_parser(name, formatter_class=_Format, **_texts(name)))
    return parser


def _texts(command: str) -> dict:
    """The help line, description and epilog of a command, from ``HELP``."""
    summary, description, examples = HELP[command]
    texts = {"description": description, "epilog": examples}
    return texts if summary is None else {"help": summary, **texts}


def _add_compare(parser: argparse.ArgumentParser):
    _add_data_args(parser, bundled=True)
    add_net_args(parser, grid=True)
    add = parser.add_argument
    add("--cv", type=_folds, default=3, metavar="K", help="number of CV folds")
    add("--max-iter", type=_epochs, default=100, metavar="N", help="epochs per fit")
    add("--n-jobs", type=_n_jobs, metavar="N", help="processes for the folds")
    add(
        "--scheduler",
        metavar="ADDRESS",
        help="run the candidates on the Dask scheduler at ADDRESS, such as "
        "tcp://host:8786, or 'local': a Dask cluster on this machine",
    )
    add("--scoring", type=_scorer, metavar="NAME", help="default: accuracy or r2")
    add("--random-state", type=int, default=0, metavar="SEED", help="seed")
    add("--output", metavar="DIR", help="write DIR/cv_results.csv")
    add("--quiet", action="store_true", help="no progress bar, header or warnings")


def _add_fit(parser: argparse.ArgumentParser):
    _add_data_args(parser, bundled=False)
    add = parser.add_argument
    add("--output", required=True, metavar="MODEL.skdeep", help="save it here")
    add_net_args(parser, grid=False)
    add("--max-iter", type=_epochs, default=200, metavar="N", help="epochs")
    add("--random-state", type=int, default=0, metavar="SEED", help="seed")


def _add_predict(parser: argparse.ArgumentParser):
    add = parser.add_argument
    add("--model", required=True, metavar="MODEL.skdeep", help="from skdeep fit")
    add("--csv", required=True, metavar="FILE", help="the rows to predict")
    add("--output", metavar="OUT.csv", help="write here (default: stdout)")
    add(
        "--trust-pickle",
        action="store_true",
        help="also load a pickle or joblib model file (as older skdeep saved); "
        "loading one runs any code it holds: only for files you trust",
    )


def _add_data_args(parser: argparse.ArgumentParser, bundled: bool):
    add = parser.add_argument_group("data").add_argument
    if bundled:
        about = f"{', '.join(DATASETS)} (default: digits)"
        add("--data", type=_dataset, metavar="NAME", help=about)
    add("--csv", required=not bundled, metavar="FILE", help="CSV file with a header")
    add("--target", required=not bundled, metavar="COLUMN", help="the CSV column")
    add("--task", choices=TASKS, default="auto", help="for --csv")


# -- compare ----------------------------------------------------------------


def compare(args: argparse.Namespace) -> int:
    """Cross-validate the grid, print the ranked table, optionally save CSV."""
    if args.output:
        check_output_folder(args.output, "cv_results.csv", {"--csv": args.csv})
    if args.scheduler is not None and args.n_jobs is not None:
        raise CLIError(
            "give --n-jobs or --scheduler, not both: with --scheduler the "
            "Dask cluster's workers run the candidates",
            code=2,
        )
    X, y, task, name = load_data(args)
    values, fixed = resolve(args, X.shape[1], _bundled(args))
    candidates = ParameterGrid(values)
    folds = StratifiedKFold if task == "classify" else KFold
    cv = folds(args.cv, shuffle=True, random_state=args.random_state)
    scoring = args.scoring or ("accuracy" if task == "classify" else "r2")
    if not args.quiet:
        print(
            f"{name}: {X.shape[0]} samples x {X.shape[1]} features ({task}); "
            f"{_family_note(args.family, fixed)}{len(candidates)} candidates x "
            f"{args.cv} folds, max_iter={args.max_iter}, scoring={scoring}",
            file=sys.stderr,
        )
    with dask_client(args.scheduler) as client:
        if client is not None and not args.quiet:
            threads = sum(client.nthreads().values())
            print(
                f"on the Dask scheduler {client.scheduler.address}: "
                f"{len(client.nthreads())} workers, {threads} threads",
                file=sys.stderr,
            )
        results = run_grid(task, X, y, cv, scoring, args, candidates, fixed, client)
    failed = [r["error"] for r in results if "error" in r]
    if len(failed) == len(results):
        raise CLIError(f"every candidate failed; the first: {failed[0]}")
    if failed:
        warnings.warn(
            f"{len(failed)} of {len(results)} candidates failed and rank "
            f"last; the first: {failed[0]}",
            stacklevel=2,
        )
    rank_results(results)
    print(format_table(results, scoring))
    if args.output:
        print(f"wrote {write_results(results, args.output)}", file=sys.stderr)
    return 0


def _bundled(args: argparse.Namespace) -> str | None:
    """The bundled data set's name, or ``None`` for a CSV file."""
    return None if args.csv is not None else getattr(args, "data", None) or "digits"


def _family_note(family: str, fixed: dict) -> str:
    """``"cnn, input_shape=1,8,8; "`` for the header; nothing for a plain DNN."""
    if family == "dnn":
        return ""
    shape = fixed.get("input_shape")
    return f"{family}{'' if shape is None else f', input_shape={show(shape)}'}; "


# -- fit and predict ------------------------------------------------------------


def fit(args: argparse.Namespace) -> int:
    """Train one model on the CSV file, print its training score, save it."""
    check_output_file(args.output, {"--csv": args.csv})
    X, y, task, name = load_data(args)
    values, fixed = resolve(args, X.shape[1], None)
    model = make_model(
        task,
        family=args.family,
        max_iter=args.max_iter,
        random_state=args.random_state,
        **fixed,
        **{param: given[0] for param, given in values.items()},
    )
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    net = model[-1] if task == "classify" else model[-1].regressor_
    metric = "accuracy" if task == "classify" else "R^2"
    with replaced_atomically(args.output) as temporary:
        _save_model(model, temporary)
    print(
        f"{type(net).__name__} on {name}: {X.shape[0]} samples x {X.shape[1]} "
        f"features, {net.n_iter_} epochs in {seconds:.1f}s, final loss "
        f"{net.loss_curve_[-1]:.4g}, training {metric} {model.score(X, y):.4f}"
    )
    print(f"saved {args.output}")
    return 0


def predict(args: argparse.Namespace) -> int:
    """Predict the CSV file's rows with a saved model; write them as CSV."""
    if args.output is not None:
        check_output_file(args.output, {"--csv": args.csv, "--model": args.model})
    if not Path(args.model).is_file():
        raise CLIError(f"no such file: {args.model}")
    try:
        model = _load_model(args.model, trust_pickle=args.trust_pickle)
    except Exception as exc:  # unpickling fails in many ways
        raise CLIError(f"cannot load a model from {args.model}: {exc}") from None
    if not hasattr(model, "predict"):
        raise CLIError(f"{args.model} holds a {type(model).__name__}, not a model")
    frame, _ = read_csv(args.csv)
    features = list(getattr(model, "feature_names_in_", frame.columns))
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise CLIError(
            f"{args.csv} lacks the model's feature columns: {name_list(missing)}"
        )
    refuse_missing_values(frame[features], args.csv)
    predictions = np.asarray(model.predict(frame[features]))
    _write_predictions(predictions, args.output)
    return 0


def _write_predictions(predictions: np.ndarray, output: str | None):
    """One ``prediction`` column (one per output) to ``output`` or stdout."""
    rows = predictions.reshape(len(predictions), -1).tolist()
    header = (
        ["prediction"]
        if predictions.ndim == 1
        else [f"prediction_{i}" for i in range(len(rows[0]))]
    )
    if output is None:
        csv.writer(sys.stdout, lineterminator="\n").writerows([header, *rows])
        return
    with (
        replaced_atomically(output) as temporary,
        open(temporary, "w", newline="") as out,
    ):
        csv.writer(out).writerows([header, *rows])
    print(f"wrote {len(rows)} predictions to {output}", file=sys.stderr)


# The model file format, in one place each way: skdeep.save / skdeep.load
# (JSON and safetensors in a zip; loading runs no code from the file).


def _save_model(model, path: Path):
    from ._persist import save

    save(model, path)


def _load_model(path: str, trust_pickle: bool = False):
    """The model in ``path``; a pickle or joblib file only if ``trust_pickle``."""
    import zipfile

    from ._persist import ModelFileError, load

    if trust_pickle and not zipfile.is_zipfile(path):
        import joblib

        return joblib.load(path)
    try:
        return load(path)
    except ModelFileError as exc:
        if zipfile.is_zipfile(path):
            raise
        raise ModelFileError(
            f"{exc} Pass --trust-pickle to load it anyway, only if you trust "
            "the file: loading it runs any code it holds."
        ) from None


# -- entry point ------------------------------------------------------------


def _show_warning(message, category, *args, **kwargs):
    print(f"skdeep: warning: {' '.join(str(message).split())}", file=sys.stderr)


def _fail(message: str, code: int) -> int:
    print(f"skdeep: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _closed_pipe() -> int:
    """stdout's reader left: silence the streams, exit 141 (128 + SIGPIPE).

    Pointing them at the null device takes what is still buffered; without
    it, Python's final flush would print a ``BrokenPipeError`` and exit 120.
    """
    null = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(null, stream.fileno())
        except (OSError, ValueError):  # a stream with no file (captured)
            pass
    os.close(null)
    return 141


def _run(argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run its command; ``--help`` and ``--version`` give 0."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help and --version print, then exit
        return exc.code if isinstance(exc.code, int) else 0
    if args.command is None:
        raise CLIError(
            "choose a command: compare, fit or predict (see skdeep --help)", code=2
        )
    if getattr(args, "quiet", False):
        warnings.simplefilter("ignore")
    commands = {"compare": compare, "fit": fit, "predict": predict}
    return commands[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skdeep`` command.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    code : int
        The exit status: 0 on success, 2 for a usage error, 1 for any other
        error, 130 when interrupted, 141 when stdout's reader went away (a
        closed pipe, as in ``skdeep compare | head -1``; nothing is printed).
        Errors are one line on stderr, never a traceback.
    """
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            code = _run(argv)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return code
        except BrokenPipeError:
            return _closed_pipe()
        except CLIError as exc:
            code = _fail(str(exc), exc.code)
        except (OSError, ValueError) as exc:
            code = _fail(str(exc), 1)
        except KeyboardInterrupt:
            code = _fail("interrupted", 130)
    try:  # stdout may hold output from before the error (compare's table)
        sys.stdout.flush()
    except BrokenPipeError:
        return _closed_pipe()
    return code


if __name__ == "__main__":
    sys.exit(main())

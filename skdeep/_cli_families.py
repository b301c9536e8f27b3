"""The ``skdeep`` command's estimator families and the flags of their knobs.

:data:`FAMILIES` names each family's classifier and regressor, its default
grid for ``skdeep compare`` (``skdeep fit`` takes the first value of each)
and how it reads a row of the bundled digits. :data:`NET_FLAGS` are the
knobs the families share, :data:`FAMILY_FLAGS` each family's own; they take
one or more values in ``compare`` and one in ``fit``. :func:`resolve` turns
the parsed flags into the chosen family's grid and fixed parameters,
refusing a knob that family lacks and an ``--input-shape`` that does not
fit the data. The argparse types here raise ``ArgumentTypeError``, which
argparse reports as a usage error naming the flag.
"""

import argparse
import difflib
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from typing import NamedTuple

from ._files import CLIError
from ._registry import ACTIVATIONS, OPTIMIZERS
from .cnn import CNNClassifier, CNNRegressor
from .dbn import DBNClassifier, DBNRegressor
from .dnn import DNNClassifier, DNNRegressor
from .modules import ARCHITECTURES, CELLS
from .rnn import RNNClassifier, RNNRegressor

__all__ = [
    "FAMILIES",
    "FAMILY_FLAGS",
    "NET_FLAGS",
    "Family",
    "add_net_args",
    "checked",
    "default_grids_text",
    "int_at_least",
    "name_in",
    "resolve",
    "show",
]


def show(value) -> str:
    """A parameter value as typed on the command line: ``64,32``, ``0.5``."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- argument types -------------------------------------------------------------


def name_in(names: Sequence[str], what: str, valid: str = "") -> Callable:
    """An argparse type accepting one of ``names``; errors list them."""
    valid = valid or f"valid: {', '.join(sorted(names))}"

    def parse(value: str) -> str:
        if value in names:
            return value
        close = difflib.get_close_matches(value, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise argparse.ArgumentTypeError(f"unknown {what} {value!r}{hint}; {valid}")

    return parse


def checked(convert: Callable, valid: Callable, expected: str) -> Callable:
    """An argparse type: ``convert`` the text, then require ``valid`` of it."""

    def parse(value: str):
        try:
            result = convert(value)
        except ValueError:
            result = None
        if result is None or not valid(result):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value!r}")
        return result

    return parse


def int_at_least(low: int) -> Callable:
    return checked(int, lambda n: n >= low, f"an integer >= {low}")


def _sizes(value: str, separators: str = ",") -> tuple[int, ...]:
    """``"64,32"`` -> ``(64, 32)``; ``ValueError`` for anything else."""
    return tuple(int(size) for size in re.split(f"[{separators}]", value))


_dropout = checked(float, lambda r: 0 <= r < 1, "a dropout rate in [0, 1)")
_batch_size = checked(
    lambda v: v if v in ("auto", "full") else int(v),
    lambda b: isinstance(b, str) or b >= 1,
    "'auto', 'full' or a positive integer",
)
_hidden = checked(
    _sizes, lambda sizes: min(sizes) >= 1, "positive layer sizes such as 100 or 64,32"
)
_boolean = checked(
    lambda v: {"true": True, "false": False}.get(v.lower()),
    lambda b: True,
    "true or false",
)
_architecture = checked(
    lambda v: v if v in ARCHITECTURES else _sizes(v),
    lambda a: isinstance(a, str) or min(a) >= 1,
    f"{', '.join(ARCHITECTURES)} or conv channels such as 16,32",
)
# "1,8,8" or "1x8x8": both read naturally for an image.
_input_shape = checked(
    lambda v: _sizes(v, ",x"),
    lambda s: 2 <= len(s) <= 3 and min(s) >= 1,
    "2 or 3 positive sizes such as 1,8,8 or 8x8",
)


# -- the families ----------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """One estimator family as the command offers it."""

    classifier: type
    regressor: type
    #: ``compare``'s default grid: parameter -> values (``fit``: the first).
    grid: dict
    #: ``input_shape`` for the bundled digits (8 x 8 images as 64 columns).
    digits_shape: tuple | None = None

    def estimator(self, task: str) -> type:
        return self.classifier if task == "classify" else self.regressor

    def has(self, param: str) -> bool:
        """Whether the family's estimators take the parameter ``param``."""
        return param in self.classifier().get_params()


# Default grids small enough for a few minutes on the digits with 2 cores
# (measured with 3 folds, 100 epochs, on a busy 2-core machine: dnn 61 s,
# cnn 151 s, rnn 43 s, dbn 52 s). dnn: the command's original 36 candidates.
# cnn: LeNet-5 only, the cheap preset (ResNet and FCN cost 20-100x more per
# epoch). rnn: LSTM, GRU and a plain RNN; with no dense head the activation
# would do nothing (dropout acts on the summary). dbn: pretraining on or
# off, the axis the family exists for.
FAMILIES: dict[str, Family] = {
    "dnn": Family(
        DNNClassifier,
        DNNRegressor,
        {
            "dropout": [0.0, 0.2, 0.5],
            "activation": ["relu", "tanh"],
            "optimizer": ["adam", "momentum", "sgd"],
            "batch_size": ["auto", 32],
            "hidden_layer_sizes": [(100,)],
        },
    ),
    "cnn": Family(
        CNNClassifier,
        CNNRegressor,
        {
            "architecture": ["lenet5"],
            "dropout": [0.0, 0.5],
            "activation": ["relu", "tanh"],
            "optimizer": ["adam", "sgd"],
        },
        digits_shape=(1, 8, 8),
    ),
    "rnn": Family(
        RNNClassifier,
        RNNRegressor,
        {
            "cell": ["lstm", "gru", "rnn"],
            "dropout": [0.0, 0.2],
            "optimizer": ["adam", "rmsprop"],
        },
        digits_shape=(8, 8),
    ),
    "dbn": Family(
        DBNClassifier,
        DBNRegressor,
        {
            "pretrain": [True, False],
            "dropout": [0.0, 0.2],
            "optimizer": ["adam", "momentum"],
        },
    ),
}


class Flag(NamedTuple):
    flag: str
    param: str
    parse: Callable
    metavar: str
    help: str


_activation = name_in(list(ACTIVATIONS), "activation")
_optimizer = name_in(list(OPTIMIZERS), "optimizer")
_cell = name_in(list(CELLS), "cell")

# The knobs every family has.
NET_FLAGS = [
    Flag("--dropout", "dropout", _dropout, "RATE", "dropout rate in [0, 1)"),
    Flag("--activation", "activation", _activation, "NAME", ", ".join(ACTIVATIONS)),
    Flag("--optimizer", "optimizer", _optimizer, "NAME", ", ".join(OPTIMIZERS)),
    Flag("--batch-size", "batch_size", _batch_size, "B", "auto, full or a number"),
    Flag(
        "--hidden",
        "hidden_layer_sizes",
        _hidden,
        "SIZES",
        "layer sizes: 100 or 64,32 (cnn, rnn: the dense head after the "
        "convolutions or the recurrent summary)",
    ),
]

# Each family's own knobs; a family without the parameter refuses the flag.
FAMILY_FLAGS = [
    Flag(
        "--architecture",
        "architecture",
        _architecture,
        "ARCH",
        f"cnn: {', '.join(ARCHITECTURES)}, or conv channels such as 16,32",
    ),
    Flag("--cell", "cell", _cell, "CELL", f"rnn: {', '.join(CELLS)}"),
    Flag("--hidden-size", "hidden_size", int_at_least(1), "N", "rnn: state width"),
    Flag("--num-layers", "num_layers", int_at_least(1), "N", "rnn: stacked layers"),
    Flag("--bidirectional", "bidirectional", _boolean, "BOOL", "rnn: true or false"),
    Flag(
        "--pretrain",
        "pretrain",
        _boolean,
        "BOOL",
        "dbn: RBM pretraining, true or false",
    ),
    Flag(
        "--pretrain-max-iter",
        "pretrain_max_iter",
        int_at_least(1),
        "N",
        "dbn: pretraining epochs per RBM",
    ),
]

_FLAG_OF = {f.param: f.flag for f in NET_FLAGS + FAMILY_FLAGS}


def add_net_args(parser: argparse.ArgumentParser, grid: bool) -> None:
    """``--family``, the knobs (several values each if ``grid``), ``--input-shape``.

    The knobs default to ``None``: :func:`resolve` fills in the family's own
    defaults, and knows which flags were given.
    """
    group = parser.add_argument_group(
        "network (one or more values each: the grid)" if grid else "network"
    )
    group.add_argument(
        "--family",
        choices=list(FAMILIES),
        default="dnn",
        help="the estimator family: MLP, convolutional, recurrent, deep belief",
    )
    for flag in NET_FLAGS + FAMILY_FLAGS:
        group.add_argument(
            flag.flag,
            dest=flag.param,
            type=flag.parse,
            nargs="+" if grid else None,
            metavar=flag.metavar,
            help=flag.help,
        )
    group.add_argument(
        "--input-shape",
        type=_input_shape,
        metavar="SHAPE",
        help="how a row is read: cnn (C,L) or (C,H,W), rnn (T,F), such as 1,8,8 "
        "or 8x8; the digits default to 1,8,8 (cnn) and 8,8 (rnn)",
    )


def default_grids_text() -> str:
    """The default grid of each family, for ``compare --help``."""
    lines = ["default grids (a flag you give replaces its values):"]
    for name, family in FAMILIES.items():
        count = prod(len(values) for values in family.grid.values())
        knobs = "; ".join(
            f"{_FLAG_OF[param][2:]} {' '.join(map(show, values))}"
            for param, values in family.grid.items()
        )
        text = f"{name} ({count} candidates): {knobs}"
        lines.append(
            textwrap.fill(text, 78, initial_indent="  ", subsequent_indent="      ")
        )
    return "\n".join(lines)


# -- from flags to parameters ---------------------------------------------------


def resolve(
    args: argparse.Namespace, n_features: int, data: str | None
) -> tuple[dict[str, list], dict]:
    """The chosen family's grid and fixed parameters, from the parsed flags.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser with :func:`add_net_args`.
    n_features : int
        Feature columns of the data, which ``--input-shape`` must hold.
    data : str or None
        The bundled data set's name, or ``None`` for a CSV file.

    Returns
    -------
    grid : dict
        Parameter -> list of values: the family's default grid, each given
        flag replacing its parameter's values.
    fixed : dict
        ``{"input_shape": ...}`` when a shape applies, else empty.
    """
    family = FAMILIES[args.family]
    given = {}
    for flag in NET_FLAGS + FAMILY_FLAGS:
        value = getattr(args, flag.param)
        if value is not None:
            _refuse_foreign(flag.flag, flag.param, args.family)
            given[flag.param] = value if isinstance(value, list) else [value]
    fixed = {}
    shape = args.input_shape
    if shape is not None:
        _refuse_foreign("--input-shape", "input_shape", args.family)
        _check_shape(shape, args.family, n_features)
    elif data == "digits":
        shape = family.digits_shape
    if shape is not None:
        fixed["input_shape"] = shape
    return {**family.grid, **given}, fixed


def _refuse_foreign(flag: str, param: str, name: str) -> None:
    """A usage error for a flag whose parameter the family lacks."""
    if FAMILIES[name].has(param):
        return
    owners = [f"--family {n}" for n, f in FAMILIES.items() if f.has(param)]
    raise CLIError(
        f"{flag} does not apply to --family {name} "
        f"({FAMILIES[name].classifier.__name__} has no {param}); "
        f"it is for {' or '.join(owners)}",
        code=2,
    )


def _check_shape(shape: tuple, name: str, n_features: int) -> None:
    if name == "rnn" and len(shape) != 2:
        raise CLIError(
            f"--input-shape {show(shape)}: --family rnn reads a row as (T, F), "
            "steps by features: give 2 sizes",
            code=2,
        )
    if prod(shape) != n_features:
        raise CLIError(
            f"--input-shape {show(shape)} holds {prod(shape)} values per row, "
            f"but the data has {n_features} feature columns",
            code=2,
        )

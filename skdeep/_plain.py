"""Plain data as JSON values and numeric arrays, both ways, refusing the rest.

:class:`PlainWriter` turns ``None``, booleans, numbers, strings, lists,
tuples, dicts, NumPy arrays, scalars and dtypes, ``RandomState`` objects,
torch tensors and devices, and the torch classes of :func:`type_classes`
into JSON values; numeric arrays and tensors go into a dict of arrays, which
the JSON names by key. :class:`PlainReader` turns them back and refuses
anything else. No value is ever turned into code: a class is only looked up
in :func:`type_classes`.

A JSON ``null``, boolean, number, string, list, or object whose keys do not
start with ``__`` stands for itself; an object with a single ``"__kind__"``
key is a typed value (``{"__tuple__": [1, 2]}``, ``{"__array__": "3"}``).
"""

import math
from functools import cache

import numpy as np
import torch
from torch import nn

from ._registry import ACTIVATIONS

__all__ = [
    "ModelFileError",
    "PlainReader",
    "PlainWriter",
    "as_list",
    "as_mapping",
    "name_of",
    "type_classes",
]

_NUMERIC_KINDS = "biuf"  # what the arrays hold
_DTYPE_KINDS = "biufUO"  # dtypes a file may name


class ModelFileError(ValueError):
    """A model file cannot be written or read safely: another format (such
    as a pickle), another format version, a class or value that is not on
    the allow-list, or damaged content."""


@cache
def type_classes() -> dict[str, type]:
    """Name -> class of the classes a parameter may be given as.

    ``torch.optim`` optimizers (``optimizer=torch.optim.Adam``) and
    ``torch.nn`` activations (``activation=torch.nn.Tanh``): torch's own
    classes, stored by name. Anything else given as a class is refused.
    """
    optimizers = {
        name: obj
        for name, obj in vars(torch.optim).items()
        if isinstance(obj, type)
        and issubclass(obj, torch.optim.Optimizer)
        and obj is not torch.optim.Optimizer
    }
    activations = [
        getattr(nn, name)
        for name in nn.modules.activation.__all__
        if name != "MultiheadAttention"  # a layer with weights, not an activation
    ]
    activations += [
        cls for cls in ACTIVATIONS.values() if getattr(nn, cls.__name__, None) is cls
    ]
    return {
        **{f"torch.optim.{name}": cls for name, cls in optimizers.items()},
        **{f"torch.nn.{cls.__name__}": cls for cls in activations},
    }


def name_of(table: dict[str, type], cls: type) -> str | None:
    """The name of exactly ``cls`` in ``table`` (a subclass has none)."""
    return next((name for name, known in table.items() if known is cls), None)


class PlainWriter:
    """Turns plain data into JSON values, numeric arrays into a dict of arrays.

    Subclasses handle more objects by overriding :meth:`other`.
    """

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, array: np.ndarray, where: str) -> str:
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise ModelFileError(
                f"{where}: arrays of dtype {array.dtype} cannot be stored."
            )
        key = str(len(self.arrays))
        self.arrays[key] = np.ascontiguousarray(array)
        return key

    def value(self, value, where: str):
        if isinstance(value, np.generic):  # before float, str: np.float64 is both
            return self._scalar(value, where)
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {
                "__tuple__": [
                    self.value(v, f"{where}[{i}]") for i, v in enumerate(value)
                ]
            }
        if isinstance(value, dict):
            return self._dict(value, where)
        if isinstance(value, np.ndarray):
            return self._ndarray(np.asarray(value), where)
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
            try:
                array = tensor.numpy()
            except TypeError:  # bfloat16 and the like
                raise ModelFileError(
                    f"{where}: tensors of dtype {tensor.dtype} cannot be stored."
                ) from None
            return {"__tensor__": self.array(array, where)}
        if isinstance(value, np.dtype):
            return {"__dtype__": self._dtype(value, where)}
        if isinstance(value, np.random.RandomState):
            name, keys, pos, has_gauss, cached = value.get_state()
            key = self.array(keys, where)
            return {
                "__random_state__": [name, key, int(pos), int(has_gauss), float(cached)]
            }
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, type):
            return {"__type__": self._type(value, where)}
        return self.other(value, where)

    def other(self, value, where: str):
        """A JSON value for what :meth:`value` does not know: refused here."""
        raise ModelFileError(
            f"{where}: a {type(value).__module__}.{type(value).__qualname__} is not "
            "plain data (numbers, strings, lists, arrays, estimators), so a safe "
            "model file cannot hold it."
        )

    def _scalar(self, value: np.generic, where: str):
        dtype = self._dtype(value.dtype, where)
        if value.dtype.kind == "U":
            return {"__scalar__": [dtype, str(value)]}
        if value.dtype.kind == "O":
            raise ModelFileError(f"{where}: object scalars cannot be stored.")
        item = value.item()
        if isinstance(item, float) and not math.isfinite(item):
            item = {"__float__": repr(item)}
        return {"__scalar__": [dtype, item]}

    def _dict(self, value: dict, where: str):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: self.value(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {
            "__dict__": [
                [self.value(k, where), self.value(v, f"{where}[{k!r}]")]
                for k, v in value.items()
            ]
        }

    def _ndarray(self, array: np.ndarray, where: str):
        kind = array.dtype.kind
        if kind in _NUMERIC_KINDS:
            return {"__array__": self.array(array, where)}
        shape = list(array.shape)
        if kind == "U":
            values = array.ravel().tolist()
            dtype = self._dtype(array.dtype, where)
            return {"__str_array__": {"dtype": dtype, "shape": shape, "values": values}}
        if kind == "O":
            flat = array.ravel()
            values = [self.value(v, f"{where}[{i}]") for i, v in enumerate(flat)]
            return {"__object_array__": {"shape": shape, "values": values}}
        raise ModelFileError(
            f"{where}: arrays of dtype {array.dtype} cannot be stored."
        )

    @staticmethod
    def _dtype(dtype: np.dtype, where: str) -> str:
        if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None:
            raise ModelFileError(f"{where}: dtype {dtype} cannot be stored.")
        return dtype.str

    @staticmethod
    def _type(cls: type, where: str) -> str:
        name = name_of(type_classes(), cls)
        if name is None:
            raise ModelFileError(
                f"{where}: the class {cls.__module__}.{cls.__qualname__} is code "
                "that a safe model file cannot hold; only torch.optim optimizers and "
                "torch.nn activations can be given as classes (or give a name, "
                "such as optimizer='adam')."
            )
        return name


class PlainReader:
    """Turns JSON values and arrays back into plain data; refuses the rest.

    Subclasses add kinds of typed values by extending ``DECODERS``.
    """

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    def array(self, key, where: str) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise ModelFileError(f"{where}: no tensor {key!r} in the file.")
        return np.array(self.arrays[key])  # a writable copy

    def value(self, value, where: str):
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list):
            return [self.value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            raise ModelFileError(f"{where}: unexpected JSON value.")
        markers = [k for k in value if k.startswith("__")]
        if not markers:
            return {k: self.value(v, f"{where}[{k!r}]") for k, v in value.items()}
        if len(value) != 1:
            raise ModelFileError(
                f"{where}: a typed value has one key, got {list(value)}."
            )
        marker, payload = markers[0], value[markers[0]]
        decode = self.DECODERS.get(marker)
        if decode is None:
            raise ModelFileError(f"{where}: unknown kind of value {marker!r}.")
        return decode(self, payload, where)

    def _float(self, payload, where):
        if payload not in ("nan", "inf", "-inf"):
            raise ModelFileError(f"{where}: {payload!r} is not a float.")
        return float(payload)

    def _tuple(self, payload, where):
        return tuple(self.value(as_list(payload, where), where))

    def _dict(self, payload, where):
        items = {}
        for pair in as_list(payload, where):
            key, item = as_list(pair, where)
            items[self.value(key, where)] = self.value(item, f"{where}[{key!r}]")
        return items

    def _scalar(self, payload, where):
        dtype, item = as_list(payload, where)
        dtype = as_dtype(dtype, where)
        if dtype.kind == "O":
            raise ModelFileError(f"{where}: object scalars are not stored.")
        return dtype.type(self.value(item, where))

    def _numeric(self, payload, where):
        return self.array(payload, where)

    def _str_array(self, payload, where):
        dtype = as_dtype(payload["dtype"], where)
        if dtype.kind != "U":
            raise ModelFileError(f"{where}: not a string dtype: {dtype}.")
        values = as_list(payload["values"], where)
        if not all(isinstance(v, str) for v in values):
            raise ModelFileError(f"{where}: a string array holds a non-string.")
        return np.array(values, dtype=dtype).reshape(as_shape(payload["shape"], where))

    def _object_array(self, payload, where):
        values = as_list(payload["values"], where)
        array = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            array[i] = self.value(v, f"{where}[{i}]")
        return array.reshape(as_shape(payload["shape"], where))

    def _tensor(self, payload, where):
        return torch.from_numpy(self.array(payload, where))

    def _dtype(self, payload, where):
        return as_dtype(payload, where)

    def _random_state(self, payload, where):
        name, key, pos, has_gauss, cached = as_list(payload, where)
        state = np.random.RandomState()
        state.set_state((name, self.array(key, where), pos, has_gauss, cached))
        return state

    def _device(self, payload, where):
        if not isinstance(payload, str):
            raise ModelFileError(f"{where}: a device is a string.")
        return torch.device(payload)

    def _type(self, payload, where):
        cls = type_classes().get(payload) if isinstance(payload, str) else None
        if cls is None:
            raise ModelFileError(
                f"{where}: refused the class {payload!r}: a model file may name "
                "only torch.optim optimizers and torch.nn activations."
            )
        return cls

    DECODERS = {
        "__float__": _float,
        "__tuple__": _tuple,
        "__dict__": _dict,
        "__scalar__": _scalar,
        "__array__": _numeric,
        "__str_array__": _str_array,
        "__object_array__": _object_array,
        "__tensor__": _tensor,
        "__dtype__": _dtype,
        "__random_state__": _random_state,
        "__device__": _device,
        "__type__": _type,
    }


def as_dtype(name, where: str) -> np.dtype:
    """The dtype a file names, if it is a plain one (bool, number, str, object)."""
    if not isinstance(name, str):
        raise ModelFileError(f"{where}: a dtype is a string.")
    try:
        dtype = np.dtype(name)
    except TypeError:
        raise ModelFileError(f"{where}: unknown dtype {name!r}.") from None
    if dtype.kind not in _DTYPE_KINDS or dtype.fields is not None:
        raise ModelFileError(f"{where}: refused dtype {name!r}.")
    return dtype


def as_list(value, where: str) -> list:
    """``value``, which must be a JSON list."""
    if not isinstance(value, list):
        raise ModelFileError(f"{where}: expected a list.")
    return value


def as_mapping(value, where: str) -> dict:
    """``value``, which must be a JSON object."""
    if not isinstance(value, dict):
        raise ModelFileError(f"{where}: expected an object.")
    return value


def as_shape(value, where: str) -> tuple:
    """An array shape: a list of non-negative integers."""
    shape = as_list(value, where)
    if not all(type(d) is int and d >= 0 for d in shape):
        raise ModelFileError(f"{where}: bad shape {shape}.")
    return tuple(shape)

"""The object tree of a checkpoint (autograd/serialization.py): the saved object as a JSON tree
whose leaves name its arrays, and the validating decoder of that tree."""
import math
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .tensor import Tensor

__all__ = ["TreeWriter", "TreeReader", "DTYPES", "MAX_DEPTH"]

MAX_DEPTH = 100                   # nesting depth of a saved object

# safetensors dtype names <-> numpy dtypes that tapegrad stores and loads
DTYPES = {"BOOL": np.dtype(np.bool_), "I8": np.dtype(np.int8), "I16": np.dtype(np.int16),
          "I32": np.dtype(np.int32), "I64": np.dtype(np.int64), "U8": np.dtype(np.uint8),
          "U16": np.dtype(np.uint16), "U32": np.dtype(np.uint32), "U64": np.dtype(np.uint64),
          "F16": np.dtype(np.float16), "F32": np.dtype(np.float32),
          "F64": np.dtype(np.float64), "C64": np.dtype(np.complex64)}


class TreeWriter:
    """Encodes an object as a JSON tree, collecting its arrays under unique dotted names.

    Tree nodes: JSON null/bool/int/str/finite float are themselves; a list is a JSON array;
    every other node is an object with one tag: {"tuple": [...]}, {"dict": [[k, v], ...]},
    {"odict": [[k, v], ...]}, {"float": "nan" | "inf" | "-inf"}, {"ndarray": name},
    {"scalar": name} (a numpy scalar) and {"tensor": name, "requires_grad": bool}.
    """

    def __init__(self):
        self.arrays = {}
        self._open = set()    # ids of the containers on the current path (cycle detection)

    def encode(self, obj, path, depth):
        if depth > MAX_DEPTH:
            raise ValueError(f"save: nesting deeper than {MAX_DEPTH} at {_dotted(path)!r}")
        if isinstance(obj, Tensor):
            name = self._add(np.asarray(obj.data), path)
            return {"tensor": name, "requires_grad": obj.requires_grad}
        if isinstance(obj, np.ndarray):
            return {"ndarray": self._add(obj, path)}
        if isinstance(obj, np.generic):      # before float: np.float64 subclasses float
            return {"scalar": self._add(np.asarray(obj), path)}
        if obj is None or isinstance(obj, (bool, str)):
            return str(obj) if isinstance(obj, str) else obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return _encode_float(float(obj))
        if isinstance(obj, (Mapping, list, tuple)):
            if id(obj) in self._open:
                raise ValueError(f"save: the object contains itself at {_dotted(path)!r}")
            self._open.add(id(obj))
            try:
                return self._encode_container(obj, path, depth)
            finally:
                self._open.discard(id(obj))
        raise TypeError(f"save: cannot store a value of type {type(obj).__name__} at "
                        f"{_dotted(path)!r}; supported: Tensor, ndarray, numpy scalar, dict, "
                        "list, tuple, None, bool, int, float, str")

    def _encode_container(self, obj, path, depth):
        if isinstance(obj, Mapping):
            items = []
            for key, value in obj.items():
                items.append([_encode_key(key, path),
                              self.encode(value, path + (key,), depth + 1)])
            return {"odict" if isinstance(obj, OrderedDict) else "dict": items}
        values = [self.encode(v, path + (i,), depth + 1) for i, v in enumerate(obj)]
        return {"tuple": values} if isinstance(obj, tuple) else values

    def _add(self, arr, path):
        """Store arr under a unique name derived from path; returns the name."""
        if not arr.flags.c_contiguous:     # (np.ascontiguousarray would make 0-d arrays 1-d)
            arr = arr.copy(order="C")
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        if arr.dtype not in DTYPES.values():
            raise TypeError(f"save: cannot store an array of dtype {arr.dtype} at "
                            f"{_dotted(path)!r}; supported: "
                            + ", ".join(sorted(str(d) for d in DTYPES.values())))
        base = _dotted(path) or "tensor"
        name, n = base, 0
        while name in self.arrays or name == "__metadata__":
            n += 1
            name = f"{base}~{n}"
        self.arrays[name] = arr
        return name


def _dotted(path):
    return ".".join(str(p) for p in path)


def _encode_float(x):
    if math.isfinite(x):
        return x
    return {"float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _encode_key(key, path):
    """A dict key as a tree node: str, int, float, bool, None or a tuple of these."""
    if key is None or isinstance(key, (bool, str)):
        return str(key) if isinstance(key, str) else key
    if isinstance(key, int):
        return int(key)
    if isinstance(key, float):
        return _encode_float(float(key))
    if isinstance(key, tuple):
        return {"tuple": [_encode_key(k, path) for k in key]}
    raise TypeError(f"save: cannot store a dict key of type {type(key).__name__} at "
                    f"{_dotted(path)!r}; keys may be str, int, float, bool, None or tuples")


class TreeReader:
    """Decodes the JSON tree written by TreeWriter, validating every node; arrays: {name:
    ndarray} the file's tensors, name: the file as shown in errors, error: the exception class
    raised for a bad tree. `used`: the names the tree referred to."""

    def __init__(self, arrays, name, error):
        self.arrays = arrays
        self.name = name
        self.error = error
        self.used = set()

    def fail(self, msg):
        raise self.error(f"load: {self.name}: {msg}")

    def decode(self, node, depth):
        if depth > MAX_DEPTH:
            self.fail(f"tree nested deeper than {MAX_DEPTH}")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(n, depth + 1) for n in node]
        if not isinstance(node, dict):
            self.fail(f"unexpected tree node {type(node).__name__}")
        tags = set(node)
        if tags == {"tensor", "requires_grad"}:
            return self._tensor(node)
        if len(tags) != 1:
            self.fail(f"unknown tree node with keys {sorted(tags)[:5]}")
        tag, value = next(iter(node.items()))
        if tag == "tuple" and isinstance(value, list):
            return tuple(self.decode(n, depth + 1) for n in value)
        if tag in ("dict", "odict") and isinstance(value, list):
            return self._mapping(OrderedDict() if tag == "odict" else {}, value, depth)
        if tag == "float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "ndarray" and isinstance(value, str):
            return self._array(value)
        if tag == "scalar" and isinstance(value, str):
            arr = self._array(value)
            if arr.ndim != 0:
                self.fail(f"numpy scalar {value!r} has shape {arr.shape}")
            return arr[()]
        self.fail(f"unknown or malformed tree node {tag!r}")

    def _mapping(self, out, items, depth):
        for item in items:
            if not (isinstance(item, list) and len(item) == 2):
                self.fail("a dict item is not a [key, value] pair")
            key = self._key(item[0], depth + 1)
            if key in out:
                self.fail(f"duplicate dict key {key!r}")
            out[key] = self.decode(item[1], depth + 1)
        return out

    def _key(self, node, depth):
        if depth > MAX_DEPTH:
            self.fail(f"tree nested deeper than {MAX_DEPTH}")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict) and len(node) == 1:
            tag, value = next(iter(node.items()))
            if tag == "tuple" and isinstance(value, list):
                return tuple(self._key(k, depth + 1) for k in value)
            if tag == "float" and value in ("nan", "inf", "-inf"):
                return float(value)
        self.fail("a dict key is not str, int, float, bool, None or a tuple of these")

    def _array(self, key):
        if key not in self.arrays:
            self.fail(f"the tree refers to a missing tensor {key!r}")
        if key in self.used:
            self.fail(f"the tree refers to tensor {key!r} twice")
        self.used.add(key)
        return self.arrays[key]

    def _tensor(self, node):
        requires_grad = node["requires_grad"]
        if not isinstance(requires_grad, bool) or not isinstance(node["tensor"], str):
            self.fail("malformed tensor node")
        arr = self._array(node["tensor"])
        if requires_grad and arr.dtype.kind not in "fc":
            self.fail(f"tensor {node['tensor']!r} of dtype {arr.dtype} cannot require grad")
        return Tensor._make(arr, requires_grad, None, 0)

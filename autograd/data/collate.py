"""default_collate and default_convert: how a list of samples becomes a batch (PyTorch's rules).

    default_collate([(x0, 0), (x1, 1)])  ->  [stack([x0, x1]), tensor([0, 1])]

Rules of default_collate, applied recursively to a batch (a list of samples of one structure):
- Tensors -> stacked along a new first dimension (shapes must match), dtype kept;
- ndarrays -> as Tensors, then stacked (dtype kept; str/object arrays are an error);
- numpy scalars -> a 1-d Tensor of their dtype;
- Python float -> float64 Tensor, as PyTorch's default_collate (not the default dtype);
- Python int -> int64 Tensor (a batch of bools -> bool; ints mixed with floats -> the
  default float dtype, as `ag.tensor`);
- str and bytes -> left as they are (the list or tuple of them);
- dicts (Mappings) -> a dict of the collated values per key (the mapping type kept);
- namedtuples -> the namedtuple of collated fields; other tuples and lists -> a *list* of the
  collated positions (PyTorch's "backwards compatibility" rule: tuples become lists), all
  samples having equal lengths;
- anything else -> TypeError.
"""
import copy
from collections.abc import Mapping, MutableMapping, Sequence

import numpy as np

from .. import creation, grad_mode
from ..ops import stack
from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _bad_array_dtype(dtype):
    return dtype.kind in "SaUOV"


def _stack_tensors(batch):
    """Stack equally shaped Tensors along a new dim 0: (B, *shape)."""
    shape = batch[0].shape
    for i, t in enumerate(batch):
        if t.shape != shape:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"but got {list(shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    if grad_mode.is_grad_enabled() and any(t.requires_grad for t in batch):
        return stack(batch, 0)
    return Tensor._make(np.stack([t.data for t in batch]), False, None, 0)


def default_collate(batch):
    """Collate a list of samples into a batch; see the module docstring for the rules."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if _bad_array_dtype(elem.dtype):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack_tensors([Tensor._make(np.asarray(b), False, None, 0) for b in batch])
    if isinstance(elem, np.generic):
        if _bad_array_dtype(elem.dtype):
            raise TypeError(_ERR.format(elem.dtype))
        return Tensor._make(np.array(batch), False, None, 0)
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64), False, None, 0)
    if isinstance(elem, int):
        return creation.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        columns = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, (tuple, list)):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """The per-sample conversion used when batch_size=None: ndarrays and numpy scalars become
    Tensors, containers are converted recursively (tuples become lists), the rest is kept."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        if _bad_array_dtype(data.dtype):
            return data
        return Tensor._make(np.asarray(data), False, None, 0)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        if isinstance(data, MutableMapping):
            clone = copy.copy(data)
            clone.update(converted)
            return clone
        return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


"""MNIST-1D (Greydanus 2020), generated locally with the mnist1d package's `make_dataset`.

    train, test = load_mnist1d()       # 4000 / 1000 sequences of length 40, 10 classes

Only `make_dataset(get_dataset_args())` is called: never mnist1d's download path
(`get_dataset`), which fetches a pickle and writes it into the working directory.
"""
import random
import types

import numpy as np

from ..data.dataset import TensorDataset
from ..tensor import Tensor

__all__ = ["load_mnist1d"]

_cache = {}


def load_mnist1d(**overrides):
    """(train, test) TensorDatasets: x float32 (N, 40), y int64 (N,) in 0..9.

    With no arguments this is the paper's data set (mnist1d's default arguments: 5000
    samples, 80/20 split, seed 42). Keyword arguments override those defaults by name
    (num_samples, train_split, seed, shuffle_seq, ...). mnist1d seeds Python's and numpy's
    global generators; their states are restored afterwards. Results are cached per arguments.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:
        raise ImportError("load_mnist1d needs the mnist1d package: pip install mnist1d") from exc
    args = get_dataset_args(as_dict=True)
    unknown = sorted(set(overrides) - set(args) | ({"url"} & set(overrides)))
    if unknown:
        raise TypeError(f"load_mnist1d: unknown arguments {unknown}; known: "
                        f"{sorted(set(args) - {'url'})}")
    args.update(overrides)
    key = repr(sorted(args.items()))
    if key not in _cache:
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            data = make_dataset(types.SimpleNamespace(**args))
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
        _cache[key] = tuple(np.asarray(data[k], dtype=dt) for k, dt in
                            (("x", np.float32), ("y", np.int64),
                             ("x_test", np.float32), ("y_test", np.int64)))
    x, y, x_test, y_test = (a.copy() for a in _cache[key])

    def part(a, b):
        return TensorDataset(Tensor._make(a, False, None, 0), Tensor._make(b, False, None, 0))
    return part(x, y), part(x_test, y_test)

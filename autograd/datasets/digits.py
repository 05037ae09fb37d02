"""scikit-learn's handwritten digits (1797 grey 8x8 images, 10 classes, in the wheel).

    train, test = load_digits(test_size=0.2, seed=0)     # TensorDatasets
    x, y = train.tensors                                  # float32 (N, 1, 8, 8), int64 (N,)
"""
import numpy as np

from ..data.dataset import TensorDataset
from ..tensor import Tensor
from ._rng import make_rng

__all__ = ["load_digits"]


def load_digits(test_size=0.2, seed=0, flatten=False):
    """(train, test) TensorDatasets of the digits, split per class (stratified) at random.

    x: float32 (N, 1, 8, 8), or (N, 64) when flatten, pixels scaled from 0..16 to [0, 1];
    y: int64 (N,) in 0..9. test_size: the fraction of each class held out (0 < test_size < 1);
    seed: an int, a numpy Generator or None (global generator).
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as exc:
        raise ImportError("load_digits needs scikit-learn: pip install scikit-learn") from exc
    if not 0 < test_size < 1:
        raise ValueError(f"load_digits: test_size must be in (0, 1), got {test_size}")
    digits = sk_load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    rng = make_rng(seed)
    train_idx, test_idx = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_size * idx.size))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    x = images.reshape(-1, 64) if flatten else images[:, None]

    def part(idx):
        return TensorDataset(Tensor._make(np.ascontiguousarray(x[idx]), False, None, 0),
                             Tensor._make(labels[idx], False, None, 0))
    return part(train_idx), part(test_idx)

"""Embedding lookup and one-hot encoding, with PyTorch's names and signatures.

    embedding(idx, w)    idx: (...) int64, w: (V, D) -> (..., D);  y[...] = w[idx[...]]
                         dw: g scatter-added into a zero table at rows idx (repeated indices
                         accumulate), zero at padding_idx
    one_hot(idx, n)      idx: (...) int64 -> (..., n) int64 with a 1 at idx
"""
import numpy as np

import autograd as ag
from autograd.ops.embedding import embedding_lookup

__all__ = ["embedding", "one_hot"]


def _indices(op, input, shape_of=None):
    arr = input.data if isinstance(input, ag.Tensor) else np.asarray(input)
    if arr.dtype.kind not in "iu":
        where = f" (weight shape {shape_of})" if shape_of is not None else ""
        raise RuntimeError(f"{op}: expected an integer (int64) index tensor, got dtype "
                           f"{arr.dtype} with shape {tuple(arr.shape)}{where}")
    return arr


def _padding_row(padding_idx, num_embeddings):
    """padding_idx in [-V, V) as a row number (None stays None)."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings "
                         f"{num_embeddings} (in [-{num_embeddings}, {num_embeddings}))")
    return padding_idx % num_embeddings


def _renorm_(weight, rows, max_norm, norm_type):
    """Rescale, in place and off the tape, the rows of weight whose norm exceeds max_norm to
    norm max_norm (scale max_norm / (norm + 1e-7)), as PyTorch's embedding_renorm_."""
    rows = np.unique(rows)
    table = weight.data
    norms = np.linalg.norm(table[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(table.dtype)
        table[rows[big]] *= scale[:, None]
        weight._vc[0] += 1      # an in-place write: tensors saved before it are stale


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """input: (...) int64 indices in [0, V); weight: (V, D) -> (..., D).

    padding_idx: that row gets no gradient. max_norm: rows looked up whose norm_type-norm
    exceeds it are rescaled in place first. scale_grad_by_freq: divide each row's gradient
    by its frequency in input."""
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported; "
                                  "use sparse=False")
    if not isinstance(weight, ag.Tensor) or weight.ndim != 2:
        shape = tuple(np.shape(weight.data if isinstance(weight, ag.Tensor) else weight))
        raise RuntimeError(f"embedding: weight must be a 2-D tensor (num_embeddings, "
                           f"embedding_dim), got shape {shape}")
    num = weight.shape[0]
    idx = _indices("embedding", input, tuple(weight.shape))
    if idx.size:
        bad = idx[(idx < 0) | (idx >= num)]
        if bad.size:
            raise IndexError(f"embedding: index {int(bad[0])} is out of range for a weight of "
                             f"shape {tuple(weight.shape)} (input shape {tuple(idx.shape)})")
    idx = idx.astype(np.intp)
    if max_norm is not None and idx.size:
        _renorm_(weight, idx.reshape(-1), float(max_norm), float(norm_type))
    return embedding_lookup(weight, idx, _padding_row(padding_idx, num), scale_grad_by_freq)


def one_hot(tensor, num_classes=-1):
    """tensor: (...) int64 class values -> (..., num_classes) int64; num_classes=-1 infers
    max + 1."""
    idx = _indices("one_hot", tensor)
    shape = tuple(idx.shape)
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError(f"one_hot: can not infer the number of classes from an empty "
                               f"tensor (shape {shape}); pass num_classes")
        num_classes = int(idx.max()) + 1
    if idx.size and idx.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative; got {int(idx.min())} "
                           f"(input shape {shape})")
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes "
                           f"({num_classes}); got {int(idx.max())} (input shape {shape})")
    out = np.zeros(shape + (int(num_classes),), np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return ag.from_numpy(out)

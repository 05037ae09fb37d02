"""Variable-length batches for the recurrent layers (as torch.nn.utils.rnn).

A PackedSequence holds B sequences of lengths L_0 >= L_1 >= ... (sorted) as rows ordered by
time: step t holds the batch_sizes[t] = #{b : L_b > t} sequences still running, so

    data: (sum(L), *)       rows offsets[t] : offsets[t] + batch_sizes[t] are step t
    batch_sizes: (T,) int64, T = max(L)
    sorted_indices: (B,) the original index of each sorted sequence (None when the input was
    already sorted); unsorted_indices: its inverse permutation.

    pad_sequence(seqs)                  [(L_b, *)] -> (T, B, *) (or (B, T, *) batch_first)
    pack_padded_sequence(x, lengths)    (T, B, *) -> PackedSequence (enforce_sorted=False
                                        sorts by length, stably, first)
    pad_packed_sequence(packed)         PackedSequence -> ((T, B, *), lengths), original order
    pack_sequence(seqs)                 = pack_padded_sequence(pad_sequence(seqs), lengths)
    unpad_sequence / unpack_sequence    back to a list of (L_b, *) tensors

Each is one gather (index_select) of the rows, so gradients flow through packing and
padding (pad positions get no gradient).
"""
from collections import namedtuple

import numpy as np

import autograd as ag

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


def invert_permutation(permutation):
    """The inverse of a permutation (a Tensor of int64, or None)."""
    if permutation is None:
        return None
    perm = _ints(permutation)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=np.int64)
    return ag.tensor(inverse)


def _ints(values):
    """A Tensor, list or array of integers as a 1-D int64 array."""
    arr = values.data if isinstance(values, ag.Tensor) else np.asarray(values)
    if arr.dtype.kind not in "iu" and arr.size:
        raise TypeError(f"expected integers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64).reshape(-1)


def _index_tensor(values):
    """values as an int64 Tensor (an int64 Tensor is kept as is; None stays None)."""
    if values is None or isinstance(values, ag.Tensor) and values.dtype == np.int64:
        return values
    return ag.tensor(_ints(values))


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Sequences packed as rows ordered by time (see the module docstring).
    data: (sum(L), *), batch_sizes: (T,) int64, sorted_indices / unsorted_indices: (B,) int64
    or None."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required; build one with "
                            "pack_padded_sequence or pack_sequence")
        batch_sizes = _index_tensor(batch_sizes)
        sorted_indices = _index_tensor(sorted_indices)
        if sorted_indices is not None and unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        unsorted_indices = _index_tensor(unsorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packing with data.to(*args, **kwargs)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def float(self):
        return self.to(ag.float32)

    def double(self):
        return self.to(ag.float64)

    def cpu(self):
        return self

    @property
    def is_cuda(self):
        return False


def _offsets(batch_sizes):
    return np.concatenate([[0], np.cumsum(batch_sizes)]).astype(np.int64)


def _gather_with_padding(data, index, padding_value, shape):
    """rows of data, index == len(data) meaning padding_value -> reshaped to shape."""
    pad = ag.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    table = ag.cat([data, pad], 0)
    return table.index_select(0, ag.tensor(index.reshape(-1))).reshape(shape)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """sequences: B tensors (L_b, *) -> (T, B, *) (batch_first: (B, T, *)), T = max L_b,
    padded with padding_value on the right (or the left)."""
    if isinstance(sequences, ag.Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    for k, s in enumerate(sequences):
        if not isinstance(s, ag.Tensor) or s.ndim == 0 or \
                s.shape[1:] != sequences[0].shape[1:]:
            shapes = [tuple(getattr(t, "shape", ())) for t in sequences]
            raise RuntimeError(f"pad_sequence: expected tensors (L, *) with the same trailing "
                               f"dims, got shapes {shapes} (item {k})")
    lengths = np.array([s.shape[0] for s in sequences], np.int64)
    total, steps = int(lengths.sum()), int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(steps)[:, None]                                     # (T, 1)
    pos = t if padding_side == "right" else t - (steps - lengths)[None, :]
    index = np.where((pos >= 0) & (pos < lengths[None, :]), starts[None, :] + pos, total)
    if batch_first:
        index = index.T
    shape = index.shape + tuple(sequences[0].shape[1:])
    return _gather_with_padding(ag.cat(sequences, 0), index, padding_value, shape)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """input: (T, B, *) (batch_first: (B, T, *)), lengths: (B,) -> PackedSequence.
    enforce_sorted=True requires lengths sorted in decreasing order; False sorts them
    and records sorted_indices.

    Ties: sequences of equal length keep their batch order (a stable sort, ties by increasing
    index). PyTorch sorts with torch.sort(descending=True), whose order among ties is
    unspecified (not stable for batches of 17 or more), so with tied lengths in such batches
    sorted_indices and the row order of .data may differ from PyTorch's; batch_sizes, the
    unpacked (pad_packed_sequence) outputs, final states and gradients do not."""
    if not isinstance(input, ag.Tensor) or input.ndim < 2:
        raise TypeError(f"pack_padded_sequence: input must be a Tensor (T, B, *), got "
                        f"{getattr(input, 'shape', type(input).__name__)}")
    lengths = _ints(lengths)
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if lengths.size != batch:
        raise RuntimeError(f"pack_padded_sequence: expected {batch} lengths (the batch size "
                           f"of input {tuple(input.shape)}), got {lengths.size}")
    if batch and lengths.min() <= 0:
        raise RuntimeError("pack_padded_sequence: the length of every sequence has to be "
                           f"greater than 0, got lengths {lengths.tolist()}")
    if batch and lengths.max() > steps:
        raise RuntimeError(f"pack_padded_sequence: a length of {int(lengths.max())} exceeds "
                           f"the {steps} steps of input {tuple(input.shape)}")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "pack_padded_sequence: `lengths` array must be sorted in decreasing order "
                f"when `enforce_sorted` is True (got {lengths.tolist()}). Pass "
                "enforce_sorted=False to sort the batch inside.")
        order, sorted_indices = np.arange(batch, dtype=np.int64), None
    else:
        order = np.argsort(-lengths, kind="stable").astype(np.int64)
        sorted_indices = ag.tensor(order)
    sorted_lengths = lengths[order]
    batch_sizes = (sorted_lengths[None, :] > np.arange(int(sorted_lengths[0]))[:, None]).sum(1)
    # rows of step t: the first batch_sizes[t] sorted sequences, at (t, order[b])
    t_idx = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    b_idx = order[np.concatenate([np.arange(n) for n in batch_sizes])]
    flat = b_idx * steps + t_idx if batch_first else t_idx * batch + b_idx
    rows = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = rows.index_select(0, ag.tensor(flat.astype(np.int64)))
    return PackedSequence(data, batch_sizes.astype(np.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """PackedSequence -> (padded (T, B, *) (batch_first: (B, T, *)), lengths (B,) int64),
    in the original batch order; T = total_length when given (>= the longest length)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got "
                        f"{type(sequence).__name__}")
    sizes = _ints(sequence.batch_sizes)
    steps, batch = sizes.size, int(sizes[0]) if sizes.size else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: expected total_length to be at least the "
                             f"length of the longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {steps}")
        steps = int(total_length)
    sorted_lengths = (sizes[None, :] > np.arange(batch)[:, None]).sum(1)       # (B,)
    unsorted = np.arange(batch) if sequence.unsorted_indices is None else \
        _ints(sequence.unsorted_indices)
    pos = unsorted[None, :]                                     # sorted position, per column
    t = np.arange(steps)[:, None]
    offsets = _offsets(sizes)
    live = t < sorted_lengths[pos]
    index = np.where(live, offsets[np.minimum(t, sizes.size - 1)] + pos, sizes.sum())
    if batch_first:
        index = index.T
    shape = index.shape + tuple(sequence.data.shape[1:])
    padded = _gather_with_padding(sequence.data, index, padding_value, shape)
    return padded, ag.tensor(sorted_lengths[unsorted].astype(np.int64))


def pack_sequence(sequences, enforce_sorted=True):
    """B tensors (L_b, *) -> PackedSequence (enforce_sorted: lengths must be decreasing)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """(T, B, *) (batch_first: (B, T, *)) and lengths (B,) -> B tensors (L_b, *)."""
    lengths = _ints(lengths)
    out = []
    for b, n in enumerate(lengths):
        seq = padded_sequences[b] if batch_first else padded_sequences[:, b]
        out.append(seq[:int(n)])
    return out


def unpack_sequence(packed_sequences):
    """PackedSequence -> B tensors (L_b, *) in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

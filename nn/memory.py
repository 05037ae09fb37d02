"""Differentiable external memory: the addressing and read/write steps of the neural Turing
machine (Graves et al. 2014), the sentence encodings of end-to-end memory networks
(Sukhbaatar et al. 2015), and a display of which memory slot each hop or head reads.

Not imported by `nn/__init__`: `from nn import memory` (or `import nn.memory`).

NTM addressing, one head, batch B, N slots of width M (every step differentiable):
    content_addressing(memory, key, beta)   w_c(i) = softmax_i(beta K(k, M(i))), K = cosine
    interpolate(w_c, w_prev, g)             w_g = g w_c + (1 - g) w_prev
    circular_shift(w_g, s)                  w~(i) = sum_j w_g(j) s((i - j) mod N)
    sharpen(w~, gamma)                      w(i) = w~(i)^gamma / sum_j w~(j)^gamma
    address(...)                            the four above in order
    memory_read(memory, w)                  r = sum_i w(i) M(i)
    memory_write(memory, w, erase, add)     M(i) <- M(i) prod_h (1 - w_h(i) e_h) + sum_h w_h(i) a_h
Memory networks:
    position_encoding(J, d)                 l_kj = (1 - j/J) - (k/d)(1 - 2j/J)
Display:
    read_attention(model, *inputs)          ndarray (rows, slots): hops (MemN2N) or time steps
    plot_read_attention(matrix)             a matplotlib heat map of that matrix
"""
import functools

import numpy as np

import autograd as ag

from . import functional as F
from .linear import Linear
from .module import Module

__all__ = ["content_addressing", "interpolate", "circular_shift", "sharpen", "address",
           "memory_read", "memory_write", "position_encoding", "NTMHead", "read_attention",
           "plot_read_attention"]


def _shapes(**tensors):
    return ", ".join(f"{name} {tuple(t.shape)}" for name, t in tensors.items())


def _require(cond, op, message, **tensors):
    if not cond:
        raise ValueError(f"{op}: {message} (got {_shapes(**tensors)})")


def _check_weighting(op, w, memory=None):
    if not isinstance(w, ag.Tensor):
        raise TypeError(f"{op}: expected Tensor weightings, got {type(w).__name__}")
    _require(w.ndim == 2, op, "the weighting must be (B, N)", w=w)
    if memory is not None:
        _require(memory.ndim == 3 and memory.shape[:2] == w.shape, op,
                 "memory must be (B, N, M) with the weighting (B, N)", memory=memory, w=w)


def _check_gate(op, name, value, w):
    _require(value.shape == (w.shape[0], 1), op, f"{name} must be (B, 1) for weightings (B, N)",
             **{name: value, "w": w})


# -- addressing ------------------------------------------------------------------------------
def content_addressing(memory, key, beta, eps=1e-8):
    """memory: (B, N, M), key: (B, M), beta: (B, 1) >= 0 -> w_c: (B, N).
    w_c(i) = exp(beta K(k, M(i))) / sum_j exp(beta K(k, M(j))), K the cosine similarity
    <u, v> / (max(||u||, eps) max(||v||, eps))."""
    op = "content_addressing"
    _require(memory.ndim == 3 and key.ndim == 2 and key.shape == (memory.shape[0], memory.shape[2]),
             op, "expected memory (B, N, M) and key (B, M)", memory=memory, key=key)
    _require(beta.shape == (memory.shape[0], 1), op, "beta must be (B, 1)", memory=memory,
             beta=beta)
    dot = ag.matmul(memory, key.unsqueeze(2)).squeeze(2)                          # (B, N)
    norms = memory.norm(dim=2).clamp_min(eps) * key.norm(dim=1, keepdim=True).clamp_min(eps)
    return F.softmax(beta * (dot / norms), dim=1)


def interpolate(w_content, w_prev, g):
    """w_content, w_prev: (B, N), g: (B, 1) in [0, 1] -> g w_c + (1 - g) w_prev: (B, N)."""
    _check_weighting("interpolate", w_content)
    _require(w_prev.shape == w_content.shape, "interpolate",
             "the two weightings must have one shape", w_content=w_content, w_prev=w_prev)
    _check_gate("interpolate", "g", g, w_content)
    # g w_c + (1 - g) w_prev = w_prev + g (w_c - w_prev)
    return w_prev + g * (w_content - w_prev)


@functools.lru_cache(maxsize=64)
def _shift_index(radius, slots):
    """(2R + 1, N) int array: row k + R holds (i - k) mod N for i = 0..N-1."""
    offsets = np.arange(-radius, radius + 1)[:, None]
    index = (np.arange(slots)[None, :] - offsets) % slots
    index.flags.writeable = False
    return index


def circular_shift(w, shift):
    """w: (B, N), shift: (B, S) a distribution over the S = 2R + 1 offsets -R..R -> (B, N).
    w~(i) = sum_j w(j) s((i - j) mod N) = sum_k s_k w(i - k): a circular convolution."""
    _check_weighting("circular_shift", w)
    _require(shift.ndim == 2 and shift.shape[0] == w.shape[0] and shift.shape[1] % 2 == 1,
             "circular_shift", "shift must be (B, 2R + 1)", w=w, shift=shift)
    shifted = w[:, _shift_index(shift.shape[1] // 2, w.shape[1])]     # (B, S, N): w(i - k)
    return ag.matmul(shift.unsqueeze(1), shifted).squeeze(1)


def sharpen(w, gamma, eps=1e-12):
    """w: (B, N), gamma: (B, 1) >= 1 -> (B, N): (w + eps)^gamma / sum_j (w(j) + eps)^gamma.
    eps keeps d/dgamma = w^gamma log w finite where a weight is exactly 0."""
    _check_weighting("sharpen", w)
    _check_gate("sharpen", "gamma", gamma, w)
    powered = (w + eps) ** gamma
    return powered / powered.sum(dim=1, keepdim=True)


def address(memory, w_prev, key, beta, g, shift, gamma):
    """The NTM addressing of one head: content -> interpolation -> shift -> sharpening.
    memory: (B, N, M), w_prev: (B, N), key: (B, M), beta, g, gamma: (B, 1), shift: (B, S)
    -> w: (B, N)."""
    w_content = content_addressing(memory, key, beta)
    w_gated = interpolate(w_content, w_prev, g)
    return sharpen(circular_shift(w_gated, shift), gamma)


# -- reading and writing ---------------------------------------------------------------------
def memory_read(memory, w):
    """memory: (B, N, M), w: (B, N) -> r: (B, M), r = sum_i w(i) M(i)."""
    _check_weighting("memory_read", w, memory)
    return ag.matmul(w.unsqueeze(1), memory).squeeze(1)


def memory_write(memory, w, erase, add):
    """memory: (B, N, M); one head: w (B, N), erase, add (B, M); H heads: w (B, H, N), erase,
    add (B, H, M) -> the new memory (B, N, M).
    M(i) <- M(i) prod_h (1 - w_h(i) e_h) + sum_h w_h(i) a_h (erase first, then add)."""
    op = "memory_write"
    if w.ndim == 2:
        w, erase, add = w.unsqueeze(1), erase.unsqueeze(1), add.unsqueeze(1)
    _require(memory.ndim == 3 and w.ndim == 3 and w.shape[0] == memory.shape[0]
             and w.shape[2] == memory.shape[1], op,
             "expected memory (B, N, M) and weightings (B, N) or (B, H, N)", memory=memory, w=w)
    expected = (w.shape[0], w.shape[1], memory.shape[2])
    _require(erase.shape == expected and add.shape == expected, op,
             "erase and add must be (B, M) or (B, H, M)", w=w, erase=erase, add=add)
    keep = None
    for h in range(w.shape[1]):
        # 1 - w_h(i) e_h(m): (B, N, M)
        factor = 1 - w[:, h].unsqueeze(2) * erase[:, h].unsqueeze(1)
        keep = factor if keep is None else keep * factor
    # sum_h w_h(i) a_h(m) = (w^T a)(i, m)
    added = ag.matmul(w.transpose(1, 2), add)
    return memory * keep + added


# -- one NTM head ----------------------------------------------------------------------------
class NTMHead(Module):
    """NTMHead(controller_size, memory_width, shift_range=1, write=False): one Linear layer
    from the controller state h (B, controller_size) to the head's parameters:
        key k (M)       as is              beta  = softplus        (key strength >= 0)
        g               sigmoid            shift = softmax over 2 * shift_range + 1 offsets
        gamma           1 + softplus       erase = sigmoid (M), add = tanh (M)   (write only)
    forward(h, memory, w_prev) -> (w, params) with params a dict of the tensors above."""

    def __init__(self, controller_size, memory_width, shift_range=1, write=False):
        super().__init__()
        self.memory_width, self.shift_range, self.write = memory_width, shift_range, write
        width = memory_width
        self.sizes = [("key", width), ("beta", 1), ("g", 1), ("shift", 2 * shift_range + 1),
                      ("gamma", 1)]
        if write:
            self.sizes += [("erase", width), ("add", width)]
        self.fc = Linear(controller_size, sum(size for _, size in self.sizes))

    def parameters_from(self, h):
        """h: (B, controller_size) -> dict of the head's constrained parameters."""
        chunks = self.fc(h).split([size for _, size in self.sizes], dim=1)
        params = {name: chunk for (name, _), chunk in zip(self.sizes, chunks)}
        params["beta"] = F.softplus(params["beta"])
        params["g"] = F.sigmoid(params["g"])
        params["shift"] = F.softmax(params["shift"], dim=1)
        params["gamma"] = 1 + F.softplus(params["gamma"])
        if self.write:
            params["erase"] = F.sigmoid(params["erase"])
            params["add"] = F.tanh(params["add"])
        return params

    def forward(self, h, memory, w_prev):
        params = self.parameters_from(h)
        w = address(memory, w_prev, params["key"], params["beta"], params["g"],
                    params["shift"], params["gamma"])
        return w, params

    def extra_repr(self):
        kind = "write" if self.write else "read"
        return f"{kind}, memory_width={self.memory_width}, shift_range={self.shift_range}"


# -- memory networks -------------------------------------------------------------------------
def position_encoding(sentence_length, embedding_dim, dtype=None):
    """(J, d) constant: l_kj = (1 - j/J) - (k/d)(1 - 2j/J), j = 1..J, k = 1..d (Sukhbaatar et
    al. 2015, section 4.1); a sentence is encoded as sum_j l_j * A x_j."""
    j = np.arange(1, sentence_length + 1)[:, None] / sentence_length
    k = np.arange(1, embedding_dim + 1)[None, :] / embedding_dim
    table = (1 - j) - k * (1 - 2 * j)
    dtype = ag.get_default_dtype() if dtype is None else dtype
    return ag.tensor(table, dtype=dtype)


# -- display ---------------------------------------------------------------------------------
def read_attention(model, *inputs, sample=0, head=0, kind="read"):
    """Which memory slot is read: a 2-D ndarray (rows, slots) for one sample of the batch.
    MemN2N: model(story, query) -> rows = hops, slots = the story's sentences.
    NTM: model(x) -> rows = time steps, slots = memory locations, for read (or, with
    kind='write', write) head `head`. Runs the model without recording a graph."""
    with ag.no_grad():
        if hasattr(model, "attention"):
            weights = model.attention(*inputs)                      # (B, K, S)
            matrix = weights[sample]
        elif hasattr(model, "weightings"):
            weights = model.weightings(*inputs)[kind]               # (T, B, H, N)
            matrix = weights[:, sample, head]
        else:
            raise TypeError(f"read_attention: {type(model).__name__} has neither attention() "
                            "(memory network) nor weightings() (NTM)")
    return np.array(matrix.data)


def plot_read_attention(matrix, ax=None, row_label="hop", slot_labels=None, title=None):
    """A heat map of read_attention's matrix (rows x slots), drawn with the memory slots down
    the vertical axis (labelled by slot_labels, e.g. the story's sentences) and the rows (hops
    or time steps) across; returns the matplotlib Axes."""
    import matplotlib.pyplot as plt
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"plot_read_attention: expected a 2-D matrix, got shape {matrix.shape}")
    rows, slots = matrix.shape
    if slot_labels is not None and len(slot_labels) != slots:
        raise ValueError(f"plot_read_attention: {len(slot_labels)} slot labels for {slots} "
                         "slots")
    if ax is None:
        width = 2.5 + 0.35 * rows + (0.07 * max(map(len, slot_labels)) if slot_labels else 0)
        _, ax = plt.subplots(figsize=(width, 1.2 + 0.3 * slots))
    image = ax.imshow(matrix.T, aspect="auto", cmap="viridis", vmin=0.0,
                      vmax=max(1e-12, float(matrix.max())))
    ax.set_xlabel(row_label)
    ax.set_xticks(range(rows))
    ax.set_ylabel("memory slot")
    ax.set_yticks(range(slots))
    if slot_labels is not None:
        ax.set_yticklabels(slot_labels)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax)
    ax.figure.tight_layout()
    return ax

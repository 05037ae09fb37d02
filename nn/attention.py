"""Attention layers and positional encodings (exported by nn.transformer).

    MultiheadAttention(E, H)       PyTorch's layer and parameter layout:
        in_proj_weight (3E, E) (xavier uniform), or q_proj_weight (E, E), k_proj_weight
        (E, kdim), v_proj_weight (E, vdim) when kdim or vdim differ from E; in_proj_bias (3E,)
        (zeros); bias_k, bias_v (1, 1, E) with add_bias_kv (xavier normal); out_proj a
        Linear(E, E) whose bias starts at zero.
        head_i = softmax(Q_i K_i^T / sqrt(E / H) + M) V_i,   y = concat(head_1..H) W_o^T + b_o
    AdditiveAttention(q, k, h)     Bahdanau: e_j = v^T tanh(W_q q + W_k k_j), a = softmax(e),
                                   context = sum_j a_j value_j
    SinusoidalPositionalEncoding   PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(...)
    LearnedPositionalEmbedding     a trained table of max_len position vectors
"""
import math

import numpy as np

import autograd as ag

from . import functional as F
from . import init
from .dropout import Dropout
from .linear import Linear, empty_parameter, factory_dtype
from .module import Module
from .sparse import Embedding

__all__ = ["MultiheadAttention", "AdditiveAttention", "SinusoidalPositionalEncoding",
           "LearnedPositionalEmbedding"]


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's out_proj: a Linear (PyTorch's name, kept for repr parity)."""


class MultiheadAttention(Module):
    """query: (L, N, E) (or (N, L, E) with batch_first; unbatched (L, E)), key: (S, N, kdim),
    value: (S, N, vdim) -> (attn_output like query, attn_weights (N, L, S) averaged over
    heads, or (N, H, L, S), or None when need_weights=False).

    key_padding_mask: (N, S) or (S,); attn_mask: (L, S) or (N * H, L, S); bool masks are
    True where attention is not allowed, float masks are added to the scores. A query whose
    keys are all masked gets zero weights (PyTorch returns NaN there when need_weights=True).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater "
                             f"than 0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} must be divisible by "
                             f"num_heads={num_heads}")
        dtype = factory_dtype("MultiheadAttention", device, dtype)
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty_parameter((3 * embed_dim, embed_dim), dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty_parameter((embed_dim, embed_dim), dtype)
            self.k_proj_weight = empty_parameter((embed_dim, self.kdim), dtype)
            self.v_proj_weight = empty_parameter((embed_dim, self.vdim), dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty_parameter((3 * embed_dim,), dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty_parameter((1, 1, embed_dim), dtype)
            self.bias_v = empty_parameter((1, 1, embed_dim), dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, ag.Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a Tensor, got "
                                f"{type(t).__name__}")
        for name, t, dim in (("key", key, self.kdim), ("value", value, self.vdim)):
            if t.shape[-1:] != (dim,):
                raise RuntimeError(f"MultiheadAttention: expected {name} of shape (..., {dim}),"
                                   f" got {tuple(t.shape)}")
        separate = not self._qkv_same_embed_dim
        return F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal,
            batch_first=self.batch_first and query.ndim == 3)


class AdditiveAttention(Module):
    """Bahdanau (additive) attention.

        e_j = v^T tanh(W_q q + W_k k_j)     (scores: one per key)
        a = softmax(e) over the keys         (masked keys get a = 0)
        context = sum_j a_j value_j

    query: (N, query_dim) or (N, L, query_dim); keys: (N, S, key_dim); values: (N, S, Dv)
    (default: the keys) -> (context (N, Dv) or (N, L, Dv), weights (N, S) or (N, L, S)).
    key_padding_mask: (N, S) bool, True at padding keys (PyTorch's convention).
    projected_keys: W_k keys from `project_keys(keys)`, to reuse it over decoder steps.
    Parameters: query_proj.weight (hidden, query_dim), key_proj.weight (hidden, key_dim),
    score_proj.weight (1, hidden) (v); biases when bias=True.
    """

    def __init__(self, query_dim, key_dim, hidden_dim, bias=False, dropout=0.0, device=None,
                 dtype=None):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.query_proj = Linear(query_dim, hidden_dim, bias=bias, **kw)
        self.key_proj = Linear(key_dim, hidden_dim, bias=bias, **kw)
        self.score_proj = Linear(hidden_dim, 1, bias=bias, **kw)
        self.dropout = Dropout(dropout)

    def project_keys(self, keys):
        """keys: (N, S, key_dim) -> W_k keys: (N, S, hidden)."""
        return self.key_proj(keys)

    def forward(self, query, keys, values=None, key_padding_mask=None, projected_keys=None):
        if keys.ndim != 3 or query.ndim not in (2, 3) or query.shape[0] != keys.shape[0]:
            raise RuntimeError(f"AdditiveAttention: expected query (N, Dq) or (N, L, Dq) and "
                               f"keys (N, S, Dk), got query {tuple(query.shape)} and keys "
                               f"{tuple(keys.shape)}")
        values = keys if values is None else values
        if values.shape[:2] != keys.shape[:2]:
            raise RuntimeError(f"AdditiveAttention: values {tuple(values.shape)} must be "
                               f"(N, S, Dv) for keys {tuple(keys.shape)}")
        single = query.ndim == 2
        q = self.query_proj(query.unsqueeze(1) if single else query)      # (N, L, h)
        k = self.project_keys(keys) if projected_keys is None else projected_keys  # (N, S, h)
        features = (q.unsqueeze(2) + k.unsqueeze(1)).tanh()                 # (N, L, S, h)
        scores = self.score_proj(features).squeeze(-1)                      # (N, L, S)
        dead = None
        if key_padding_mask is not None:
            pad = np.asarray(key_padding_mask.data if isinstance(key_padding_mask, ag.Tensor)
                             else key_padding_mask, dtype=bool)
            if pad.shape != tuple(keys.shape[:2]):
                raise RuntimeError(f"AdditiveAttention: key_padding_mask of shape {pad.shape} "
                                   f"should be (N, S) = {tuple(keys.shape[:2])}")
            scores = scores.masked_fill(ag.from_numpy(pad[:, None, :]), float("-inf"))
            dead = pad.all(axis=1)[:, None, None]
            if dead.any():
                dead = ag.from_numpy(dead)
                scores = scores.masked_fill(dead, 0.0)
            else:
                dead = None
        weights = scores.softmax(-1)
        if dead is not None:
            weights = weights.masked_fill(dead, 0.0)
        context = self.dropout(weights).matmul(values)                     # (N, L, Dv)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights


def sinusoidal_table(max_len, d_model, dtype=None):
    """(max_len, d_model) with PE(p, 2i) = sin(p w_i), PE(p, 2i+1) = cos(p w_i),
    w_i = 10000^(-2i / d_model)."""
    dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
    position = np.arange(max_len, dtype=np.float64)[:, None]
    freq = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    table = np.zeros((max_len, d_model))
    table[:, 0::2] = np.sin(position * freq)
    table[:, 1::2] = np.cos(position * freq[:d_model // 2])
    return table.astype(dtype)


def _positions_axis(x, batch_first):
    if x.ndim == 2:
        return 0
    return 1 if batch_first else 0


class SinusoidalPositionalEncoding(Module):
    """x: (L, N, d_model) (or (N, L, d_model) with batch_first, or (L, d_model))
    -> dropout(x + PE[:L]); PE is the fixed sinusoid table of Vaswani et al. (a non-persistent
    buffer `pe` of shape (max_len, d_model))."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        table = sinusoidal_table(max_len, d_model, factory_dtype("SinusoidalPositionalEncoding",
                                                                 None, dtype))
        self.register_buffer("pe", ag.from_numpy(table), persistent=False)

    def forward(self, x, offset=0):
        axis = _positions_axis(x, self.batch_first)
        length = x.shape[axis]
        if x.shape[-1] != self.d_model or offset + length > self.max_len:
            raise RuntimeError(f"SinusoidalPositionalEncoding: input of shape {tuple(x.shape)} "
                               f"(offset {offset}) needs d_model={self.d_model} and at most "
                               f"max_len={self.max_len} positions")
        pe = self.pe[offset:offset + length]                                 # (L, d)
        if axis == 0 and x.ndim == 3:
            pe = pe.unsqueeze(1)
        return self.dropout(x + pe.to(x.dtype))

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """x: (L, N, d_model) (or (N, L, d_model) with batch_first, or (L, d_model))
    -> dropout(x + P[offset:offset + L]); P = weight of an Embedding(max_len, d_model)
    (init N(0, init_std^2), 0.02 as BERT and GPT-2)."""

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=False, init_std=0.02,
                 device=None, dtype=None):
        super().__init__()
        self.max_len, self.d_model, self.batch_first = max_len, d_model, batch_first
        self.embedding = Embedding(max_len, d_model, device=device, dtype=dtype)
        init.normal_(self.embedding.weight, std=init_std)
        self.dropout = Dropout(dropout)

    def forward(self, x, offset=0):
        axis = _positions_axis(x, self.batch_first)
        length = x.shape[axis]
        if x.shape[-1] != self.d_model or offset + length > self.max_len:
            raise RuntimeError(f"LearnedPositionalEmbedding: input of shape {tuple(x.shape)} "
                               f"(offset {offset}) needs d_model={self.d_model} and at most "
                               f"max_len={self.max_len} positions")
        positions = ag.arange(offset, offset + length)
        pe = self.embedding(positions)                                       # (L, d)
        if axis == 0 and x.ndim == 3:
            pe = pe.unsqueeze(1)
        return self.dropout(x + pe)

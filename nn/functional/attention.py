"""Attention, composed from matmul, softmax and masks (so gradients of any order work).

    scaled_dot_product_attention(q, k, v)   q: (..., L, E), k: (..., S, E), v: (..., S, Ev)
        scores = q k^T * scale + M            scale = 1 / sqrt(E) unless given
        A = softmax(scores) along S           (then dropout on A when dropout_p > 0)
        y = A v                               -> (..., L, Ev)
      M is the additive mask:
        bool attn_mask    True = the query may attend to that key: M = 0 there, -inf elsewhere
        float attn_mask   added to the scores as is (its gradient is dscores)
        is_causal         query i sees the keys j <= i (top-left aligned, as PyTorch)
      A row with every key masked gives A = 0 (output 0, gradient 0), as PyTorch's CPU kernels
      do, instead of softmax(-inf, ..., -inf) = NaN: such rows are softmaxed over zeros and
      then zeroed, so no NaN enters the forward or the backward pass.
      Backward (by the primitives): dv = A^T g, dA = g v^T,
        dscores = A * (dA - sum_S(dA * A)),  dq = dscores k * scale,  dk = dscores^T q * scale.

    multi_head_attention_forward(query, key, value, ...)   PyTorch's functional MHA:
        (L, N, E) inputs (or unbatched (L, E)), the in-projection, H heads of E / H features,
        attention, heads concatenated, the out-projection. Masks follow nn.MultiheadAttention:
        a bool attn_mask / key_padding_mask is True where attention is NOT allowed.
"""
import functools
import math

import numpy as np

import autograd as ag

from .dropout import dropout as _dropout
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_NEG_INF = float("-inf")


def _const(array):
    return ag.Tensor._make(array, False, None, 0)


def _shape(t):
    return tuple(t.shape)


# -- scaled dot-product attention -------------------------------------------------------------
def _check_qkv(op, query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, ag.Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    shapes = f"query {_shape(query)}, key {_shape(key)}, value {_shape(value)}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{op}: query, key and value must be at least 2-d, got {shapes}")
    if query.dtype.kind != "f" or not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"{op}: query, key and value must share one floating dtype, got "
                           f"{query.dtype}, {key.dtype}, {value.dtype} ({shapes})")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{op}: query and key must have the same last dim E, got {shapes}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length S "
                           f"(dim -2), got {shapes}")
    return shapes


@functools.lru_cache(maxsize=32)
def _causal_array(L, S, dtype):
    """(L, S): 0 where j <= i, -inf above the diagonal (read-only, cached)."""
    mask = np.triu(np.full((L, S), _NEG_INF, dtype=dtype), k=1)
    mask.flags.writeable = False
    return mask


def _mask_terms(op, attn_mask, is_causal, dtype, scores_shape, shapes):
    """(M, dead): the additive mask (a Tensor or None) and the bool array of the fully masked
    rows (shape broadcastable to (..., L, 1); None when there are none)."""
    L, S = scores_shape[-2:]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{op}: an explicit attn_mask should not be set when "
                               "is_causal=True")
        return _const(_causal_array(L, S, dtype)), None      # row i always sees key 0
    if attn_mask is None:
        return None, None
    if not isinstance(attn_mask, ag.Tensor):
        raise TypeError(f"{op}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
    try:
        if np.broadcast_shapes(_shape(attn_mask), scores_shape) != scores_shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"{op}: attn_mask of shape {_shape(attn_mask)} does not broadcast "
                           f"to the scores' shape (..., L, S) = (..., {L}, {S}) ({shapes})"
                           ) from None
    data = attn_mask.data
    if data.dtype == np.bool_:
        dead = ~data.any(axis=-1, keepdims=True)
        mask = _const(np.where(data, dtype.type(0), dtype.type(_NEG_INF)))
    elif data.dtype == dtype:
        dead = np.isneginf(data).all(axis=-1, keepdims=True)
        mask = attn_mask
    else:
        raise RuntimeError(f"{op}: attn_mask must be bool or have the query's dtype {dtype}, "
                           f"got {attn_mask.dtype}")
    return mask, (dead if dead.any() else None)


def _attend(query, key, value, mask, dead, dropout_p, scale):
    """y = softmax(q k^T * scale + M) v and the attention weights A: (..., L, S)."""
    scores = (query * scale).matmul(key.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    if dead is not None:
        dead = _const(dead)
        scores = scores.masked_fill(dead, 0.0)        # finite rows: no NaN in softmax
    weights = scores.softmax(-1)
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)      # and A = 0 on them
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p, training=True)
    return weights.matmul(value), weights


def _repeat_heads(x, groups):
    """x: (..., Hk, S, E) -> (..., Hk * groups, S, E), each head repeated `groups` times."""
    shape = _shape(x)
    expanded = x.unsqueeze(-3).expand(shape[:-2] + (groups,) + shape[-2:])
    return expanded.reshape(shape[:-3] + (shape[-3] * groups,) + shape[-2:])


def _gqa(op, query, key, value, shapes):
    """Grouped-query attention: key and value heads (dim -3) repeated to query's count."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise RuntimeError(f"{op}: enable_gqa needs a heads dim (-3), got {shapes}")
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk != hv or hq % hk:
        raise RuntimeError(f"{op}: enable_gqa needs key and value with the same number of "
                           f"heads dividing the query's heads, got {shapes}")
    if hq == hk:
        return key, value
    return _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hk)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """query: (..., L, E), key: (..., S, E), value: (..., S, Ev) -> (..., L, Ev).

    attn_mask: bool (True = attend) or float (added), broadcastable to (..., L, S).
    dropout_p is applied to the weights whenever it is > 0 (as PyTorch: pass 0.0 in eval).
    """
    op = "scaled_dot_product_attention"
    shapes = _check_qkv(op, query, key, value)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p has to be between 0 and 1, got {dropout_p}")
    if enable_gqa:
        key, value = _gqa(op, query, key, value, shapes)
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of {shapes} do not broadcast") from None
    L, S = query.shape[-2], key.shape[-2]
    mask, dead = _mask_terms(op, attn_mask, is_causal, query.data.dtype, batch + (L, S),
                             shapes)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    return _attend(query, key, value, mask, dead, dropout_p, scale)[0]


# -- multi-head attention ---------------------------------------------------------------------
def _float_mask(op, name, mask, dtype):
    """A bool mask (True = not allowed) as an additive float array (-inf / 0); a float mask
    as is. Returns a Tensor (constant for bool masks)."""
    if not isinstance(mask, ag.Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        return _const(np.where(mask.data, dtype.type(_NEG_INF), dtype.type(0)))
    if mask.dtype != dtype:
        raise RuntimeError(f"{op}: {name} must be bool or of the query's dtype {dtype}, got "
                           f"{mask.dtype} (shape {_shape(mask)})")
    return mask


def _pad_last(t, value=0.0):
    """t: (..., S) -> (..., S + 1) with `value` appended (masks grow with bias_k / zero_attn)."""
    if t is None:
        return None
    extra = _const(np.full(_shape(t)[:-1] + (1,), value, dtype=t.data.dtype))
    return ag.cat([t, extra], dim=-1)


def _heads(x, batch_first):
    """x: (N, S, H, hd) or (S, N, H, hd) -> (N, H, S, hd), a view."""
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _merge_heads(y, batch_first):
    """y: (N, H, L, hd) -> (N, L, E) or (L, N, E) with E = H * hd."""
    n, h, length, hd = _shape(y)
    if batch_first:
        return y.permute(0, 2, 1, 3).reshape(n, length, h * hd)
    return y.permute(2, 0, 1, 3).reshape(length, n, h * hd)


def _in_projection(query, key, value, w, b, separate, num_heads):
    """q, k, v: (..., H, hd), projected with PyTorch's packing: one GEMM for self-attention
    (query is key is value), two when key is value (k and v packed), else three. The heads
    are views of the projections, so their gradients are joined by one stack."""
    if separate is None:
        e = w.shape[0] // 3
        hd = e // num_heads
        if key is value and query is key:
            proj = linear(query, w, b)                          # (..., 3E)
            return proj.unflatten(-1, (3, num_heads, hd)).unbind(-3)
        w_q, w_k, w_v = w.chunk(3)
        if key is value:
            b_q, b_kv = (None, None) if b is None else b.split([e, 2 * e])
            kv = linear(key, ag.cat([w_k, w_v]), b_kv)         # (..., 2E)
            k, v = kv.unflatten(-1, (2, num_heads, hd)).unbind(-3)
            return linear(query, w_q, b_q).unflatten(-1, (num_heads, hd)), k, v
    else:
        w_q, w_k, w_v = separate
        e = w_q.shape[0]
        hd = e // num_heads
    b_q, b_k, b_v = (None, None, None) if b is None else b.split([e, e, e])
    return tuple(linear(x, w_x, b_x).unflatten(-1, (num_heads, hd))
                 for x, w_x, b_x in ((query, w_q, b_q), (key, w_k, b_k), (value, w_v, b_v)))


def _check_mha(op, query, key, value, embed_dim, num_heads, batched, batch_dim):
    shapes = f"query {_shape(query)}, key {_shape(key)}, value {_shape(value)}"
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise RuntimeError(f"{op}: expected query, key and value all 3-d (batched) or all 2-d "
                           f"(unbatched), got {shapes}")
    if query.shape[-1] != embed_dim:
        raise RuntimeError(f"{op}: query's last dim must be embed_dim={embed_dim}, got {shapes}")
    if embed_dim % num_heads:
        raise RuntimeError(f"{op}: embed_dim={embed_dim} is not divisible by num_heads="
                           f"{num_heads}")
    if key.shape[:-1] != value.shape[:-1]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length and batch, "
                           f"got {shapes}")
    if batched and query.shape[batch_dim] != key.shape[batch_dim]:
        raise RuntimeError(f"{op}: query and key must have the same batch size, got {shapes}")
    return shapes


def _check_mask_shape(op, name, mask, want, shapes):
    if mask is not None and _shape(mask) not in want:
        raise RuntimeError(f"{op}: {name} of shape {_shape(mask)} should be one of "
                           f"{' or '.join(str(w) for w in want)} ({shapes})")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False,
                                 batch_first=False):
    """query: (L, N, E), key: (S, N, Ek), value: (S, N, Ev) (or unbatched (L, E) ...; with
    batch_first=True, a tapegrad extension, (N, L, E) ...) -> (attn_output of query's layout,
    attn_weights (N, L, S) averaged over heads or (N, H, L, S); None unless need_weights).

    key_padding_mask: (N, S) or (S,); attn_mask: (L, S) or (N * H, L, S); bool masks are
    True where attention is not allowed, float masks are added to the scores.
    """
    op = "multi_head_attention_forward"
    batched = query.ndim == 3
    batch_dim = 0 if batch_first else 1
    shapes = _check_mha(op, query, key, value, embed_dim_to_check, num_heads, batched,
                        batch_dim)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint "
                           "(see nn.Transformer.generate_square_subsequent_mask)")
    if not batched:
        query, key, value = (t.unsqueeze(batch_dim) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    n = query.shape[batch_dim]
    length = query.shape[1 - batch_dim]
    dtype = query.data.dtype
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight \
        else None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate,
                             num_heads)                        # (..., H, hd)
    head_dim = q.shape[-1]

    for name, static in (("static_k", static_k), ("static_v", static_v)):
        if static is not None and (static.ndim != 3 or static.shape[0] != n * num_heads or
                                   static.shape[2] != head_dim):
            raise RuntimeError(f"{op}: {name} of shape {_shape(static)} should be "
                               f"(N * num_heads, S, head_dim) = ({n * num_heads}, S, "
                               f"{head_dim})")
    # S: the keys attended to; PyTorch checks attn_mask against key's length and
    # key_padding_mask against static_k's when it is given
    s = key.shape[1 - batch_dim]
    _check_mask_shape(op, "attn_mask", attn_mask, [(length, s), (n * num_heads, length, s)],
                      shapes)
    s = s if static_k is None else static_k.shape[1]
    _check_mask_shape(op, "key_padding_mask", key_padding_mask, [(n, s)], shapes)
    mask = None if attn_mask is None else _float_mask(op, "attn_mask", attn_mask, dtype)
    pad_mask = None if key_padding_mask is None else \
        _float_mask(op, "key_padding_mask", key_padding_mask, dtype)

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise RuntimeError(f"{op}: bias_k / bias_v cannot be added to static_k / static_v")
        # one more key and value for every batch entry: bias_k, bias_v: (1, 1, E)
        one = (n, 1, num_heads, head_dim) if batch_first else (1, n, num_heads, head_dim)
        seq_axis = 1 if batch_first else 0
        k = ag.cat([k, bias_k.reshape(1, 1, num_heads, head_dim).expand(one)], dim=seq_axis)
        v = ag.cat([v, bias_v.reshape(1, 1, num_heads, head_dim).expand(one)], dim=seq_axis)
        mask, pad_mask = _pad_last(mask), _pad_last(pad_mask)
    elif bias_k is not None or bias_v is not None:
        raise RuntimeError(f"{op}: bias_k and bias_v must be given together")

    q = _heads(q, batch_first)                                 # (N, H, L, hd)
    k = _heads(k, batch_first) if static_k is None else \
        static_k.reshape(n, num_heads, -1, head_dim)
    v = _heads(v, batch_first) if static_v is None else \
        static_v.reshape(n, num_heads, -1, head_dim)
    if add_zero_attn:
        zeros = _const(np.zeros((n, num_heads, 1, head_dim), dtype=dtype))
        k, v = ag.cat([k, zeros], dim=2), ag.cat([v, zeros], dim=2)
        mask, pad_mask = _pad_last(mask), _pad_last(pad_mask)

    # the additive mask M: (1 or N, 1 or H, L, S)
    if mask is not None:
        mask = mask.reshape((1, 1) + _shape(mask)) if mask.ndim == 2 else \
            mask.reshape(n, num_heads, length, -1)
    if pad_mask is not None:
        pad_mask = pad_mask.reshape(n, 1, 1, -1)
        mask = pad_mask if mask is None else mask + pad_mask
    dead = None
    if mask is not None:
        dead = np.isneginf(mask.data).all(axis=-1, keepdims=True)
        dead = dead if dead.any() else None
    if not training:
        dropout_p = 0.0
    y, weights = _attend(q, k, v, mask, dead, dropout_p, 1.0 / math.sqrt(head_dim))
    out = linear(_merge_heads(y, batch_first), out_proj_weight, out_proj_bias)
    if not batched:
        out = out.squeeze(batch_dim)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = weights.mean(1)                              # (N, L, S)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights

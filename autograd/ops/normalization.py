"""Fused normalisation primitives: batch norm's training mode, and group norm, which also
covers layer norm and instance norm. nn.functional.normalization keeps the composed versions
(mean, var, rsqrt and broadcasting) as the oracle these are tested against.

x: (N, C, M) with the trailing dims flattened into M; w, b: C values (or None). With n the
number of elements behind one statistic, mu their mean, s2 their biased variance,
rstd = 1 / sqrt(s2 + eps) and x_hat = (x - mu) * rstd:

    y  = x_hat * w + b
    dx = rstd * (g w - sum(g w) / n - x_hat * sum(g w x_hat) / n)
    dw = sum g x_hat,    db = sum g

    batch_norm_train   statistics per channel c, over N and M
    group_norm         statistics per sample and group of C / G channels, over them and M
                       (layer norm: x viewed as (R, K, 1) with G = 1; instance norm: G = C)

Forward computes mu and rstd once (numba kernels, autograd/kernels/normalization.py) and saves
x, w, mu and rstd (b only by its shape, so writing to b in place before backward is fine).
Backward runs the kernel when no graph is being recorded; under create_graph=True it computes
the same formula with Tensor operations from the saved x, so gradients of gradients (of any
order) flow through mu and rstd as well.
"""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from ..kernels import norm_threads
from ..tensor import Tensor

__all__ = ["batch_norm_train", "group_norm", "FUSED_DTYPES"]

FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _array(t):
    return Tensor._make(t, False, None, 0)


def _affine_arrays(weight, bias, channels, dtype):
    """w, b as (C,) arrays of x's dtype (ones and zeros when absent)."""
    w = weight.data.reshape(channels) if weight is not None else np.ones(channels, dtype)
    b = bias.data.reshape(channels) if bias is not None else np.zeros(channels, dtype)
    return w, b


def _group_affine(weight, bias, shape3, groups, dtype):
    """w, b as (G, C/G) arrays: the row kernels apply each channel's value to its M
    positions (a run of a row)."""
    w, b = _affine_arrays(weight, bias, shape3[1], dtype)
    return w.reshape(groups, -1), b.reshape(groups, -1)


def _composed_backward(ctx, g, axes, shape4, wshape4):
    """dx, dw, db as Tensor expressions (recorded under create_graph=True).

    x, g viewed as shape4 (N, G, C/G, M) for group norm or (N, 1, C, M) for batch norm;
    the statistics are over `axes`, the weight broadcasts as wshape4."""
    x, weight = ctx.saved_tensors[:2]
    x4, g4 = x.reshape(shape4), g.reshape(shape4)
    mean = x4.mean(axes, keepdim=True)
    rstd = (x4.var(axes, keepdim=True, correction=0) + ctx.eps).rsqrt()
    x_hat = (x4 - mean) * rstd
    gw = g4 * weight.reshape(wshape4) if weight is not None else g4
    dx = dw = db = None
    if ctx.needs_input_grad[0]:
        proj = (gw * x_hat).mean(axes, keepdim=True)
        dx = (rstd * (gw - gw.mean(axes, keepdim=True) - x_hat * proj)).reshape(x.shape)
    if ctx.needs_input_grad[1]:
        dw = (g4 * x_hat).sum((0, 3)).reshape(weight.shape)
    if ctx.needs_input_grad[2]:
        db = g4.sum((0, 3)).reshape(ctx.bias_shape)
    return dx, dw, db


class BatchNormTrain(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps, stats):
        """x: (N, C, *) -> y: same shape, normalised per channel with the batch statistics.
        weight, bias: (C,) or None; stats: None or a list that receives (mean, var), the
        batch mean and biased variance, (C,) float64 (for the running statistics)."""
        a = x.data
        n, channels = a.shape[0], a.shape[1]
        x2 = np.ascontiguousarray(a).reshape(n, -1)
        w, b = _affine_arrays(weight, bias, channels, a.dtype)
        y = np.empty(a.shape, a.dtype)
        mean = np.empty(channels, a.dtype)
        rstd = np.empty(channels, a.dtype)
        var = np.empty(channels)
        norm_threads.column_norm_forward(x2, w, b, float(eps), y.reshape(x2.shape), mean, rstd,
                                         var, np.empty(x2.shape[1]))
        if stats is not None:
            stats.extend((mean.astype(np.float64), var))
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.eps, ctx.bias_shape = eps, bias.shape if bias is not None else None
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, rstd = ctx.saved_tensors
        channels = x.shape[1]
        if _State.enabled:                            # create_graph: differentiable formula
            shape4 = (x.shape[0], 1, channels, -1)
            return _composed_backward(ctx, g, (0, 3), shape4, (1, 1, channels, 1)) + \
                (None, None)
        x2 = np.ascontiguousarray(x.data).reshape(x.shape[0], -1)
        g2 = np.ascontiguousarray(g.data).reshape(x2.shape)
        w, _ = _affine_arrays(weight, None, channels, x2.dtype)
        dx = np.empty(x.shape, x2.dtype)          # owned arrays: the engine need not copy
        dw, db = np.empty(channels), np.empty(channels)
        norm_threads.column_norm_backward(x2, g2, w, mean.data, rstd.data, dx.reshape(x2.shape),
                                          dw, db, np.empty(x2.shape[1]), np.empty(x2.shape[1]))
        need = ctx.needs_input_grad
        dtype = x2.dtype
        return (_array(dx) if need[0] else None,
                _array(dw.reshape(weight.shape).astype(dtype)) if need[1] else None,
                _array(db.reshape(ctx.bias_shape).astype(dtype)) if need[2] else None,
                None, None)


class GroupNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, shape3, groups, eps, stats):
        """x: any shape, viewed as shape3 = (N, C, M), C divisible by groups -> y: x's shape,
        normalised per sample and group. weight, bias: C values or None; stats: None or a list
        that receives (mean, var), (N, G) float64."""
        a = x.data
        n = shape3[0]
        x2 = np.ascontiguousarray(a).reshape(n * groups, -1)
        w2, b2 = _group_affine(weight, bias, shape3, groups, a.dtype)
        y = np.empty(a.shape, a.dtype)
        mean = np.empty(n * groups, a.dtype)
        rstd = np.empty(n * groups, a.dtype)
        var = np.empty(n * groups)
        norm_threads.row_norm_forward(x2, w2, b2, float(eps), y.reshape(x2.shape), mean, rstd,
                                      var)
        if stats is not None:
            stats.extend((mean.astype(np.float64).reshape(n, groups), var.reshape(n, groups)))
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.shape3, ctx.groups, ctx.eps = shape3, groups, eps
        ctx.bias_shape = bias.shape if bias is not None else None
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, rstd = ctx.saved_tensors
        n, channels, m = ctx.shape3
        groups = ctx.groups
        if _State.enabled:                            # create_graph: differentiable formula
            shape4 = (n, groups, channels // groups, m)
            wshape4 = (1, groups, channels // groups, 1)
            return _composed_backward(ctx, g, (2, 3), shape4, wshape4) + (None, None, None)
        x2 = np.ascontiguousarray(x.data).reshape(n * groups, -1)
        g2 = np.ascontiguousarray(g.data).reshape(x2.shape)
        w2, _ = _group_affine(weight, None, ctx.shape3, groups, x2.dtype)
        dx = np.empty(x.shape, x2.dtype)          # owned arrays: the engine need not copy
        dw2, db2 = np.zeros(w2.shape), np.zeros(w2.shape)
        norm_threads.row_norm_backward(x2, g2, w2, mean.data, rstd.data, dx.reshape(x2.shape),
                                       dw2, db2)
        need = ctx.needs_input_grad
        dtype = x2.dtype
        dw = _array(dw2.reshape(weight.shape).astype(dtype)) if need[1] else None
        db = _array(db2.reshape(ctx.bias_shape).astype(dtype)) if need[2] else None
        return (_array(dx) if need[0] else None, dw, db, None, None, None, None)


def batch_norm_train(x, weight, bias, eps, stats=None):
    """x: (N, C, *) float32/float64 with N * prod(*) > 1; see BatchNormTrain."""
    return BatchNormTrain.apply(x, weight, bias, eps, stats)


def group_norm(x, weight, bias, shape3, groups, eps, stats=None):
    """x viewed as shape3 = (N, C, M); see GroupNorm."""
    return GroupNorm.apply(x, weight, bias, shape3, groups, eps, stats)

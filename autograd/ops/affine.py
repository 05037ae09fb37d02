"""The affine map of a Linear layer as one primitive (nn.functional.linear's fast path).

    linear(x, W, b)    x: (*, in), W: (out, in), b: (out,) or None -> (*, out)
                       y = x W^T + b
                       dx = g W        dW = g^T x        db = sum over rows of g

The batch dims of x are folded into the rows of one GEMM, forward and backward. Composed
from matmul and add this is three recorded ops and an engine-side bias reduction; fused it
is one (the MLP training-step benchmark measures the difference). The composed form stays
in nn.functional.linear as its test oracle. Recorded (create_graph=True), the backward is
made of matmul and sum, so gradients of any order work; otherwise it runs the same formulas
on arrays.
"""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from ..tensor import Tensor
from .linalg import MatMul, _mT

__all__ = ["Affine", "affine"]


class Affine(Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        rows = x.data.reshape(-1, x.data.shape[-1])              # (R, in), R = prod(*)
        y = rows @ w.data.T                                      # (R, out)
        if b is not None:
            y += b.data
        return y.reshape(x.data.shape[:-1] + (w.data.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        if not _State.enabled:                  # off the tape: three numpy calls
            return _backward_arrays(ctx, x.data, w.data, g.data)
        x_rows = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])    # (R, in)
        g_rows = g if g.ndim == 2 else g.reshape(-1, w.shape[0])     # (R, out)
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = MatMul.apply(g_rows, w)                             # dx = g W
            if x.ndim != 2:
                dx = dx.reshape(x.shape)
        if ctx.needs_input_grad[1]:
            dw = MatMul.apply(_mT(g_rows), x_rows)                   # dW = g^T x
        if ctx.has_bias and ctx.needs_input_grad[2]:
            db = g_rows.sum(0)                                       # db = sum_rows g
        return dx, dw, db


def _backward_arrays(ctx, x, w, g):
    """The rules above on arrays (no create_graph): the Tensor form costs four recorded-op
    applies per layer, which dominate a small network's backward."""
    g_rows = g if g.ndim == 2 else g.reshape(-1, w.shape[0])         # (R, out)
    dx = dw = db = None
    if ctx.needs_input_grad[0]:
        dx = g_rows @ w                                              # dx = g W
        dx = _const(dx if x.ndim == 2 else dx.reshape(x.shape))
    if ctx.needs_input_grad[1]:
        x_rows = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])    # (R, in)
        dw = _const(g_rows.T @ x_rows)                               # dW = g^T x
    if ctx.has_bias and ctx.needs_input_grad[2]:
        db = _const(np.add.reduce(g_rows, axis=0))                   # db = sum_rows g
    return dx, dw, db


def _const(a):
    return Tensor._make(a, False, None, 0)


def affine(x, w, b=None):
    """x: (*, in) with ndim >= 1, w: (out, in), b: (out,) or None; dtypes equal (checked by
    the caller, nn.functional.linear) -> (*, out)."""
    return Affine.apply(x, w, b)

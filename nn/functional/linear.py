"""Linear maps, composed from matmul (one GEMM whatever the batch dims).

    linear(x, W, b)         x: (*, in), W: (out, in), b: (out,)  ->  (*, out)
                            y = x W^T + b           dx = g W     dW = g^T x     db = sum g
    bilinear(x1, x2, W, b)  x1: (*, in1), x2: (*, in2), W: (out, in1, in2), b: (out,)
                            y_k = x1^T W_k x2 + b_k  ->  (*, out)

With a 2-d weight, linear is one fused primitive (autograd/ops/affine.py; the batch dims of
x are folded into the rows of one GEMM); `_linear_composed`, from matmul and add, is its test
oracle.
"""
import numpy as np

import autograd as ag
from autograd.ops.affine import affine

__all__ = ["linear", "bilinear"]


def _check_tensor(op, name, t):
    if not isinstance(t, ag.Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")


def _check_dtypes(op, *tensors):
    dts = {t.dtype for t in tensors if t is not None}
    if len(dts) > 1:
        shown = ", ".join(f"{t.dtype} {tuple(t.shape)}" for t in tensors if t is not None)
        raise RuntimeError(f"{op}: expected all operands to have the same dtype, got {shown}")


def _check_bias(op, bias, out_features, weight):
    if bias is None:
        return
    _check_tensor(op, "bias", bias)
    if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] not in (1, out_features)):
        raise RuntimeError(f"{op}: bias of shape {tuple(bias.shape)} does not match "
                           f"out_features={out_features} (weight of shape "
                           f"{tuple(weight.shape)})")


def _rows(x, features):
    """x: (*, features) as a (rows, features) matrix; contiguous inputs give a view."""
    return x.reshape(int(np.prod(x.shape[:-1], dtype=np.int64)), features)


def linear(input, weight, bias=None):
    """input: (*, in), weight: (out, in) or (in,), bias: (out,) or () -> (*, out) or (*)."""
    if _plain_affine(input, weight, bias):
        return affine(input, weight, bias)                  # one fused primitive
    _check_tensor("linear", "input", input)
    _check_tensor("linear", "weight", weight)
    if input.ndim == 0 or weight.ndim not in (1, 2) or \
            input.shape[-1] != weight.shape[-1]:
        in_f = input.shape[-1] if input.ndim else "none (0-d input)"
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} has in_features="
                           f"{in_f}, but weight of shape {tuple(weight.shape)} expects "
                           f"(out_features, in_features) with in_features="
                           f"{weight.shape[-1] if weight.ndim else '?'}")
    out_features = weight.shape[0] if weight.ndim == 2 else 1
    _check_bias("linear", bias, out_features, weight)
    _check_dtypes("linear", input, weight, bias)
    if weight.ndim == 2:
        return affine(input, weight, bias)                  # one fused primitive
    return _linear_composed(input, weight, bias)


def _plain_affine(input, weight, bias):
    """The common case, checked quickly: Tensors of one dtype, x: (*, in), W: (out, in),
    b: (out,) or None. Anything else takes linear's full checks (and their errors)."""
    if not (isinstance(input, ag.Tensor) and isinstance(weight, ag.Tensor)):
        return False
    x, w = input.data, weight.data
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1] or x.dtype != w.dtype:
        return False
    if bias is None:
        return True
    return isinstance(bias, ag.Tensor) and bias.data.shape == w.shape[:1] and \
        bias.data.dtype == w.dtype


def _linear_composed(input, weight, bias=None):
    """linear from matmul and add: the fused primitive's test oracle (and the 1-d weight
    case)."""
    wt = weight.t() if weight.ndim == 2 else weight       # (in, out): a transposed view
    if input.ndim > 2 and not input.data.flags.c_contiguous:
        # y = X W^T with the batch folded into the rows of X (a copy for a strided x)
        y = _rows(input, input.shape[-1]).matmul(wt)
        y = y.reshape(input.shape[:-1] + y.shape[1:])
    else:
        y = input.matmul(wt)        # matmul folds the batch of a contiguous x itself
    if bias is not None:
        y = y + bias
    return y


def bilinear(input1, input2, weight, bias=None):
    """input1: (*, in1), input2: (*, in2), weight: (out, in1, in2), bias: (out,)
    -> (*, out) with y_k = sum_ij x1_i W_kij x2_j + b_k."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        _check_tensor("bilinear", name, t)
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear: weight must be 3-D (out, in1, in2), got shape "
                           f"{tuple(weight.shape)}")
    out_f, in1, in2 = weight.shape
    if input1.ndim == 0 or input2.ndim == 0 or input1.shape[:-1] != input2.shape[:-1] or \
            input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear: input1 of shape {tuple(input1.shape)} and input2 of "
                           f"shape {tuple(input2.shape)} must share their batch dims and have "
                           f"in1_features={in1}, in2_features={in2} (weight of shape "
                           f"{tuple(weight.shape)})")
    _check_bias("bilinear", bias, out_f, weight)
    _check_dtypes("bilinear", input1, input2, weight, bias)
    lead = input1.shape[:-1]
    x1 = _rows(input1, in1)                                  # (N, in1)
    x2 = _rows(input2, in2)                                  # (N, in2)
    rows = x1.shape[0]
    # one GEMM: T = X1 . W' with W' = W as (in1, out * in2), T_n,kj = sum_i x1_ni W_kij
    w_mat = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    t = x1.matmul(w_mat).reshape(rows, out_f, in2)
    y = (t * x2.reshape(rows, 1, in2)).sum(-1)               # y_nk = sum_j T_nkj x2_nj
    y = y.reshape(lead + (out_f,))
    if bias is not None:
        y = y + bias
    return y

"""Convolutions with PyTorch's names, signatures and semantics (primitives in
autograd/ops/conv.py: im2col + GEMM, or a direct numba loop over a flat padded layout for
stride 1 where it wins; the input gradient is a convolution with the flipped kernel).

    conv{1,2,3}d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1)
        x: (N, C, *S) or (C, *S), w: (O, C/groups, *k), bias: (O,) -> (N, O, *O_sp) with
        O_sp = floor((S + 2p - d(k - 1) - 1) / stride) + 1.  padding: int, tuple, 'valid'
        (0) or 'same' (stride 1; total padding d(k - 1), the odd extra on the high side).
        Depthwise: groups = C (w: (C*m, 1, *k)); depthwise-separable: that, then a 1x1 conv.
    conv_transpose{1,2,3}d(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                           dilation=1)
        x: (N, C, *S) or (C, *S), w: (C, O/groups, *k), bias: (O,) -> (N, O, *O_sp) with
        O_sp = (S - 1)stride - 2p + d(k - 1) + output_padding + 1: the adjoint of the conv
        with weight w mapping (N, O, *O_sp) to (N, C, *S).
"""
import numpy as np

import autograd as ag
from autograd.ops.conv import conv_nd, conv_transpose_nd, geometry

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]


def _ntuple(op, name, value, n):
    """An int or a sequence of 1 or n ints as a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        items = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got "
                        f"{value!r}") from None
    if len(items) == 1:
        return items * n
    if len(items) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single int or a tuple of {n} ints, "
                           f"got {value!r}")
    return items


def _check_operands(op, nsp, x, w, b, transposed):
    """Types, ranks, dtypes; returns x batched (N, C, *S) and whether it was unbatched."""
    for name, t in (("input", x), ("weight", w)) + ((("bias", b),) if b is not None else ()):
        if not isinstance(t, ag.Tensor):
            raise TypeError(f"{op}: expected {name} to be a Tensor, got {type(t).__name__}")
    xs, ws = tuple(x.shape), tuple(w.shape)
    if x.ndim not in (nsp + 1, nsp + 2):
        raise RuntimeError(f"{op}: expected a {nsp + 1}-d (unbatched) or {nsp + 2}-d "
                           f"(batched) input, got input of shape {xs}")
    if w.ndim != nsp + 2:
        kind = "(C_in, C_out/groups, *k)" if transposed else "(C_out, C_in/groups, *k)"
        raise RuntimeError(f"{op}: expected a {nsp + 2}-d weight {kind}, got weight of shape "
                           f"{ws} for input of shape {xs}")
    if x.dtype.kind != "f" or w.dtype != x.dtype or (b is not None and b.dtype != x.dtype):
        bd = "" if b is None else f", bias {b.dtype}"
        raise RuntimeError(f"{op}: input, weight and bias must have the same floating point "
                           f"dtype, got input {x.dtype}, weight {w.dtype}{bd}")
    if b is not None and b.ndim != 1:
        raise RuntimeError(f"{op}: expected a 1-d bias, got bias of shape {tuple(b.shape)}")
    unbatched = x.ndim == nsp + 1
    return (x.unsqueeze(0) if unbatched else x), unbatched


def _check_hyper(op, groups, stride, dilation):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise RuntimeError(f"{op}: groups must be a positive int, got {groups!r}")
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: stride must be positive, got stride={stride}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation must be positive, got dilation={dilation}")


def _padding(op, padding, nsp, kernel, stride, dilation):
    """(low, high) padding per dim; 'same' puts the odd extra of d(k - 1) on the high side."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nsp, (0,) * nsp
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   f"convolutions (stride={stride})")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            low = tuple(t // 2 for t in total)
            return low, tuple(t - lo for t, lo in zip(total, low))
        raise RuntimeError(f"{op}: invalid padding string {padding!r}, expected 'same' or "
                           "'valid'")
    pad = _ntuple(op, "padding", padding, nsp)
    if min(pad) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={pad}")
    return pad, pad


def _conv(op, nsp, input, weight, bias, stride, padding, dilation, groups):
    x, unbatched = _check_operands(op, nsp, input, weight, bias, False)
    xs, ws = tuple(input.shape), tuple(weight.shape)
    stride = _ntuple(op, "stride", stride, nsp)
    dilation = _ntuple(op, "dilation", dilation, nsp)
    _check_hyper(op, groups, stride, dilation)
    kernel = ws[2:]
    low, high = _padding(op, padding, nsp, kernel, stride, dilation)
    c_in, c_out = x.shape[1], ws[0]
    if c_in % groups or c_out % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide both the input channels "
                           f"({c_in}, input of shape {xs}) and the output channels ({c_out}, "
                           f"weight of shape {ws})")
    if ws[1] * groups != c_in:
        raise RuntimeError(f"{op}: input of shape {xs} has {c_in} channels, but weight of "
                           f"shape {ws} with groups={groups} expects {ws[1] * groups} "
                           f"(weight.shape[1] * groups)")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"{op}: expected bias of shape ({c_out},) for weight of shape "
                           f"{ws}, got {tuple(bias.shape)}")
    if min(kernel) < 1:
        raise RuntimeError(f"{op}: weight of shape {ws} has an empty kernel")
    sizes = tuple(x.shape[2:])
    padded = tuple(s + lo + hi for s, lo, hi in zip(sizes, low, high))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < k for p, k in zip(padded, span)):
        raise RuntimeError(f"{op}: kernel size (dilated: {span}) is larger than the padded "
                           f"input size {padded} (input of shape {xs}, weight of shape {ws}, "
                           f"padding={padding}, dilation={dilation})")
    out = tuple((p - k) // s + 1 for p, k, s in zip(padded, span, stride))
    geom = geometry(sizes, out, tuple(kernel), stride, tuple(low), dilation, groups)
    y = conv_nd(x, weight, bias, geom)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """input: (N, C, L) or (C, L), weight: (O, C/groups, k), bias: (O,) -> (N, O, L_out)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """input: (N, C, H, W) or (C, H, W), weight: (O, C/groups, kh, kw), bias: (O,)
    -> (N, O, H_out, W_out)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """input: (N, C, D, H, W) or (C, D, H, W), weight: (O, C/groups, kd, kh, kw),
    bias: (O,) -> (N, O, D_out, H_out, W_out)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op, nsp, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    x, unbatched = _check_operands(op, nsp, input, weight, bias, True)
    xs, ws = tuple(input.shape), tuple(weight.shape)
    stride = _ntuple(op, "stride", stride, nsp)
    dilation = _ntuple(op, "dilation", dilation, nsp)
    _check_hyper(op, groups, stride, dilation)
    if isinstance(padding, str):
        raise RuntimeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    pad = _ntuple(op, "padding", padding, nsp)
    extra = _ntuple(op, "output_padding", output_padding, nsp)
    if min(pad) < 0 or min(extra) < 0:
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={pad}, "
                           f"output_padding={extra}")
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(f"{op}: output_padding={extra} must be smaller than either stride="
                           f"{stride} or dilation={dilation}")
    c_in, kernel = x.shape[1], ws[2:]
    if c_in % groups:
        raise RuntimeError(f"{op}: groups={groups} must divide the input channels ({c_in}, "
                           f"input of shape {xs})")
    if ws[0] != c_in:
        raise RuntimeError(f"{op}: input of shape {xs} has {c_in} channels, but weight of "
                           f"shape {ws} expects {ws[0]} (weight.shape[0])")
    c_out = ws[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"{op}: expected bias of shape ({c_out},) for weight of shape "
                           f"{ws} and groups={groups}, got {tuple(bias.shape)}")
    if min(kernel) < 1:
        raise RuntimeError(f"{op}: weight of shape {ws} has an empty kernel")
    sizes = tuple(x.shape[2:])
    out = tuple((s - 1) * st - 2 * p + d * (k - 1) + e + 1
                for s, st, p, d, k, e in zip(sizes, stride, pad, dilation, kernel, extra))
    if min(out) < 1:
        raise RuntimeError(f"{op}: input of shape {xs} with weight of shape {ws}, stride="
                           f"{stride}, padding={pad}, dilation={dilation} gives output size "
                           f"{out}: too small (padding larger than the output)")
    # the conv this op is the adjoint of maps (N, c_out, *out) to (N, c_in, *sizes)
    geom = geometry(out, sizes, tuple(kernel), stride, tuple(pad), dilation, groups)
    y = conv_transpose_nd(x, weight, bias, geom)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """input: (N, C, L) or (C, L), weight: (C, O/groups, k), bias: (O,) -> (N, O, L_out)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """input: (N, C, H, W) or (C, H, W), weight: (C, O/groups, kh, kw), bias: (O,)
    -> (N, O, H_out, W_out)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """input: (N, C, D, H, W) or (C, D, H, W), weight: (C, O/groups, kd, kh, kw),
    bias: (O,) -> (N, O, D_out, H_out, W_out)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)

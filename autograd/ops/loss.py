"""Fused, numerically stable losses; nn.functional.loss wraps them with PyTorch's signatures.

Not an ops family (no Tensor methods). The class-index losses take x: (N, C, d1, ...) with the
classes on axis 1 and integer targets t: (N, d1, ...). With class weights w: (C,) (a constant;
1 when absent), valid_i = [t_i != ignore_index], w_t = w[t_i] valid_i, eps = label_smoothing
and r_i the upstream gradient reaching sample i (g_i for 'none', g for 'sum', g / sum w_t for
'mean'):

    nll_loss_nd(lp, t)        l_i = -w_t lp[i, t_i]               dlp_i = -r_i w_t onehot(t_i)
    cross_entropy_nd(x, t)    lp = x - logsumexp_C(x)   (one pass: shift by the max, exp, sum)
                              q_ic = (1 - eps) w_t onehot_c(t_i) + (eps / C) w_c valid_i
                              l_i = -sum_c q_ic lp_ic
                              dx_i = r_i (softmax(x_i) sum_c q_ic - q_i)
    reductions                'none': l   'sum': sum_i l_i   'mean': sum_i l_i / sum_i w_t
                              (all targets ignored: 0 / 0 = nan, as in PyTorch)

    binary_cross_entropy_unreduced(p, y)
                              l = -(y max(log p, -100) + (1 - y) max(log1p(-p), -100))
                              dp = g (p - y) / max(p (1 - p), 1e-12)      dy = -g logit(p)
    log_sigmoid(x)            y = min(x, 0) - log1p(exp(-|x|))            dx = g sigmoid(-x)

Every backward is a Tensor expression, so create_graph=True differentiates it again: the
cross-entropy backward uses the softmax its forward computed, and recomputes softmax(x) on the
tape when the backward itself is being recorded. The composed cross entropy (log_softmax +
nll_loss) is kept in nn.functional.loss as this primitive's test oracle.
"""
import numpy as np

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..kernels.loss import cross_entropy_rows_backward, cross_entropy_rows_forward
from ..tensor import Tensor
from .softmax import _shift, softmax
from .unary import sigmoid

__all__ = ["cross_entropy_nd", "nll_loss_nd", "binary_cross_entropy_unreduced", "log_sigmoid",
           "class_targets", "REDUCTIONS"]

REDUCTIONS = ("none", "mean", "sum")
# cross_entropy_nd on x: (N, C) runs the one-pass row kernels up to this many elements (their
# exponentials are scalar; forward + backward measured: 128x10 20 against 52 us for the numpy
# pass of CrossEntropy, 128x64 51 against 57 us, 256x64 89 against 70 us)
ROWS_KERNEL_MAX = 8192
_BCE_EPS = float(np.float32(1e-12))      # PyTorch's EPSILON is a float: 9.99999996e-13


def _const(arr):
    return Tensor._make(arr, False, None, 0)


class _Targets:
    """Class-index targets of x: (N, C, d1, ...), each array shaped (N, 1, d1, ...) so that
    it broadcasts against x: t (safe indices, 0 where ignored), valid, w_t (target weights
    in x's dtype, 0 where ignored); w_b: the weights shaped (1, C, 1, ...) or None."""

    __slots__ = ("t", "valid", "valid_f", "w_t", "w_b", "w_sum", "num_classes")


def _target_array(op, x, target):
    """target: (N, d1, ...) integer class indices for x: (N, C, d1, ...), as an array."""
    shape = tuple(x.shape)
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected target dtype to be an integer type (int64), got "
                           f"{t.dtype} (input shape {shape}, target shape {tuple(t.shape)})")
    if tuple(t.shape) != shape[:1] + shape[2:]:
        raise ValueError(f"{op}: expected target of shape {shape[:1] + shape[2:]} for input of "
                         f"shape {shape}, got target shape {tuple(t.shape)}")
    return t


def _class_weights(op, x, weight):
    """weight: (C,) as an array in x's dtype, for x: (N, C, d1, ...)."""
    w = np.asarray(weight, x.dtype)
    if w.shape != (x.shape[1],):
        raise RuntimeError(f"{op}: weight should be a 1-D tensor of {x.shape[1]} elements "
                           f"(one per class) for input of shape {tuple(x.shape)}, got weight "
                           f"of shape {tuple(w.shape)}")
    return w


def _out_of_bounds(op, value, x, t):
    return IndexError(f"{op}: target {int(value)} is out of bounds for {x.shape[1]} classes "
                      f"(input shape {tuple(x.shape)}, target shape {tuple(t.shape)})")


def class_targets(op, x, target, weight, ignore_index):
    """Validate integer targets for x: (N, C, d1, ...) and weight: (C,) array or None.

    target: (N, d1, ...) ints in [0, C) or equal to ignore_index."""
    shape = tuple(x.shape)
    t = _target_array(op, x, target)
    num_classes = shape[1]
    t_full = t
    t = t[:, None]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= num_classes))
    if bad.any():
        raise _out_of_bounds(op, t[bad][0], x, t_full)
    out = _Targets()
    out.t = np.where(valid, t, 0).astype(np.intp)
    out.valid = valid
    out.num_classes = num_classes
    dtype = x.dtype
    out.valid_f = valid.astype(dtype)
    if weight is None:
        out.w_t = out.valid_f
        out.w_b = None
        out.w_sum = float(num_classes)
    else:
        w = _class_weights(op, x, weight)
        out.w_t = np.where(valid, w[out.t], 0).astype(dtype)
        out.w_b = w.reshape((1, num_classes) + (1,) * (len(shape) - 2))
        out.w_sum = w.sum()
    return out


def _reduce(ctx, loss, tg, reduction):
    """loss: (N, 1, d1, ...) -> the reduced loss. Saves tg and the per-sample factor of the
    gradient, scale ((N, 1, ...) array: 1/sum w_t where valid and 0 elsewhere, for 'mean';
    else 1), for backward (`_saved_targets`)."""
    ctx.reduction = reduction
    scale = None
    if reduction == "none":
        out = loss[:, 0]
    elif reduction == "sum":
        out = np.asarray(loss.sum(dtype=loss.dtype))
    else:
        total = loss.sum(dtype=loss.dtype)
        denom = tg.w_t.sum(dtype=tg.w_t.dtype)
        scale = _mean_scale(tg, denom)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(total / denom)
    # the per-sample arrays as saved arrays, freed by backward; the per-class ones stay
    ctx.tg_classes = (tg.w_b, tg.w_sum, tg.num_classes)
    ctx.save_arrays(tg.t, tg.valid, tg.valid_f, tg.w_t, *(() if scale is None else (scale,)))
    return out


def _saved_targets(ctx):
    """-> (tg, scale) as `_reduce` saved them (scale 1.0 unless the reduction is 'mean')."""
    tg = _Targets()
    tg.t, tg.valid, tg.valid_f, tg.w_t, *scale = ctx.saved_arrays
    tg.w_b, tg.w_sum, tg.num_classes = ctx.tg_classes
    return tg, (scale[0] if scale else 1.0)


def _mean_scale(tg, denom):
    """The mean's per-sample gradient factor: 1 / sum w_t where valid, 0 elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tg.valid, 1 / denom, 0).astype(tg.w_t.dtype)


def _upstream(ctx, g):
    """g as a Tensor that broadcasts against (N, C, d1, ...)."""
    return g.unsqueeze(1) if ctx.reduction == "none" else g


def _upstream_array(ctx, g):
    """g's array shaped to broadcast against (N, 1, d1, ...)."""
    return g.data[:, None] if ctx.reduction == "none" else g.data


def _class_sum(a, w):
    """sum_c w_c a[:, c, ...] keeping axis 1, for a: (N, C, d1, ...) and w: (C,) array (or
    None for ones). einsum's SIMD loop is 3x faster than a.sum(1) and, unlike a BLAS
    product, starts no threads (which contend with other work on a busy machine)."""
    if w is None:
        out = np.einsum("nc...->n...", a)
    else:
        out = np.einsum("nc...,c->n...", a, w.reshape(-1).astype(a.dtype, copy=False))
    return np.expand_dims(out, 1)


class NLLLoss(Function):
    @staticmethod
    def forward(ctx, lp, tg, reduction):
        """lp: (N, C, d1, ...) log-probabilities -> (N, d1, ...) or a 0-d loss."""
        picked = np.take_along_axis(lp.data, tg.t, axis=1)
        loss = np.where(tg.valid, -(tg.w_t * picked), 0).astype(lp.dtype)
        ctx.shape = lp.shape
        return _reduce(ctx, loss, tg, reduction)

    @staticmethod
    def backward(ctx, g):
        # dlp = -r w_t onehot(t): linear in g, with a constant coefficient array
        tg, scale = _saved_targets(ctx)
        coef = np.zeros(ctx.shape, g.dtype)
        if is_grad_enabled():                      # recorded (create_graph): g on the tape
            np.put_along_axis(coef, tg.t, -(tg.w_t * scale), axis=1)
            return _upstream(ctx, g) * _const(coef), None, None
        r = _upstream_array(ctx, g)
        np.put_along_axis(coef, tg.t, -(r * tg.w_t * scale), axis=1)
        return _const(coef), None, None


def _target_parts(tg, eps, scale, r, dtype):
    """q_i = a_i onehot(t_i) + b_i w, the gradient's target side (dx = p sum_c q_c - q):
    (a, b or None without smoothing, sum_c q_ic), each (N, 1, ...) with the reduction's
    per-sample scale and the upstream gradient r folded in."""
    a = (r * ((1 - eps) * tg.w_t * scale)).astype(dtype, copy=False)
    b = (r * (eps / tg.num_classes) * tg.valid_f * scale).astype(dtype) if eps else None
    return a, b, (a if b is None else a + b * tg.w_sum)


def _recorded_dx(upstream, x, tg, eps, scale, dtype):
    """create_graph: dx = g (softmax(x) sum_c q_c - q) with softmax(x) on the tape and q a
    dense constant, so the gradient differentiates again."""
    a, b, q_sum = _target_parts(tg, eps, scale, 1.0, dtype)
    q = np.zeros(x.shape, dtype)
    if b is not None:
        q += b if tg.w_b is None else b * tg.w_b
    np.put_along_axis(q, tg.t, np.take_along_axis(q, tg.t, axis=1) + a, axis=1)
    return upstream * (softmax(x, 1) * _const(q_sum) - _const(q))


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, x, tg, eps, reduction):
        """x: (N, C, d1, ...) logits -> (N, d1, ...) or a 0-d loss."""
        p = np.subtract(x.data, _shift(x.data, 1))       # s = x - max <= 0: exp cannot overflow
        s_t = np.take_along_axis(p, tg.t, axis=1)        # s at the targets
        ws = _class_sum(p, tg.w_b) if eps else None      # sum_c w_c s_c
        np.exp(p, out=p)
        z = _class_sum(p, None)                          # sum_c exp(s_c)
        p /= z                                           # softmax, kept for the backward
        log_z = np.log(z)
        # lp = s - log z;  l = -(1 - eps) w_t lp_t - (eps / C) valid sum_c w_c lp_c
        loss = -(1 - eps) * tg.w_t * (s_t - log_z)
        if eps:
            loss -= (eps / tg.num_classes) * tg.valid_f * (ws - tg.w_sum * log_z)
        loss = np.where(tg.valid, loss, 0).astype(x.dtype, copy=False)
        ctx.eps = eps
        ctx.save_for_backward(x, p)
        return _reduce(ctx, loss, tg, reduction)

    @staticmethod
    def backward(ctx, g):
        x, p = ctx.saved_tensors
        (tg, scale), eps = _saved_targets(ctx), ctx.eps
        dtype = g.dtype
        if is_grad_enabled():
            dx = _recorded_dx(_upstream(ctx, g), x, tg, eps, scale, dtype)
            return dx, None, None, None
        a, b, q_sum = _target_parts(tg, eps, scale, _upstream_array(ctx, g), dtype)
        dx = np.multiply(p.data, q_sum, dtype=dtype)
        if b is not None:
            dx -= b if tg.w_b is None else b * tg.w_b
        np.put_along_axis(dx, tg.t, np.take_along_axis(dx, tg.t, axis=1) - a, axis=1)
        return _const(dx), None, None, None


class CrossEntropyRows(Function):
    """CrossEntropy for a small x: (N, C) with targets t: (N,), one numba pass each way
    (kernels/loss.py has the formulas): a tiny batch otherwise pays for some twenty numpy
    calls. w: (C,) class weights (ones when unweighted), w_sum their sum."""

    @staticmethod
    def forward(ctx, x, t, w, w_sum, ignore_index, eps, reduction):
        n = x.shape[0]
        p = np.empty_like(x.data)
        loss, w_t = np.empty(n, x.dtype), np.empty(n, x.dtype)
        bad = cross_entropy_rows_forward(x.data, t, w, ignore_index, eps, p, loss, w_t)
        if bad >= 0:
            raise _out_of_bounds("cross_entropy", t[bad], x, t)
        ctx.save_arrays(p, t, w)
        ctx.w_sum = w_sum
        ctx.ignore_index, ctx.eps, ctx.reduction = ignore_index, eps, reduction
        ctx.save_for_backward(x)
        ctx.denom = 1.0
        if reduction == "none":
            return loss
        total = np.add.reduce(loss)
        if reduction == "sum":
            return np.asarray(total)
        ctx.denom = denom = np.add.reduce(w_t)
        if denom != 0:
            return np.asarray(total / denom)
        with np.errstate(divide="ignore", invalid="ignore"):    # all ignored: 0 / 0 = nan
            return np.asarray(total / denom)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        p, t, w = ctx.saved_arrays
        eps, ignore_index = ctx.eps, ctx.ignore_index
        if is_grad_enabled():                  # create_graph: CrossEntropy's recorded form
            tg = class_targets("cross_entropy", x, t, w, ignore_index)
            scale = _mean_scale(tg, ctx.denom) if ctx.reduction == "mean" else 1.0
            upstream = g.unsqueeze(1) if ctx.reduction == "none" else g
            dx = _recorded_dx(upstream, x, tg, eps, scale, x.dtype)
            return dx, None, None, None, None, None, None
        if ctx.reduction == "none":
            r = np.ascontiguousarray(g.data, dtype=p.dtype)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.full(p.shape[0], g.data / ctx.denom, p.dtype)
        dx = np.empty_like(p)
        cross_entropy_rows_backward(p, t, w, ctx.w_sum, ignore_index, eps, r, dx)
        return _const(dx), None, None, None, None, None, None


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx, p, y):
        """p, y: (...) probabilities and targets in [0, 1] -> the elementwise loss."""
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p.data), -100)     # PyTorch clamps the logs at -100
            log_q = np.maximum(np.log1p(-p.data), -100)
        ctx.save_for_backward(p, y)
        return ((y.data - 1) * log_q - y.data * log_p).astype(p.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        p, y = ctx.saved_tensors
        dp = dy = None
        if ctx.needs_input_grad[0]:
            dp = g * (p - y) / (p * (1 - p)).clamp(min=_BCE_EPS)    # dp = g (p - y) / (p (1-p))
        if ctx.needs_input_grad[1]:
            dy = -g * (p / (1 - p)).log()                         # dy = -g logit(p)
        return dp, dy


class LogSigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        """x: (...) -> log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)), finite for any x."""
        ctx.save_for_backward(x)
        return (np.minimum(x.data, 0) - np.log1p(np.exp(-np.abs(x.data)))).astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * sigmoid(-x)                                    # d log sigmoid = sigmoid(-x)


def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected "
                         "'none', 'mean' or 'sum'")


def nll_loss_nd(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """input: (N, C, d1, ...) log-probabilities, target: (N, d1, ...) class indices,
    weight: (C,) array or None (a constant) -> (N, d1, ...) or 0-d."""
    _check_reduction("nll_loss", reduction)
    tg = class_targets("nll_loss", input, target, weight, ignore_index)
    return NLLLoss.apply(input, tg, reduction)


def cross_entropy_nd(input, target, weight=None, ignore_index=-100, reduction="mean",
                     label_smoothing=0.0):
    """input: (N, C, d1, ...) logits, target: (N, d1, ...) class indices, weight: (C,) array
    or None (a constant) -> (N, d1, ...) or 0-d. log_softmax and NLL in one pass."""
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if input.ndim == 2 and 0 < input.data.size <= ROWS_KERNEL_MAX:
        t = _target_array("cross_entropy", input, target)
        if weight is None:
            w, w_sum = np.ones(input.shape[1], input.dtype), float(input.shape[1])
        else:
            w = _class_weights("cross_entropy", input, weight)
            w_sum = float(np.add.reduce(w, dtype=np.float64))
        return CrossEntropyRows.apply(input, np.ascontiguousarray(t, np.int64), w, w_sum,
                                      int(ignore_index), float(label_smoothing), reduction)
    tg = class_targets("cross_entropy", input, target, weight, ignore_index)
    return CrossEntropy.apply(input, tg, float(label_smoothing), reduction)


def binary_cross_entropy_unreduced(input, target):
    """input, target: (...) of the same shape and dtype -> the elementwise loss."""
    return BinaryCrossEntropy.apply(input, target)


def log_sigmoid(input):
    """x: (...) -> log(sigmoid(x)), computed without overflow."""
    return LogSigmoid.apply(input)

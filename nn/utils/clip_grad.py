"""Gradient clipping, the course's two forms (PyTorch's `torch.nn.utils.clip_grad`):

    clip_grad_norm_   whole-vector norm:  g <- g * min(1, max_norm / (||g||_p + 1e-6)),
                      ||g||_p the p-norm of all gradients concatenated into one vector
    clip_grad_value_  element-wise:       g <- clamp(g, -clip_value, clip_value)

Both modify `p.grad` in place (bumping its version counter) and skip parameters whose grad
is None.
"""
import math
import types
import warnings

import numpy as np

from autograd import dtypes
from autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(a, p):
    """The p-norm of array a seen as one vector, in a's dtype (p may be inf, -inf, 0)."""
    a = a.reshape(-1)
    if p == 2.0:
        return np.sqrt(np.dot(a, a)) if a.dtype.kind == "f" else np.sqrt(np.sum(a * a))
    if p == math.inf:
        return np.max(np.abs(a)) if a.size else a.dtype.type(0)
    if p == -math.inf:
        return np.min(np.abs(a)) if a.size else a.dtype.type(math.inf)
    if p == 1.0:
        return np.sum(np.abs(a))
    if p == 0.0:
        return a.dtype.type(np.count_nonzero(a))
    return np.sum(np.abs(a) ** p) ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of the norms of `tensors` (= the norm of their concatenation), a 0-d Tensor.

    tensors: a Tensor or an iterable of Tensors (usually gradients). norm_type: p, which may
    be `inf`. Raises when the norm is NaN or Inf and error_if_nonfinite is True.
    """
    arrays = [t.data for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if len(arrays) == 0:
        return Tensor._make(np.array(0.0, dtypes.get_default_dtype()), False, None, 0)
    norms = np.stack([np.asarray(_vector_norm(a, norm_type)) for a in arrays])
    total = np.asarray(_vector_norm(norms, norm_type), dtype=norms.dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._make(total, False, None, 0)


def _writable_grad(p):
    """p.grad's array, replaced by a writable copy if it is a read-only (broadcast) view."""
    g = p.grad
    if not g.data.flags.writeable:
        g.data = g.data.copy()
    return g


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)), in place."""
    params = [p for p in _as_list(parameters) if p.grad is not None]
    if not params:
        return
    total = np.asarray(total_norm.data if isinstance(total_norm, Tensor) else total_norm)
    dt = total.dtype if total.dtype.kind == "f" else np.dtype(np.float64)
    # clip_coef = max_norm / (||g|| + 1e-6), clamped to at most 1 (computed in the norm's dtype)
    coef = dt.type(float(max_norm)) / (total.astype(dt) + dt.type(1e-6))
    coef = np.minimum(coef, dt.type(1.0))
    with np.errstate(invalid="ignore", over="ignore"):    # a non-finite norm gives NaN/0
        for p in params:
            g = _writable_grad(p)
            np.multiply(g.data, coef, out=g.data, casting="unsafe")
            g._vc[0] += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Clip the gradients of `parameters` so that their joint p-norm is at most max_norm.

    parameters: a Tensor or an iterable of Tensors; max_norm: float; norm_type: p (float or
    inf). Returns the total norm of the gradients before clipping, as a 0-d Tensor.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated alias of clip_grad_norm_."""
    warnings.warn("`nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is None:
            continue
        g = _writable_grad(p)
        np.clip(g.data, -clip_value, clip_value, out=g.data)
        g._vc[0] += 1

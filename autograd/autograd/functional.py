"""Higher-level gradient functions, as `torch.autograd.functional`.

For f: inputs x -> outputs y (each a Tensor or a tuple of Tensors):

    vjp(f, x, v)      (y, v^T J)            one backward pass
    jvp(f, x, v)      (y, J v)              double-vjp trick: u -> J^T u is linear in u, so
                                            J v = d(J^T u . v)/du, one more backward pass
    jacobian(f, x)    J[i][j]: (*y_i.shape, *x_j.shape), one backward per output element
    hessian(f, x)     H[i][j]: (*x_i.shape, *x_j.shape) of a scalar f (jacobian of jacobian)
    vhp(f, x, v)      (y, v^T H)            backward of the gradient, with v
    hvp(f, x, v)      (y, H v)              double-vjp trick on the gradient

Inputs are replaced by fresh tensors that require grad (detached copies, or differentiable
aliases when create_graph=True, so the results stay connected to the caller's graph). A
tuple of inputs gives a tuple of results; a single Tensor gives a single Tensor.
strict=True raises when an output does not depend on an input instead of returning zeros.
"""
import numpy as np

from ..engine import grad as _grad
from ..function import Function
from ..grad_mode import enable_grad
from ..tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


# -- structure helpers -------------------------------------------------------------------------
def _as_tuple(x, arg_name, fn_name):
    """(tuple of Tensors, whether x was a tuple)."""
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            where = f"{arg_name}[{i}]" if is_tuple else arg_name
            raise TypeError(f"{fn_name}: the given {where} must be a Tensor or a tuple of "
                            f"Tensors, got {type(t).__name__}")
    return xs, is_tuple


def _tuple_post(res, to_unpack):
    """Unpack the nested tuple `res` where the user gave single Tensors."""
    if isinstance(to_unpack, tuple):
        outer, inner = to_unpack
        if not inner:
            res = tuple(r[0] for r in res)
        if not outer:
            res = res[0]
        return res
    return res if to_unpack else res[0]


class _Alias(Function):
    """A new Tensor object for x, differentiable: dx = g."""
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.data.view()

    @staticmethod
    def backward(ctx, g):
        return g


def _grad_pre(inputs, create_graph):
    """Fresh tensors that require grad: aliases (create_graph) or detached copies."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(_Alias.apply(x))
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _grad_post(xs, create_graph):
    if create_graph:
        return xs
    return tuple(None if x is None else x.detach() for x in xs)


def _zeros_like(x):
    return Tensor._make(np.zeros(x.shape, x.data.dtype), False, None, 0)


def _validate_v(v, other, is_other_tuple, fn_name, what):
    if len(v) != len(other):
        n = "" if is_other_tuple else " (a single Tensor)"
        raise RuntimeError(f"{fn_name}: v is a tuple of {len(v)} Tensors but the {what} "
                           f"has {len(other)}{n}")
    for i, (vi, oi) in enumerate(zip(v, other)):
        if vi.shape != oi.shape:
            raise RuntimeError(f"{fn_name}: entry {i} of v has shape {tuple(vi.shape)} but "
                               f"the {what} has shape {tuple(oi.shape)}")


def _check_requires_grad(xs, kind, strict, fn_name):
    if not strict:
        return
    for i, x in enumerate(xs):
        if x is None:
            raise RuntimeError(f"{fn_name}: the output of the user-provided function is "
                               f"independent of input {i}; this is not allowed in strict mode")
        if not x.requires_grad:
            if kind == "outputs":
                raise RuntimeError(f"{fn_name}: output {i} of the user-provided function "
                                   "does not require gradients; in strict mode the outputs "
                                   "must be computed in a differentiable manner from the "
                                   "inputs")
            raise RuntimeError(f"{fn_name}: the {kind} of output {i} with respect to the "
                               "inputs does not require gradients; the function is likely "
                               "linear in its inputs, which is not allowed in strict mode")


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """grad() that skips outputs not requiring grad and returns None for unused inputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
             if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                 retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def _fill_grads(grads, refs, strict, fn_name, stage):
    """None -> zeros (or an error under strict)."""
    out = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{fn_name}: entry {i} of the {stage} is independent of the inputs; "
                    "this is not allowed in strict mode")
            g = _zeros_like(r)
        out.append(g)
    return tuple(out)


def _call(func, inputs, fn_name):
    outputs = func(*inputs)
    outs, is_tuple = _as_tuple(outputs, "outputs of the user-provided function", fn_name)
    return outs, is_tuple


def _scalar_output(outs, is_tuple, fn_name):
    if len(outs) != 1 or outs[0].data.size != 1:
        shapes = ", ".join(str(tuple(o.shape)) for o in outs)
        raise RuntimeError(f"{fn_name}: the function given must return a single Tensor with "
                           f"a single element, got output shape(s) {shapes}")
    if is_tuple:
        raise RuntimeError(f"{fn_name}: the function given must return a single Tensor, "
                           "not a tuple")


# -- vjp, jvp ----------------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J). v: like the outputs (may be None for a one-element output)."""
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
        xs = _grad_pre(xs, create_graph)
        outs, out_tuple = _call(func, xs, "vjp")
        _check_requires_grad(outs, "outputs", strict, "vjp")
        if v is not None:
            vs, _ = _as_tuple(v, "v", "vjp")
            _validate_v(vs, outs, out_tuple, "vjp", "vector-Jacobian product")
        else:
            if len(outs) != 1 or outs[0].data.size != 1:
                raise RuntimeError("vjp: v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element")
            vs = None
        grads = _autograd_grad(outs, xs, vs, create_graph=create_graph)
        grads = _fill_grads(grads, xs, strict, "vjp", "vector-Jacobian product")
    return (_tuple_post(_grad_post(outs, create_graph), out_tuple),
            _tuple_post(_grad_post(grads, create_graph), in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v). v: like the inputs (may be None for a one-element input).

    J v by the double-vjp trick: g(u) = J^T u is linear in u, and d(g(u) . v)/du = J v."""
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "jvp")
        xs = _grad_pre(xs, create_graph)
        if v is not None:
            vs, _ = _as_tuple(v, "v", "jvp")
            _validate_v(vs, xs, in_tuple, "jvp", "input")
        else:
            if len(xs) != 1 or xs[0].data.size != 1:
                raise RuntimeError("jvp: v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element")
            vs = None
        outs, out_tuple = _call(func, xs, "jvp")
        _check_requires_grad(outs, "outputs", strict, "jvp")
        # u: a dummy upstream gradient; J^T u is recorded so it can be differentiated in u
        us = tuple(_zeros_like(o).requires_grad_(True) for o in outs)
        grad_in = _autograd_grad(outs, xs, us, create_graph=True)
        _check_requires_grad(grad_in, "backward", strict, "jvp")
        if vs is None:
            vs = (Tensor._make(np.ones(xs[0].shape, xs[0].data.dtype), False, None, 0),)
        pairs = [(g, w) for g, w in zip(grad_in, vs) if g is not None]
        if pairs:
            jv = _autograd_grad([g for g, _ in pairs], us, [w for _, w in pairs],
                                create_graph=create_graph)
        else:
            jv = (None,) * len(us)
        if strict and create_graph:
            _check_requires_grad(jv, "jvp", strict, "jvp")
        jv = _fill_grads(jv, outs, strict, "jvp", "Jacobian-vector product")
    return (_tuple_post(_grad_post(outs, create_graph), out_tuple),
            _tuple_post(_grad_post(jv, create_graph), out_tuple))


# -- jacobian, hessian -------------------------------------------------------------------------
def _stack_rows(rows, shape, create_graph):
    """Rows (one per output element, each of an input's shape) -> (*out_shape, *in_shape)."""
    if not create_graph or not any(r.requires_grad for r in rows):
        data = np.stack([r.data for r in rows]) if rows else np.zeros((0,))
        return Tensor._make(data.reshape(shape), False, None, 0)
    from .. import ops
    stack = getattr(ops, "stack", None)
    if stack is None:
        raise NotImplementedError("jacobian: create_graph=True for an output with more than "
                                  "one element needs ops.stack, which is not available")
    return stack(rows).reshape(shape)


def _jacobian(outs, xs, create_graph, strict, fn_name):
    """J[i][j] = d outs[i] / d xs[j], each of shape (*outs[i].shape, *xs[j].shape)."""
    jac = []
    for i, o in enumerate(outs):
        rows = [[] for _ in xs]
        for k in range(o.data.size):
            if o.requires_grad:
                onehot = np.zeros(o.shape, o.data.dtype)
                onehot.reshape(-1)[k] = 1
                gs = _grad([o], xs, [Tensor._make(onehot, False, None, 0)],
                           retain_graph=True, create_graph=create_graph, allow_unused=True)
            else:
                gs = (None,) * len(xs)
            for j, (g, x) in enumerate(zip(gs, xs)):
                if g is None:
                    if strict:
                        raise RuntimeError(
                            f"{fn_name}: output {i} of the user-provided function is "
                            f"independent of input {j}; this is not allowed in strict mode")
                    g = _zeros_like(x)
                elif strict and create_graph and not g.requires_grad:
                    raise RuntimeError(
                        f"{fn_name}: the jacobian of output {i} with respect to input {j} "
                        "is independent of the input; this is not allowed in strict mode "
                        "with create_graph=True")
                rows[j].append(g)
        jac.append(tuple(
            _stack_rows(r, tuple(o.shape) + tuple(x.shape), create_graph)
            if o.data.size != 1 else r[0].reshape(tuple(o.shape) + tuple(x.shape))
            for r, x in zip(rows, xs)))
    return tuple(jac)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs: J[i][j] of shape (*outputs[i].shape, *inputs[j].shape).

    Nested as tuple[output][input], with the levels for single Tensors unpacked.
    `vectorize` is accepted and ignored (one backward pass per output element)."""
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' is implemented")
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
        xs = _grad_pre(xs, create_graph)
        outs, out_tuple = _call(func, xs, "jacobian")
        _check_requires_grad(outs, "outputs", strict, "jacobian")
        jac = _jacobian(outs, xs, create_graph, strict, "jacobian")
        if not create_graph:
            jac = tuple(tuple(t.detach() for t in row) for row in jac)
    return _tuple_post(jac, (out_tuple, in_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func: H[i][j] of shape (*inputs[i].shape, *inputs[j].shape),
    the jacobian of the gradient (recorded with create_graph=True)."""
    xs, in_tuple = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args):
        outs, out_tuple = _call(func, args, "hessian")
        _scalar_output(outs, out_tuple, "hessian")
        _check_requires_grad(outs, "outputs", strict, "hessian")
        gs = _autograd_grad(outs, args, create_graph=True)
        gs = _fill_grads(gs, args, strict, "hessian", "gradient")
        return gs

    res = jacobian(gradient, xs, create_graph=create_graph, strict=strict)
    return _tuple_post(res, (in_tuple, in_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar func. v: like the inputs."""
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "vhp")
        xs = _grad_pre(xs, create_graph)
        vs = _hvp_vector(v, xs, in_tuple, "vhp")
        outs, out_tuple = _call(func, xs, "vhp")
        _scalar_output(outs, out_tuple, "vhp")
        _check_requires_grad(outs, "outputs", strict, "vhp")
        gs = _autograd_grad(outs, xs, create_graph=True)
        gs = _fill_grads(gs, xs, strict, "vhp", "gradient")
        _check_requires_grad(gs, "jacobian", strict, "vhp")
        # v^T H = d(g . v)/dx
        res = _autograd_grad(gs, xs, vs, create_graph=create_graph)
        res = _fill_grads(res, xs, strict, "vhp", "vector-Hessian product")
    return (_grad_post(outs, create_graph)[0], _tuple_post(_grad_post(res, create_graph),
                                                           in_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar func. v: like the inputs.

    H v by the double-vjp trick on the gradient g(x): with u -> H^T u = d(g . u)/dx recorded,
    H v = d(H^T u . v)/du."""
    with enable_grad():
        xs, in_tuple = _as_tuple(inputs, "inputs", "hvp")
        xs = _grad_pre(xs, create_graph)
        vs = _hvp_vector(v, xs, in_tuple, "hvp")
        outs, out_tuple = _call(func, xs, "hvp")
        _scalar_output(outs, out_tuple, "hvp")
        _check_requires_grad(outs, "outputs", strict, "hvp")
        gs = _autograd_grad(outs, xs, create_graph=True)
        gs = _fill_grads(gs, xs, strict, "hvp", "gradient")
        _check_requires_grad(gs, "jacobian", strict, "hvp")
        us = tuple(_zeros_like(x).requires_grad_(True) for x in xs)
        back = _autograd_grad(gs, xs, us, create_graph=True)
        _check_requires_grad([b for b in back if b is not None], "double backward", strict,
                             "hvp")
        pairs = [(b, w) for b, w in zip(back, vs) if b is not None]
        if pairs:
            res = _autograd_grad([b for b, _ in pairs], us, [w for _, w in pairs],
                                 create_graph=create_graph)
        else:
            res = (None,) * len(us)
        res = _fill_grads(res, xs, strict, "hvp", "Hessian-vector product")
    return (_grad_post(outs, create_graph)[0], _tuple_post(_grad_post(res, create_graph),
                                                           in_tuple))


def _hvp_vector(v, xs, in_tuple, fn_name):
    if v is None:
        if len(xs) != 1 or xs[0].data.size != 1:
            raise RuntimeError(f"{fn_name}: v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element")
        return (Tensor._make(np.ones(xs[0].shape, xs[0].data.dtype), False, None, 0),)
    vs, _ = _as_tuple(v, "v", fn_name)
    _validate_v(vs, xs, in_tuple, fn_name, "input")
    return vs

"""Einstein summation, and tensordot written with it (both re-exported by linalg.py).

Every backward is an einsum on Tensors, so gradients of gradients work.

    einsum(eq, *x)  d x_i = einsum(out, others -> subscripts of x_i)(g, x_j...)
                    a label only in x_i is broadcast back (a ones vector joins the sum);
                    a label repeated in x_i ('ii') puts the gradient on its diagonal
                    (an identity matrix joins the sum)
    tensordot(a, b) einsum with the contracted dims of a and b sharing their labels
"""
import string

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._linalg_util import _tensor_pair
from ._util import as_tensor

__all__ = ["einsum", "tensordot"]


# -- einsum ----------------------------------------------------------------------------------
_LETTERS = string.ascii_letters


def _letters(n, start=0):
    return _LETTERS[start:start + n]


class Einsum(Function):
    """operands x_i with subscripts ins[i] (explicit, no ellipsis) -> subscripts out."""

    @staticmethod
    def forward(ctx, ins, out, *xs):
        ctx.ins, ctx.out = ins, out
        ctx.save_for_backward(*xs)
        arrays = [x.data for x in xs]
        y = np.einsum(",".join(ins) + "->" + out, *arrays, optimize=_optimize(ins, arrays))
        if len(arrays) == 1 and np.may_share_memory(y, arrays[0]):
            y = y.copy()       # 'ij->ji', 'ii->i' return views; the output owns its memory
        return y

    @staticmethod
    def backward(ctx, g):
        xs = ctx.saved_tensors
        grads = [None, None]
        for i in range(len(xs)):
            grads.append(_einsum_grad(ctx.ins, ctx.out, xs, i, g)
                         if ctx.needs_input_grad[i + 2] else None)
        return tuple(grads)


def _optimize(ins, arrays):
    """numpy's contraction path (BLAS through tensordot) pays off past ~32k multiply-adds."""
    if len(arrays) < 2:
        return False
    if len(arrays) > 2:
        return "greedy"
    sizes = {}
    for sub, arr in zip(ins, arrays):
        for c, n in zip(sub, arr.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    work = 1
    for n in sizes.values():
        work *= n
    return "greedy" if work > 32768 else False


def _einsum_grad(ins, out, xs, i, g):
    """d x_i = einsum(out, ins[j != i], [ones], [eyes] -> ins[i] with repeats renamed)."""
    sub, x = ins[i], xs[i]
    sizes = dict(zip(out, g.shape))         # each label's size outside x_i
    for j in range(len(ins)):
        if j != i:
            for c, n in zip(ins[j], xs[j].shape):
                sizes[c] = max(sizes.get(c, 1), n)
    free = iter(c for c in _LETTERS if c not in set(out).union(*ins))
    subs, ops, target, seen = [out], [g], [], set()
    for j in range(len(ins)):
        if j != i:
            subs.append(ins[j])
            ops.append(xs[j])
    for c, n in zip(sub, x.shape):
        if c in seen:
            # repeated label: the gradient lives on the diagonal, d x[.., c, c'] = eye[c, c']
            fresh = next(free)
            subs.append(c + fresh)
            ops.append(Tensor._make(np.eye(n, dtype=x.data.dtype), False, None, 0))
            target.append(fresh)
            continue
        seen.add(c)
        target.append(c)
        if c not in sizes or sizes[c] < n:
            # label summed out of x_i alone (or broadcast from size 1 elsewhere): the
            # gradient is constant along it
            subs.append(c)
            ops.append(Tensor._make(np.ones(n, dtype=x.data.dtype), False, None, 0))
    return _einsum_explicit(tuple(subs), "".join(target), tuple(ops))


def _einsum_explicit(ins, out, xs):
    return Einsum.apply(tuple(ins), out, *xs)


def _parse_einsum(equation, shapes):
    """The equation with every ellipsis spelled out as letters: (inputs, output)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum: the equation {equation!r} has {len(ins)} operand(s) but "
                           f"{len(shapes)} were given")
    labels = set()
    for s in ins + ([rhs] if arrow else []):
        body = s.replace("...", "")
        bad = [c for c in body if c not in _LETTERS]
        if bad or s.count("...") > 1:
            raise RuntimeError(f"einsum: invalid subscript {bad[0] if bad else '...'!r} in "
                               f"equation {equation!r}: use letters and at most one '...' "
                               "per operand")
        labels.update(body)
    ell = iter(c for c in reversed(_LETTERS) if c not in labels)
    n_ell = 0
    for k, (s, shape) in enumerate(zip(ins, shapes)):
        n = len(s.replace("...", ""))
        if "..." in s:
            if len(shape) < n:
                raise RuntimeError(f"einsum: operand {k} of shape {tuple(shape)} has fewer "
                                   f"dimensions than the {n} subscripts in {s!r}")
            n_ell = max(n_ell, len(shape) - n)
        elif len(shape) != n:
            raise RuntimeError(f"einsum: the number of subscripts in {s!r} ({n}) does not "
                               f"match the number of dimensions ({len(shape)}) of operand "
                               f"{k} (shape {tuple(shape)}) and no ellipsis was given")
    ell_letters = "".join(next(ell) for _ in range(n_ell))[::-1]
    full = []
    for s, shape in zip(ins, shapes):
        if "..." in s:
            d = len(shape) - len(s.replace("...", ""))
            s = s.replace("...", ell_letters[n_ell - d:])
        full.append(s)
    if arrow:
        out = rhs.replace("...", ell_letters)
        for c in out:
            if out.count(c) > 1:
                raise RuntimeError(f"einsum: output subscript {c!r} appears more than once "
                                   f"in {equation!r}")
            if not any(c in s for s in full):
                raise RuntimeError(f"einsum: output subscript {c!r} does not appear in any "
                                   f"operand of {equation!r}")
    else:
        # implicit output: the ellipsis, then the labels used exactly once, sorted
        body = "".join(s.replace("...", "") for s in ins)
        out = ell_letters + "".join(sorted(c for c in set(body) if body.count(c) == 1))
    return tuple(full), out


def _check_einsum_sizes(equation, ins, xs):
    sizes = {}
    for k, (s, x) in enumerate(zip(ins, xs)):
        for c in set(s):
            dims = {x.shape[p] for p, d in enumerate(s) if d == c}
            if len(dims) > 1:
                raise RuntimeError(f"einsum: subscript {c!r} is repeated for operand {k} in "
                                   f"{equation!r} but the sizes don't match: shape "
                                   f"{tuple(x.shape)}")
        for c, n in zip(s, x.shape):
            m = sizes.get(c)
            if m is None or m == 1:
                sizes[c] = n
            elif n != m and n != 1:
                shapes = ", ".join(str(tuple(y.shape)) for y in xs)
                raise RuntimeError(f"einsum: sizes of a subscript do not match in "
                                   f"{equation!r} for operand {k}: {n} != {m} (operand "
                                   f"shapes {shapes})")


def einsum(equation, *operands):
    """Einstein summation, e.g. einsum('bij,bjk->bik', x, w); '...' broadcasts, 'ii->i'
    takes a diagonal, labels absent from the output are summed. Operands may also be
    passed as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum: at least one operand is required")
    xs = tuple(x if isinstance(x, Tensor) else as_tensor(x) for x in operands)
    dtype = xs[0].data.dtype
    for x in xs[1:]:
        if x.data.dtype != dtype:
            dts = ", ".join(str(y.data.dtype) for y in xs)
            raise RuntimeError(f"einsum: expected all operands to have the same dtype, but "
                               f"got {dts}")
    ins, out = _parse_einsum(equation, [x.shape for x in xs])
    _check_einsum_sizes(equation, ins, xs)
    return _einsum_explicit(ins, out, xs)


# -- tensordot -------------------------------------------------------------------------------
def tensordot(a, b, dims=2):
    """Contract the last `dims` dims of a with the first of b (or the listed dim pairs)."""
    a, b = _tensor_pair("tensordot", a, b)
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} is out of range for shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [d % max(a.ndim, 1) for d in da]
    db = [d % max(b.ndim, 1) for d in db]
    la = list(_letters(a.ndim))
    lb = list(_letters(b.ndim, start=a.ndim))
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions differ: shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)} (dim {i} of size "
                               f"{a.shape[i]} vs dim {j} of size {b.shape[j]})")
        lb[j] = la[i]
    out = [c for k, c in enumerate(la) if k not in da] + \
        [c for k, c in enumerate(lb) if k not in db]
    return _einsum_explicit(("".join(la), "".join(lb)), "".join(out), (a, b))

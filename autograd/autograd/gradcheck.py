"""gradcheck and gradgradcheck: analytical gradients against central finite differences.

For f: inputs -> outputs, the numerical Jacobian column for input element k is
    (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)
and the analytical row for output element j is grad(out_j, inputs). Both are compared with
|analytical - numerical| <= atol + rtol |numerical|.

fast_mode compares one random projection instead of the whole Jacobian:
    v^T J u  (analytical: vjp with v, dotted with u)  vs  v . (f(x + eps u) - f(x - eps u)) / 2eps
which costs two forward passes and one backward whatever the sizes.

When a check of a composed function fails, the function is run once more recording every op
it puts on the tape with a copy of its inputs; each op is then checked alone (its backward
against finite differences of its own forward, in float64) in tape order, and the error
names the first op that fails: the primitive, or the class of a custom Function.
"""
import numpy as np

from .. import function as _function
from ..engine import grad
from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "find_culprit"]

_FULL_JACOBIAN_MAX = 64      # per-op checks above this many input elements use fast mode


class GradcheckError(RuntimeError):
    """culprit: the Function class named as the first wrong op (None when not found)."""
    culprit = None


def _as_tuple(x):
    return (x,) if isinstance(x, Tensor) or not isinstance(x, (tuple, list)) else tuple(x)


def _outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return [o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _diff_inputs(inputs):
    idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for i in idx:
        if inputs[i].dtype != np.float64:
            raise GradcheckError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; "
                                 "finite differences need float64 inputs")
    return idx


def _numerical_flat(func, inputs, idx, eps):
    """Numerical Jacobian as a (sum of output sizes, sum of input sizes) array."""
    cols = []
    for i in idx:
        x = inputs[i].data
        for k in range(x.size):
            flat = x.reshape(-1)
            orig = flat[k]
            with no_grad():
                flat[k] = orig + eps
                plus = [o.data.astype(np.float64).ravel().copy() for o in _outputs(func, inputs)]
                flat[k] = orig - eps
                minus = [o.data.astype(np.float64).ravel().copy()
                         for o in _outputs(func, inputs)]
                flat[k] = orig
            cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]
                                       or [np.zeros(0)]))
    n_out = sum(o.data.size for o in _outputs(func, inputs))
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def _analytical_flat(func, inputs, idx):
    outs = _outputs(func, inputs)
    rows = []
    for o in outs:
        for j in range(o.data.size):
            if not o.requires_grad:
                rows.append(np.zeros(sum(inputs[i].data.size for i in idx)))
                continue
            v = np.zeros(o.shape, o.dtype)
            v.reshape(-1)[j] = 1
            gs = grad(o, [inputs[i] for i in idx], Tensor._make(v, False, None, 0),
                      retain_graph=True, allow_unused=True)
            rows.append(np.concatenate(
                [(np.zeros(inputs[i].data.size) if g is None else g.data.ravel())
                 for i, g in zip(idx, gs)]))
    width = sum(inputs[i].data.size for i in idx)
    return np.stack(rows) if rows else np.zeros((0, width))


def _fail(msg, raise_exception, culprit=None):
    if raise_exception:
        if culprit is not None:
            cls, report = culprit()
            first, _, rest = msg.partition("\n")
            err = GradcheckError(f"{first}\n{report}" + (f"\n{rest}" if rest else ""))
            err.culprit = cls
            raise err
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False, seed=0, name_culprit=True):
    """True when func's analytical gradients match finite differences (float64 inputs).
    On a mismatch (with raise_exception), name_culprit re-checks each op of func's tape
    alone and names the first whose backward is wrong (GradcheckError.culprit)."""
    inputs = _as_tuple(inputs)
    idx = _diff_inputs(inputs)
    if not idx:
        return _fail("gradcheck: no input requires grad", raise_exception)
    culprit = None
    if name_culprit:
        def culprit():
            return find_culprit(func, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
    if fast_mode:
        return _fast_check(func, inputs, idx, eps, atol, rtol, raise_exception, seed, culprit)
    numerical = _numerical_flat(func, inputs, idx, eps)
    analytical = _analytical_flat(func, inputs, idx)
    if analytical.shape != numerical.shape:
        return _fail(f"gradcheck: Jacobian shapes differ: analytical {analytical.shape}, "
                     f"numerical {numerical.shape}", raise_exception, culprit)
    bad = np.abs(analytical - numerical) > atol + rtol * np.abs(numerical)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        return _fail(
            f"gradcheck: Jacobian mismatch at output element {r}, input element {c}: "
            f"analytical {analytical[r, c]!r} vs numerical {numerical[r, c]!r}\n"
            f"analytical:\n{analytical}\nnumerical:\n{numerical}", raise_exception, culprit)
    return True


def _fast_check(func, inputs, idx, eps, atol, rtol, raise_exception, seed, culprit=None):
    rng = np.random.default_rng(seed)
    us = {i: rng.standard_normal(inputs[i].shape) for i in idx}
    outs = _outputs(func, inputs)
    vs = [rng.standard_normal(o.shape) for o in outs]
    analytical = 0.0
    for o, v in zip(outs, vs):
        if not o.requires_grad:
            continue
        gs = grad(o, [inputs[i] for i in idx], Tensor._make(v, False, None, 0),
                  retain_graph=True, allow_unused=True)
        analytical += sum(float((g.data * us[i]).sum()) for i, g in zip(idx, gs)
                          if g is not None)
    originals = {i: inputs[i].data.copy() for i in idx}

    def shifted(sign):
        with no_grad():
            for i in idx:
                inputs[i].data[...] = originals[i] + sign * eps * us[i]
            res = [o.data.astype(np.float64).copy() for o in _outputs(func, inputs)]
            for i in idx:
                inputs[i].data[...] = originals[i]
        return res

    plus, minus = shifted(1), shifted(-1)
    numerical = sum(float(((p - m) / (2 * eps) * v).sum()) for p, m, v in zip(plus, minus, vs))
    if abs(analytical - numerical) > atol + rtol * abs(numerical):
        return _fail(f"gradcheck (fast mode): projection mismatch: analytical {analytical!r} "
                     f"vs numerical {numerical!r}", raise_exception, culprit)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, fast_mode=False, seed=0, name_culprit=True):
    """gradcheck of the map (inputs, grad_outputs) -> vjp, recorded with create_graph=True.
    On a mismatch, name_culprit re-checks the second derivatives of each op of func's tape
    alone and names the first that is wrong."""
    inputs = _as_tuple(inputs)
    idx = _diff_inputs(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor._make(rng.standard_normal(o.shape), False, None, 0)
                        for o in outs]
        for g in grad_outputs:
            g.requires_grad = True
    grad_outputs = list(_as_tuple(grad_outputs))
    n = len(inputs)

    def first_order(*args):
        # recorded even when gradcheck evaluates it for finite differences under no_grad
        with enable_grad():
            xs, gos = args[:n], args[n:]
            ys = _outputs(func, xs)
            pairs = [(y, g) for y, g in zip(ys, gos) if y.requires_grad]
            gs = grad([y for y, _ in pairs], [xs[i] for i in idx], [g for _, g in pairs],
                      create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    try:
        return gradcheck(first_order, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                         rtol=rtol, raise_exception=raise_exception, fast_mode=fast_mode,
                         seed=seed, name_culprit=False)
    except GradcheckError as e:
        if not name_culprit:
            raise
        cls, report = find_culprit(func, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed,
                                   second_order=True)
        err = GradcheckError(f"gradgradcheck: {e}\n{report}")
        err.culprit = cls
        raise err from None


# -- naming the culprit ------------------------------------------------------------------
def find_culprit(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, second_order=False):
    """(Function class or None, report): run func once recording each op it puts on the
    tape with a copy of its inputs, then check each op alone in tape order (second_order:
    gradgradcheck) and name the first whose gradient disagrees with finite differences."""
    calls = _record_ops(func, inputs)
    check = gradgradcheck if second_order else gradcheck
    what = "second derivative" if second_order else "backward"
    for k, (cls, args, needs) in enumerate(calls):
        diff = [i for i, need in enumerate(needs) if need]
        leaves = []
        for i in diff:
            x = Tensor._make(args[i].data.copy(), False, None, 0)
            x.requires_grad = True
            leaves.append(x)

        def single_op(*xs, cls=cls, args=args, diff=diff):
            full = list(args)
            for i, x in zip(diff, xs):
                full[i] = x
            return cls.apply(*full)

        if not leaves or not _float64_outputs(single_op, leaves):
            continue                  # finite differences need float64 all the way
        size = sum(x.data.size for x in leaves)
        try:
            check(single_op, leaves, eps=eps, atol=atol, rtol=rtol, seed=seed,
                  fast_mode=size > _FULL_JACOBIAN_MAX, name_culprit=False)
        except GradcheckError as e:
            shapes = ", ".join(f"{tuple(x.shape)}" for x in leaves)
            detail = str(e).split("\n")[0]
            return cls, (f"The first op whose {what} is wrong: {_describe(cls)}, op {k + 1} of "
                         f"{len(calls)} on the tape (differentiable inputs {shapes}; checked "
                         f"alone in float64): {detail}")
    return None, (f"Each of the {len(calls)} ops on the tape passes its own check: the "
                  "error lies in how they are combined (an in-place write, a detached "
                  "tensor, or non-differentiable points such as ties and kinks).")


def _float64_outputs(fn, xs):
    with no_grad():
        outs = _as_tuple(fn(*xs))
    return all(o.dtype == np.float64 for o in outs if isinstance(o, Tensor)
               and o.dtype.kind == "f")


def _describe(cls):
    module = getattr(cls, "__module__", "") or ""
    if module.startswith("autograd."):
        return f"primitive {cls.__name__} ({module})"
    return f"custom Function {module}.{cls.__qualname__}"


def _record_ops(func, inputs):
    """[(Function class, args with Tensors copied as float64, needs_input_grad)] of the ops
    func records, in tape order. The tape's recording step (`autograd.function._record`,
    which every recorded apply calls, also through `F = MyFn.apply` bound earlier) is
    wrapped for this one run."""
    calls = []
    original = _function._record

    def recording(cls, ctx, args, *rest):
        out = original(cls, ctx, args, *rest)
        snapshot = [Tensor._make(_as_float64(a.data), False, None, 0) if isinstance(a, Tensor)
                    else a for a in args]
        calls.append((ctx.seq, cls, snapshot, tuple(ctx.needs_input_grad)))
        return out

    _function._record = recording
    try:
        with enable_grad():
            func(*inputs)
    finally:
        _function._record = original
    calls.sort(key=lambda c: c[0])
    return [(cls, args, needs) for _, cls, args, needs in calls]


def _as_float64(a):
    return a.astype(np.float64) if a.dtype.kind == "f" else a.copy()

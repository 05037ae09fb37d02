"""check_op: run one op in tapegrad and in PyTorch on the same inputs; compare values,
dtypes and gradients (random upstream gradient), then gradcheck ours in float64.

    check_op(ag.exp, torch.exp, [(3, 4)])
    check_op(lambda x, y: x * y, lambda x, y: x * y, [(3, 1), (4,)])
    check_op(ag.log, torch.log, [(5,)], low=0.1, high=3)
"""
import numpy as np
import torch

import autograd as ag

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}
LAYOUTS = ("contiguous", "transposed", "flipped")


def _arrays(shapes, dtype, low, high, seed, make_inputs):
    rng = np.random.default_rng(seed)
    if make_inputs is not None:
        return [np.asarray(a) if not np.asarray(a).dtype.kind == "f" else
                np.asarray(a, dtype) for a in make_inputs(rng, dtype)]
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def _layout(arr, layout):
    """The same values in a non-contiguous array: a transposed or negative-stride view."""
    if layout == "transposed" and arr.ndim >= 2:
        return np.ascontiguousarray(arr.swapaxes(-1, -2)).swapaxes(-1, -2)
    if layout == "flipped" and arr.ndim >= 1:
        return np.ascontiguousarray(arr[..., ::-1])[..., ::-1]
    return arr


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(outs):
    return [i for i, o in enumerate(outs) if o.dtype.kind == "f"]


def check_op(ours, ref, shapes=None, *, low=-2.0, high=2.0, dtypes=(np.float32, np.float64),
             grad=True, gradcheck=True, grad_inputs=None, make_inputs=None, seed=0,
             layouts=LAYOUTS, rtol=None, atol=None, eps=1e-6):
    """grad_inputs: indices of the inputs to differentiate (default: all float inputs)."""
    for dtype in dtypes:
        for layout in layouts:
            arrays = _arrays(shapes, dtype, low, high, seed, make_inputs)
            _compare(ours, ref, arrays, dtype, layout, grad, grad_inputs, seed, rtol, atol)
    if grad and gradcheck and np.float64 in dtypes:
        arrays = _arrays(shapes, np.float64, low, high, seed, make_inputs)
        xs = _ours_inputs(arrays, "contiguous", grad_inputs)
        if any(isinstance(x, ag.Tensor) and x.requires_grad for x in xs):
            ag.autograd.gradcheck(lambda *a: ours(*a), xs, eps=eps, atol=1e-5, rtol=1e-3)


def _differentiable(i, arr, grad_inputs):
    if arr.dtype.kind != "f":
        return False
    return grad_inputs is None or i in grad_inputs


def _ours_inputs(arrays, layout, grad_inputs):
    xs = []
    for i, a in enumerate(arrays):
        x = ag.from_numpy(_layout(a.copy(), layout))
        x.requires_grad = _differentiable(i, a, grad_inputs)
        xs.append(x)
    return xs


def _compare(ours, ref, arrays, dtype, layout, grad, grad_inputs, seed, rtol, atol):
    tol = dict(TOL[dtype])
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    xs = _ours_inputs(arrays, layout, grad_inputs)
    txs = [torch.tensor(a.copy(), requires_grad=_differentiable(i, a, grad_inputs))
           for i, a in enumerate(arrays)]
    outs = _tuple(ours(*xs))
    touts = _tuple(ref(*txs))
    assert len(outs) == len(touts), f"{len(outs)} outputs vs PyTorch's {len(touts)}"
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert isinstance(o, ag.Tensor), f"output {k} is {type(o).__name__}, not a Tensor"
        tn = t.detach().numpy()
        assert o.shape == tuple(tn.shape), f"output {k}: shape {o.shape} vs PyTorch {tn.shape}"
        assert o.dtype == tn.dtype, f"output {k}: dtype {o.dtype} vs PyTorch {tn.dtype}"
        np.testing.assert_allclose(o.data, tn, **tol, err_msg=f"output {k} ({layout})",
                                   equal_nan=True)
    if not grad:
        return
    diff_in = [i for i, x in enumerate(xs) if x.requires_grad]
    diff_out = [k for k in _float_outputs(outs) if outs[k].requires_grad]
    if not diff_in or not diff_out:
        return
    rng = np.random.default_rng(seed + 1)
    gs = [rng.standard_normal(outs[k].shape).astype(dtype) for k in diff_out]
    got = ag.grad([outs[k] for k in diff_out], [xs[i] for i in diff_in],
                  [ag.tensor(g) for g in gs], allow_unused=True)
    want = torch.autograd.grad([touts[k] for k in diff_out], [txs[i] for i in diff_in],
                               [torch.tensor(g) for g in gs], allow_unused=True)
    for i, g, w in zip(diff_in, got, want):
        if w is None:
            assert g is None or not np.any(g.data), f"input {i}: PyTorch has no gradient"
            continue
        wn = w.numpy()
        assert g is not None, f"input {i}: no gradient, PyTorch has one"
        assert g.shape == tuple(wn.shape), f"grad {i}: shape {g.shape} vs PyTorch {wn.shape}"
        assert g.dtype == wn.dtype, f"grad {i}: dtype {g.dtype} vs PyTorch {wn.dtype}"
        np.testing.assert_allclose(g.data, wn, **tol, err_msg=f"grad of input {i} ({layout})",
                                   equal_nan=True)

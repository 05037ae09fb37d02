"""check_module: one of our layers against its PyTorch counterpart with the same weights.

    check_module(lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), [(4, 5)])
    check_module(lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), [(2, 3, 4, 4)],
                 modes=("train", "eval"))

For each dtype and mode it builds both modules, checks that parameter and buffer names and
shapes agree, copies PyTorch's state dict into ours, runs both on the same inputs, and
compares the outputs, the gradients of the inputs and of every parameter (random upstream
gradient), and the buffers after the forward (running statistics).
"""
import numpy as np
import torch

import autograd as ag

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-10)}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def copy_torch_state(ours, theirs):
    """Load a torch module's state dict (as arrays) into ours; checks names and shapes agree."""
    t_state = {k: v.detach().cpu().numpy() for k, v in theirs.state_dict().items()}
    o_state = ours.state_dict()
    assert list(o_state) == list(t_state), (list(o_state), list(t_state))
    for k, v in t_state.items():
        assert tuple(o_state[k].shape) == v.shape, (k, o_state[k].shape, v.shape)
    ours.load_state_dict({k: ag.tensor(v.copy()) for k, v in t_state.items()})


def _inputs(shapes, dtype, low, high, seed, make_inputs):
    rng = np.random.default_rng(seed)
    if make_inputs is not None:
        arrays = [np.asarray(a) for a in make_inputs(rng, dtype)]
        return [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def _compare(name, ours, theirs, tol):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.data if isinstance(ours, ag.Tensor) else ours
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} vs torch {theirs.shape}"
    if theirs.dtype.kind == "f":
        assert ours.dtype == theirs.dtype, f"{name}: dtype {ours.dtype} vs torch {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, err_msg=name, equal_nan=True, **tol)


def check_module(make_ours, make_theirs, shapes, *, dtypes=(np.float32, np.float64),
                 modes=("train",), low=-1.0, high=1.0, make_inputs=None, grad_inputs=None,
                 seed=0, rtol=None, atol=None, output=None):
    """make_ours / make_theirs: zero-argument constructors of the two modules.
    shapes: input shapes (uniform in [low, high)); or make_inputs(rng, dtype) -> arrays.
    grad_inputs: indices of the inputs that get gradients (default: every float input).
    output: picks the compared output from a tuple result (e.g. lambda out: out[0])."""
    for dtype in dtypes:
        tol = dict(TOL[dtype])
        if rtol is not None:
            tol["rtol"] = rtol
        if atol is not None:
            tol["atol"] = atol
        for mode in modes:
            torch.manual_seed(seed)
            theirs = make_theirs().to(TORCH_DTYPE[dtype])
            ours = make_ours().to(ag.float64 if dtype == np.float64 else ag.float32)
            copy_torch_state(ours, theirs)
            ours.train(mode == "train")
            theirs.train(mode == "train")
            arrays = _inputs(shapes, dtype, low, high, seed, make_inputs)
            wants = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"] \
                if grad_inputs is None else list(grad_inputs)
            xs = [ag.tensor(a.copy(), requires_grad=i in wants) for i, a in enumerate(arrays)]
            txs = [torch.tensor(a.copy(), requires_grad=i in wants)
                   for i, a in enumerate(arrays)]
            outs, touts = _tuple(ours(*xs)), _tuple(theirs(*txs))
            if output is not None:
                outs, touts = _tuple(output(outs)), _tuple(output(touts))
            where = f"{type(ours).__name__} {np.dtype(dtype).name} {mode}"
            assert len(outs) == len(touts), where
            rng = np.random.default_rng(seed + 1)
            grads = [rng.standard_normal(t.shape).astype(dtype) for t in touts]
            for k, (o, t) in enumerate(zip(outs, touts)):
                _compare(f"{where} output {k}", o, t, tol)
            float_outs = [k for k, t in enumerate(touts) if t.requires_grad]
            if not float_outs:
                continue
            torch.autograd.backward([touts[k] for k in float_outs],
                                    [torch.tensor(grads[k]) for k in float_outs])
            ag.backward([outs[k] for k in float_outs], [ag.tensor(grads[k]) for k in float_outs])
            for i in wants:
                _compare(f"{where} grad of input {i}", xs[i].grad, txs[i].grad, tol)
            t_params = dict(theirs.named_parameters())
            for name, p in ours.named_parameters():
                tp = t_params[name]
                if tp.grad is None:
                    assert p.grad is None or not np.any(p.grad.data), f"{where} {name}.grad"
                    continue
                _compare(f"{where} grad of {name}", p.grad, tp.grad, tol)
            t_buffers = dict(theirs.named_buffers())
            for name, b in ours.named_buffers():
                _compare(f"{where} buffer {name}", b, t_buffers[name], tol)

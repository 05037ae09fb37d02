"""Optimizers against torch.optim: 50 steps on the same 2-layer tanh MLP from the same weights,
gradients computed by our engine for ours and by PyTorch for theirs (float64); param groups,
state_dict round trips (also from a PyTorch state dict), zero_grad, closure, errors."""
import copy

import numpy as np
import pytest
import torch

import autograd as ag
import optim

STEPS = 50
# float64 runs agree to ~1e-13; 1e-9 leaves room for rounding amplified over 50 steps
# (the issue asks for 1e-5)
TOL = 1e-9


def _data(dtype=np.float64, seed=0):
    """Weights (W1 (8, 4), b1 (8,), W2 (3, 8), b2 (3,)) and data X (16, 4), Y (16, 3)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.5, s).astype(dtype) for s in [(8, 4), (8,), (3, 8), (3,)]]
    x = rng.normal(size=(16, 4)).astype(dtype)
    y = rng.normal(size=(16, 3)).astype(dtype)
    return weights, x, y


def _loss(params, x, y):
    """mean((tanh(x W1^T + b1) W2^T + b2 - y)^2): the same expression in both libraries."""
    w1, b1, w2, b2 = params
    h = (x @ w1.T + b1).tanh()
    return ((h @ w2.T + b2 - y) ** 2).mean()


def _groups(params, groups):
    """params split into param groups: groups is None (one list) or a list of
    (indices, options) pairs."""
    if groups is None:
        return params
    return [dict(params=[params[i] for i in idx], **opts) for idx, opts in groups]


def _objective(params, x, y, kwargs):
    """The loss, negated when the optimizer maximizes (so both cases converge)."""
    loss = _loss(params, x, y)
    return -loss if kwargs.get("maximize") else loss


def _run_ours(name, kwargs, weights, x, y, steps=STEPS, groups=None):
    params = [ag.tensor(w, requires_grad=True) for w in weights]
    opt = getattr(optim, name)(_groups(params, groups), **kwargs)
    xt, yt = ag.tensor(x), ag.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        _objective(params, xt, yt, kwargs).backward()
        opt.step()
    return params, opt


def _run_torch(name, kwargs, weights, x, y, steps=STEPS, groups=None):
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    opt = getattr(torch.optim, name)(_groups(params, groups), **kwargs)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        _objective(params, xt, yt, kwargs).backward()
        opt.step()
    return params, opt


def _max_diff(ours, theirs):
    return max(np.max(np.abs(p.data - q.detach().numpy())) for p, q in zip(ours, theirs))


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, maximize=True)),
]


# RMSprop with alpha=0.9 (no bias correction, near-zero gradient entries) is chaotic on this
# problem: PyTorch itself turns a 1e-15 relative change of the initial weights into 3e-7 at
# step 50, so these cases are held to the 1e-5.
CHAOTIC = {("RMSprop", 0.9)}


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_torch(name, kwargs):
    weights, x, y = _data()
    ours, _ = _run_ours(name, kwargs, weights, x, y)
    theirs, _ = _run_torch(name, kwargs, weights, x, y)
    tol = 1e-5 if (name, kwargs.get("alpha")) in CHAOTIC else TOL
    assert _max_diff(ours, theirs) < tol
    # the parameters moved (the comparison is not between two untouched copies)
    assert max(np.max(np.abs(p.data - w)) for p, w in zip(ours, weights)) > 1e-3


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)), ("Adagrad", dict(lr=0.1))])
def test_param_groups_with_different_options(name, kwargs):
    weights, x, y = _data()
    groups = [((0, 1), {}), ((2, 3), dict(lr=kwargs["lr"] * 3, weight_decay=0.1))]
    ours, opt = _run_ours(name, kwargs, weights, x, y, groups=groups)
    theirs, _ = _run_torch(name, kwargs, weights, x, y, groups=groups)
    assert _max_diff(ours, theirs) < TOL
    assert opt.param_groups[0]["lr"] == kwargs["lr"]
    assert opt.param_groups[1]["lr"] == kwargs["lr"] * 3
    assert opt.param_groups[0]["weight_decay"] == 0.0


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)), ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)), ("Adadelta", dict()),
    ("Adamax", dict()), ("NAdam", dict())])
def test_state_dict_round_trip(name, kwargs):
    weights, x, y = _data()
    full, _ = _run_ours(name, kwargs, weights, x, y, steps=20)
    first, opt = _run_ours(name, kwargs, weights, x, y, steps=10)
    saved = copy.deepcopy(opt.state_dict())
    # the format: parameters by index, one state dict per parameter, PyTorch's state keys
    _, topt = _run_torch(name, kwargs, weights, x, y, steps=1)
    tsd = topt.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert sorted(saved["state"]) == sorted(tsd["state"])
    assert all(set(saved["state"][i]) == set(tsd["state"][i]) for i in saved["state"])
    # a fresh optimizer on fresh parameters, loaded and continued, equals the uninterrupted run
    resumed, _ = _run_ours(name, kwargs, [p.data for p in first], x, y, steps=0)
    opt2 = getattr(optim, name)(resumed, **kwargs)
    opt2.load_state_dict(saved)
    xt, yt = ag.tensor(x), ag.tensor(y)
    for _ in range(10):
        opt2.zero_grad()
        _loss(resumed, xt, yt).backward()
        opt2.step()
    for p, q in zip(resumed, full):
        np.testing.assert_array_equal(p.data, q.data)
    # loaded state is copied, not shared with the saved dict
    state = opt2.state[resumed[0]]
    key = next(k for k in state if k != "step")
    assert state[key].data is not saved["state"][0][key].data


def test_load_state_dict_from_torch():
    """A PyTorch Adam state dict converted to arrays loads into ours and continues alike."""
    weights, x, y = _data()
    kwargs = dict(lr=0.01, amsgrad=True)
    theirs, topt = _run_torch("Adam", kwargs, weights, x, y, steps=10)
    tsd = topt.state_dict()
    converted = {"state": {i: {k: ag.tensor(v.numpy()) for k, v in s.items()}
                           for i, s in tsd["state"].items()},
                 "param_groups": tsd["param_groups"]}
    ours = [ag.tensor(p.detach().numpy(), requires_grad=True) for p in theirs]
    opt = optim.Adam(ours, **kwargs)
    opt.load_state_dict(converted)
    xt, yt, txt, tyt = ag.tensor(x), ag.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(10):
        opt.zero_grad()
        _loss(ours, xt, yt).backward()
        opt.step()
        topt.zero_grad()
        _loss(theirs, txt, tyt).backward()
        topt.step()
    assert _max_diff(ours, theirs) < TOL


def test_float32_keeps_dtype_identity_and_bumps_version():
    weights, x, y = _data(np.float32)
    for name, kwargs in [("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
                         ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                         ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", {}),
                         ("Adadelta", {}), ("Adamax", {}), ("NAdam", dict(weight_decay=0.1))]:
        params = [ag.tensor(w, requires_grad=True) for w in weights]
        arrays = [p.data for p in params]
        opt = getattr(optim, name)(params, **kwargs)
        for _ in range(3):
            opt.zero_grad()
            _loss(params, ag.tensor(x), ag.tensor(y)).backward()
            opt.step()
        assert all(p.data is a for p, a in zip(params, arrays)), name
        assert all(p.data.dtype == np.float32 for p in params), name
        assert all(p._version == 3 for p in params), name
        for state in opt.state.values():
            for k, v in state.items():
                assert v.data.dtype == np.float32, (name, k)
        # close to PyTorch in float32 (rounding differs over 3 steps: ~1e-7 relative)
        theirs, _ = _run_torch(name, kwargs, weights, x, y, steps=3)
        assert _max_diff(params, theirs) < 1e-5, name


def test_zero_grad_set_to_none_both_ways():
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and np.all(grad.data == 0) and grad.data.dtype == np.float32
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad.data, [2.0, 4.0])
    opt.zero_grad()
    assert p.grad is None
    opt.step()       # no gradient: nothing happens
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_closure_runs_with_grad_and_returns_loss():
    weights, x, y = _data()
    params = [ag.tensor(w, requires_grad=True) for w in weights]
    opt = optim.Adam(params, lr=0.01)
    calls = []

    def closure():
        opt.zero_grad()
        loss = _loss(params, ag.tensor(x), ag.tensor(y))
        calls.append(ag.is_grad_enabled())
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    expected = _loss([ag.tensor(w) for w in weights], ag.tensor(x), ag.tensor(y))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert ag.is_grad_enabled()


def test_add_param_group_and_errors():
    a = ag.tensor([1.0], requires_grad=True)
    b = ag.tensor([2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.Adam(a)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([a * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.Adam([{"params": {a}}])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([a], lr=-1.0)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([a], lr=0.1).load_state_dict(opt.state_dict())


def test_named_parameters_and_repr():
    a = ag.tensor([1.0], requires_grad=True)
    opt = optim.Adam([("w", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w"]
    assert opt.param_groups[0]["params"][0] is a
    assert "Adam (" in repr(opt) and "lr: 0.1" in repr(opt)


def test_functional_core_on_arrays():
    """adam_step updates plain arrays in place, as the class does."""
    from optim.functional import adam_step
    rng = np.random.default_rng(1)
    p, g = rng.normal(size=5), rng.normal(size=5)
    m, v = np.zeros(5), np.zeros(5)
    p0 = p.copy()
    adam_step(p, g, m, v, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    # first step: m_hat = g, v_hat = g^2, so the update is lr * sign(g) (up to eps)
    np.testing.assert_allclose(p, p0 - 0.1 * np.sign(g), rtol=1e-6)
    np.testing.assert_allclose(m, 0.1 * g)
    np.testing.assert_allclose(v, 0.001 * g * g)


def test_nn_parameter_if_available():
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "Parameter"):
        pytest.skip("nn.Parameter not available yet")
    w = nn.Parameter(ag.tensor([1.0, -2.0]))
    opt = optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, [0.0, 0.0])
    assert isinstance(w, nn.Parameter)

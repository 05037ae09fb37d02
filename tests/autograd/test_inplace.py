"""In-place ops while recording, against PyTorch: every in-place variant with a Tensor that
requires grad on either side (an op that saves its input runs on a copy of it, as PyTorch
saves the original self), and chains of them; the gradients of x and of the other operand."""
import numpy as np
import pytest
import torch

import autograd as ag

RNG = np.random.default_rng(0)
BASE = RNG.uniform(0.2, 0.8, (3, 4))
OTHER = RNG.uniform(0.3, 0.9, (3, 4))


def _grads(lib, name, args, other_is_tensor):
    """x -> h = x * 1; h.<name>_(*args); d sum(h * h) / d (x, other)."""
    make = ag.tensor if lib is ag else torch.tensor
    x = make(BASE, requires_grad=True)
    other = make(OTHER, requires_grad=True) if other_is_tensor else 0.7
    h = x * 1.0
    getattr(h, name + "_")(*[other if a == "other" else a for a in args])
    inputs = [x, other] if other_is_tensor else [x]
    grads = (ag.grad if lib is ag else torch.autograd.grad)((h * h).sum(), inputs)
    return [np.asarray(g.data) if lib is ag else g.numpy() for g in grads]


CASES = [  # (method, arguments: "other" is the second operand)
    ("add", ("other",)), ("sub", ("other",)), ("mul", ("other",)), ("div", ("other",)),
    ("pow", ("other",)), ("remainder", ("other",)), ("fmod", ("other",)),
    ("atan2", ("other",)), ("lerp", ("other", 0.3)), ("copy", ("other",)),
]


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_inplace_with_a_tensor_operand_that_requires_grad(name, args):
    for ours, want in zip(_grads(ag, name, args, True), _grads(torch, name, args, True)):
        np.testing.assert_allclose(ours, want, rtol=1e-12)


@pytest.mark.parametrize("name,args", [
    ("mul", ("other",)), ("div", ("other",)), ("pow", ("other",)), ("pow", (3,)),
    ("remainder", ("other",)), ("fmod", ("other",)), ("cumprod", (1,)), ("cumsum", (0,)),
    ("exp", ()), ("log", ()), ("sqrt", ()), ("square", ()), ("sigmoid", ()), ("tanh", ()),
    ("clamp", (0.3, 0.6)), ("relu", ()),
], ids=lambda v: str(v))
def test_inplace_with_a_number_operand(name, args):
    (ours,), (want,) = _grads(ag, name, args, False), _grads(torch, name, args, False)
    np.testing.assert_allclose(ours, want, rtol=1e-12)


def test_operators_in_place_chain():
    grads = []
    for lib in (ag, torch):
        make = ag.tensor if lib is ag else torch.tensor
        x, o = make(BASE, requires_grad=True), make(OTHER, requires_grad=True)
        h = x * 2.0
        h *= o
        h /= o + 1.0
        h **= 2
        h %= 0.7
        h += x
        found = (ag.grad if lib is ag else torch.autograd.grad)(h.sum(), [x, o])
        grads.append([np.asarray(g.data) if lib is ag else g.numpy() for g in found])
    for ours, want in zip(*grads):
        np.testing.assert_allclose(ours, want, rtol=1e-12)


def test_inplace_after_the_saved_input_changed_still_raises():
    # the copy is taken when the in-place op runs: a later write to the tensor that an
    # earlier op saved is still caught
    x = ag.tensor(BASE, requires_grad=True)
    h = x * 1.0
    y = h * h                                  # saves h
    h.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# -- views of a base written in place ------------------------------------------------------
def _view_case(lib, case):
    """The leaf gradients (and the view's requires_grad) of one case, in lib."""
    make = ag.tensor if lib is ag else torch.tensor
    zeros = ag.zeros if lib is ag else torch.zeros
    w = make([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    h = w * 1.0
    if case == "slice_then_mul":
        v = h[0:2]
        h.mul_(3.0)
    elif case == "reshape_then_setitem":
        v = h.reshape(2, 3)
        h[0] = 10.0
    elif case == "view_of_view":
        v = h[1:].reshape(5)[0:2]
        h.mul_(w)
    elif case == "two_writes":
        v = h.unsqueeze(0)[0, 3:]
        h.add_(w)
        h.mul_(2.0)
    elif case == "buffer_gets_history":
        buf = zeros(6, dtype=w.dtype)
        v = buf[0:4]
        buf[2:] = w[:4] * 3.0
    grad_required = v.requires_grad
    (v * v).sum().backward()
    return grad_required, np.asarray(w.grad.data if lib is ag else w.grad.numpy())


@pytest.mark.parametrize("case", ["slice_then_mul", "reshape_then_setitem", "view_of_view",
                                  "two_writes", "buffer_gets_history"])
def test_view_follows_in_place_writes_to_its_base(case):
    # the view's values change with its base; so must its gradient (PyTorch re-derives the
    # view from the base): no stale path through the base's history before the write
    (ours_required, ours), (want_required, want) = _view_case(ag, case), _view_case(torch, case)
    assert ours_required == want_required
    np.testing.assert_allclose(ours, want, rtol=1e-12)


def test_views_of_parameters_are_not_registered():
    # a leaf that requires grad is never written in place while recording: its views (one
    # per step, e.g. w.T) are not kept in a registry that would grow
    w = ag.tensor(BASE, requires_grad=True)
    for _ in range(3):
        w.T.sum()
    assert not w.__dict__.get("_views")
    h = w * 1.0
    v = h[0]
    assert [ref() for ref in h._views] == [v]
    del v
    assert [ref() for ref in h._views] == [None]     # the registry holds its views weakly
    for _ in range(200):
        h.reshape(-1)
    assert len(h._views) < 130                       # and drops the dead as it grows


# -- in-place on a view while recording (the write goes into its base) --------------------
def _write_case(lib, case):
    make = ag.tensor if lib is ag else torch.tensor
    w = make(np.arange(1.0, 7.0), requires_grad=True)              # float64
    o = make(np.array([0.5, 1.5]), requires_grad=True)
    h = w * 1.0
    if case == "slice_mul":
        v = h[0:2]
        v.mul_(o)
        loss = (h * h).sum() + (v * v).sum()
    elif case == "augmented_slice":                    # h[1:3] += o: getitem, iadd, setitem
        h[1:3] += o
        loss = (h * h).sum()
    elif case == "column_of_reshape":
        v = h.reshape(2, 3)
        v[:, 0] *= o
        loss = (h * w).sum() + (v * v).sum()
    elif case == "view_of_view":
        v = h[2:]
        v[1:3].mul_(o)
        loss = (h * h).sum() + (v * v).sum()
    elif case == "transposed_row":
        v = h.reshape(3, 2).t()
        v[0].add_(o[0] * o[1])
        loss = (h ** 3).sum()
    elif case == "unary_on_view":
        v = h[3:]
        v.clamp_(max=4.5)
        v.tanh_()
        loss = (h * o[1]).sum()
    found = (ag.grad if lib is ag else torch.autograd.grad)(loss, [w, o])
    return [np.asarray(g.data) if lib is ag else g.numpy() for g in found]


@pytest.mark.parametrize("case", ["slice_mul", "augmented_slice", "column_of_reshape",
                                  "view_of_view", "transposed_row", "unary_on_view"])
def test_inplace_on_a_view_writes_through_its_base(case):
    for ours, want in zip(_write_case(ag, case), _write_case(torch, case)):
        np.testing.assert_allclose(ours, want, rtol=1e-12)


def test_write_through_a_view_has_second_derivatives():
    w = ag.tensor(BASE, dtype=ag.float64, requires_grad=True)

    def f(w):
        h = w * w
        h[1:, ::2] *= w[0, :2]
        return h
    assert ag.autograd.gradgradcheck(f, [w])


def test_inplace_on_views_that_cannot_take_it_raises():
    w = ag.tensor(BASE, requires_grad=True)
    with pytest.raises(RuntimeError, match="view .* of a leaf Tensor that requires grad"):
        w[0].mul_(2.0)
    h = w * 1.0
    with ag.no_grad():
        v = h[0]
    with pytest.raises(RuntimeError, match="made in no_grad mode"):
        v.mul_(w[0])
    with pytest.raises(RuntimeError, match="read-only"):
        h[0].expand(2, 4).mul_(2.0)


# -- found by a differential fuzzer (PyTorch's results) -------------------------------------
def _both(program):
    """program(lib, make) -> a list of tensors, run by ours and by PyTorch (float64)."""
    ours = program(ag, lambda v, **kw: ag.tensor(np.asarray(v, np.float64), **kw))
    theirs = program(torch, lambda v, **kw: torch.tensor(np.asarray(v, np.float64), **kw))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a.data), b.detach().numpy(), rtol=1e-12)


def _grad(lib, out, inputs):
    return (ag.grad if lib is ag else torch.autograd.grad)(out, inputs)


def test_zero_d_base_written_through_a_view_used_twice():
    # the engine summed two 0-d gradients into a numpy scalar (not an array)
    def program(lib, make):
        w = make([1.0, 2.0], requires_grad=True)
        h = w[0] * 1.0
        h.unsqueeze(0).mul_(3.0)
        return list(_grad(lib, h + h, [w]))
    _both(program)


def test_unbind_of_a_1d_tensor_gives_views():
    def program(lib, make):
        b = make([0.0, 0.0, 0.0])
        u = b.unbind(0)[1]
        b.add_(1.0)
        b.unbind(0)[2].add_(1.0)
        return [b, u]
    _both(program)


def test_advanced_index_write_into_a_non_contiguous_tensor():
    def program(lib, make):
        b = make(np.zeros((2, 2)))
        b.t()[[0]] = 1.0
        c = make(np.zeros((2, 3)))
        c.t()[[1, 2], [0, 1]] += 2.0
        return [b, c]
    _both(program)


def test_zero_d_gradient_keeps_its_dtype_through_unbind():
    def program(lib, make):
        w = make([0.319, 2.0], requires_grad=True)
        t = w[0:1].unbind(0)[0]
        return list(_grad(lib, t * 0.1 + t, [w]))
    _both(program)

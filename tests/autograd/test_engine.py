"""The tape and the backward engine: accumulation, retain_graph, versions, modes, hooks."""
import gc
import sys
import weakref

import numpy as np
import pytest
import torch

import autograd as ag
from autograd.ops.embedding import embedding_lookup
from autograd.ops.loss import cross_entropy_nd, nll_loss_nd
from autograd.viz._graph import held_arrays


def leaf(*values, dtype=ag.float64):
    return ag.tensor(list(values), dtype=dtype, requires_grad=True)


def test_diamond_sums_both_paths():
    x = leaf(1.0, 2.0, 3.0)
    y = x * 2.0
    z = y * y + y            # y used twice
    z.sum().backward()
    # dz/dx = (2y + 1) * 2
    np.testing.assert_allclose(x.grad.data, (2 * x.data * 2 + 1) * 2)


def test_gradients_accumulate_across_backward_calls():
    x = leaf(1.0, 2.0)
    (x * 3.0).sum().backward()
    first = x.grad
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3.0 + 2 * x.data)
    assert x.grad is first   # accumulated in place, as in PyTorch


def test_grads_of_two_leaves_never_alias():
    a, b = leaf(1.0, 2.0), leaf(3.0, 4.0)
    (a + b).sum().backward()
    a.grad.data *= 10          # e.g. in-place clipping of one gradient
    np.testing.assert_allclose(b.grad.data, [1.0, 1.0])


def test_user_gradient_is_not_aliased_by_leaf_grad():
    x = leaf(1.0, 2.0)
    g = ag.tensor([5.0, 6.0], dtype=ag.float64)
    (x + 0.0).backward(g)
    x.grad.data[0] = -1
    assert g.data[0] == 5.0


def test_non_scalar_backward_needs_gradient():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (x * 2.0).backward()


def test_backward_of_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor([1.0]).sum().backward()


def test_second_backward_needs_retain_graph():
    x = leaf(1.0, 2.0)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(1.0, 2.0)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data)


def test_grad_returns_without_touching_dot_grad():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    gx, = ag.grad((x * w).sum(), [x])
    np.testing.assert_allclose(gx.data, w.data)
    assert x.grad is None and w.grad is None


def test_grad_allow_unused():
    x, unused = leaf(1.0), leaf(2.0)
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ag.grad(y, [x, unused], retain_graph=True)
    gx, gu = ag.grad(y, [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_with_respect_to_non_leaf():
    x = leaf(1.0, 2.0)
    h = x * 3.0
    y = (h * h).sum()
    gh, = ag.grad(y, [h])
    np.testing.assert_allclose(gh.data, 2 * h.data)


def test_backward_inputs_accumulates_only_there():
    x, w = leaf(1.0, 2.0), leaf(3.0, 4.0)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.data, x.data)


def test_inplace_on_saved_tensor_raises_with_versions():
    x = leaf(1.0, 2.0)
    h = x * 1.0
    y = h * h                  # Mul saves h at version 0
    h.mul_(2.0)                # version 1
    with pytest.raises(RuntimeError, match=r"MulBackward.*version 0.*version 1"):
        y.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad"):
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad"):
        x += 1.0
    with ag.no_grad():
        x.add_(1.0)            # allowed without recording, as in PyTorch
    np.testing.assert_allclose(x.data, [2.0, 3.0])
    assert x._version == 1


def test_inplace_records_gradient_like_torch():
    x = leaf(1.0, 2.0, 3.0)
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    for a in (x, tx):
        h = a * 2.0
        h.add_(a)
        h.mul_(3.0)
        h.sub_(1.0)
        h.div_(2.0)
        h.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_inplace_bumps_version_and_shares_with_views():
    x = ag.zeros(4)
    v = x.reshape(2, 2)
    assert x._version == 0
    x.add_(1.0)
    assert x._version == 1 and v._version == 1
    d = x.detach()
    d.mul_(2.0)
    assert x._version == 2
    np.testing.assert_allclose(x.data, [2.0] * 4)


def test_inplace_on_view_while_recording_writes_through_the_base():
    # (tests/autograd/test_inplace.py has the cases against PyTorch)
    w = leaf(1.0, 2.0, 3.0, 4.0)
    h = w * 1.0
    h.reshape(2, 2).mul_(2.0)
    h.sum().backward()
    np.testing.assert_allclose(w.grad.data, [2.0] * 4)


def test_inplace_dtype_and_shape_errors():
    x = ag.zeros(3, dtype=ag.int64)
    with pytest.raises(RuntimeError, match="add_.*can't be cast"):
        x.add_(1.5)
    y = ag.zeros(3)
    with pytest.raises(RuntimeError, match=r"add_.*\(3,\).*\(2, 3\)"):
        y.add_(ag.ones(2, 3))


def test_no_grad_context_and_decorator():
    x = leaf(1.0)
    with ag.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.grad_fn is None

    @ag.no_grad()
    def f(t):
        return t * 2.0
    assert not f(x).requires_grad
    assert ag.is_grad_enabled()


def test_enable_grad_inside_no_grad_and_set_grad_enabled():
    x = leaf(1.0)
    with ag.no_grad():
        with ag.enable_grad():
            assert (x * 2.0).requires_grad
        assert not (x * 2.0).requires_grad
    with ag.set_grad_enabled(False):
        assert not (x * 2.0).requires_grad
    assert ag.is_grad_enabled()
    ag.set_grad_enabled(False)
    assert not ag.is_grad_enabled()
    ag.set_grad_enabled(True)
    assert ag.is_grad_enabled()


@pytest.mark.parametrize("mode, outer", [
    ("no_grad", True), ("no_grad()", True), ("enable_grad", False), ("enable_grad()", False),
    ("set_grad_enabled(False)", True), ("set_grad_enabled(True)", False),
])
def test_grad_mode_decorators_bare_and_on_generators_like_torch(mode, outer):
    def modes(lib):
        decorate = eval("lib." + mode)                  # e.g. lib.no_grad or lib.no_grad()

        @decorate
        def plain():
            return lib.is_grad_enabled()

        @decorate
        def gen():
            sent = yield lib.is_grad_enabled()
            yield sent, lib.is_grad_enabled()
            try:
                yield "wait"
            except ValueError:
                yield "thrown", lib.is_grad_enabled()

        seen = [plain.__name__, plain(), lib.is_grad_enabled()]
        it = gen()
        seen += [next(it), lib.is_grad_enabled(), it.send("x"), next(it),
                 it.throw(ValueError), lib.is_grad_enabled()]
        it.close()
        return seen + [lib.is_grad_enabled()]

    for lib in (ag, torch):
        lib.set_grad_enabled(outer)
        try:
            got = modes(lib)
        finally:
            lib.set_grad_enabled(True)
        if lib is ag:
            ours = got
    assert ours == got


def test_bare_no_grad_rejects_a_non_function():
    with pytest.raises(TypeError, match="no_grad: takes no arguments.*got int"):
        ag.no_grad(3)


def test_leaf_hook_sees_summed_gradient_and_can_replace_it():
    x = leaf(1.0, 2.0)
    seen = []

    def hook(g):
        seen.append(g.data.copy())
        return g * 10.0
    handle = x.register_hook(hook)
    (x * 2.0 + x).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.data, [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])


def test_non_leaf_hook_and_retain_grad():
    x = leaf(1.0, 2.0)
    h = x * 3.0
    h.retain_grad()
    h.register_hook(lambda g: g * 2.0)
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * 2 * h.data)   # hook ran before retain
    np.testing.assert_allclose(x.grad.data, 2 * 2 * h.data * 3.0)


def test_detach_cuts_the_graph():
    x = leaf(1.0, 2.0)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad.data, d.data)


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        ctx.save_for_backward(x)
        return x.data ** 3 * scale

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3.0 * ctx.scale * x * x, None


class SplitSignOutputs(ag.Function):
    """Two outputs; saves an output Tensor; uses needs_input_grad."""

    @staticmethod
    def forward(ctx, x, y):
        out = ag.tensor(x.data * y.data)
        ctx.save_for_backward(out, y)
        return out, x * 1.0

    @staticmethod
    def backward(ctx, g_prod, g_copy):
        out, y = ctx.saved_tensors
        gx = g_prod * y + g_copy if ctx.needs_input_grad[0] else None
        gy = g_prod * out / y if ctx.needs_input_grad[1] else None
        return gx, gy


class SeesNeeds(ag.Function):
    @staticmethod
    def forward(ctx, x, y, scale):
        ctx.seen = ctx.needs_input_grad
        SeesNeeds.last = ctx.needs_input_grad
        return x.data * y.data * scale

    @staticmethod
    def backward(ctx, g):
        return g, g, None


def test_needs_input_grad_has_one_entry_per_input():
    x, y = leaf(1.0, 2.0), ag.ones(2)
    SeesNeeds.apply(x, y, 2.0)
    assert SeesNeeds.last == (True, False, False)
    with ag.no_grad():
        SeesNeeds.apply(x, y, 2.0)
    assert SeesNeeds.last == (False, False, False)     # PyTorch: one False per input


def test_custom_function():
    x = leaf(1.0, 2.0)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6.0 * x.data ** 2)
    assert ag.autograd.gradcheck(lambda t: Cube.apply(t, 0.5), [leaf(0.3, -1.2)])


def test_custom_function_two_outputs_and_saved_output():
    x, y = leaf(1.0, 2.0), ag.tensor([3.0, 4.0], dtype=ag.float64)
    prod, copy = SplitSignOutputs.apply(x, y)
    (prod * 2.0 + copy).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2.0 * y.data + 1.0)
    # only one output used: the other gets zeros (materialised)
    x.grad = None
    prod, _ = SplitSignOutputs.apply(x, y)
    prod.sum().backward()
    np.testing.assert_allclose(x.grad.data, y.data)


def _returning(*grads):
    """A custom Function y = x * w whose backward returns `grads` (callables of g, or None)."""
    class Scale(ag.Function):
        @staticmethod
        def forward(ctx, x, w):
            return x.data * w.data

        @staticmethod
        def backward(ctx, g):
            return tuple(None if f is None else f(g) for f in grads)
    return Scale


@pytest.mark.parametrize("grads, w_grad, message", [
    ((lambda g: g, lambda g: g, lambda g: g), False, r"expected 2, got 3"),
    ((lambda g: g, None, lambda g: g), False, r"expected 2, got 3"),
    ((lambda g: g,), True, r"expected 2, got 1"),
], ids=["extra_gradient", "extra_after_none", "missing_needed"])
def test_custom_function_wrong_number_of_gradients_raises_like_torch(grads, w_grad, message):
    x = leaf(1.0, 2.0)
    w = ag.tensor([3.0, 4.0], dtype=ag.float64, requires_grad=w_grad)
    y = _returning(*grads).apply(x, w)
    with pytest.raises(RuntimeError, match=rf"function ScaleBackward returned an incorrect "
                                           rf"number of gradients \({message}\)"):
        y.sum().backward()


@pytest.mark.parametrize("grads", [
    (lambda g: g, None, None),      # trailing Nones beyond the inputs: accepted, as in torch
    (lambda g: g,),                 # none for an input needing none (torch raises; ops
                                    # such as add(a, b, alpha) rely on this leniency)
], ids=["trailing_nones", "missing_unneeded"])
def test_custom_function_tolerated_gradient_counts(grads):
    x = leaf(1.0, 2.0)
    w = ag.tensor([3.0, 4.0], dtype=ag.float64)
    _returning(*grads).apply(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0])


@pytest.mark.parametrize("on_leaf", [True, False], ids=["leaf", "non_leaf"])
@pytest.mark.parametrize("shape", [(3,), (1,), (2, 2), ()], ids=str)
def test_hook_changing_the_gradient_shape_raises_like_torch(on_leaf, shape):
    for lib in (ag, torch):
        x = lib.ones(2, dtype=lib.float64, requires_grad=True)
        t = x if on_leaf else x * 2.0
        t.register_hook(lambda g, lib=lib: lib.ones(shape, dtype=lib.float64))
        with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
            (t * 2.0).sum().backward()
        assert x.grad is None


class SquareOnArrays(ag.Function):
    """y = x**2 with 2x kept as a private array (save_arrays), as fused kernels do."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_arrays(2.0 * x.data)
        return x.data ** 2

    @staticmethod
    def backward(ctx, g):
        twice_x, = ctx.saved_arrays
        return ag.tensor(g.data * twice_x)


def test_saved_arrays_are_returned_as_arrays_and_freed_after_backward():
    x = leaf(1.5, -2.0)
    y = SquareOnArrays.apply(x)
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, [3.0, -4.0])
    assert isinstance(y.grad_fn.saved_arrays[0], np.ndarray)
    y.sum().backward()                                  # the retained graph runs again
    np.testing.assert_allclose(x.grad.data, [6.0, -8.0])
    assert y.grad_fn._arrays is None                    # freed with the saved tensors
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    with ag.no_grad():                                  # off the tape: nothing is kept
        assert SquareOnArrays.apply(x).grad_fn is None


def _index(*rows):
    return ag.tensor(list(rows))


INDEX_KEEPING = [   # (id, f(x) for x: (3, 4)): ops whose backward needs index arrays
    ("sort", lambda x: x.sort(1).values),
    ("topk", lambda x: x.topk(2, 0).values),
    ("gather", lambda x: x.gather(1, _index([0, 2], [1, 1], [3, 0]))),
    ("take_along_dim", lambda x: ag.take_along_dim(x, _index([0], [2], [1]), 1)),
    ("index_select", lambda x: x.index_select(1, _index(3, 0, 3))),
    ("index_add", lambda x: ag.index_add(x, 1, _index(3, 0), x[:, :2] * 2.0)),
    ("scatter_repeated", lambda x: ag.scatter(x, 1, _index([0, 0], [1, 2], [3, 3]), x * 2.0)),
    ("scatter_add", lambda x: ag.scatter_add(x, 1, _index([0, 0], [1, 2], [3, 3]), x * 2.0)),
    ("max_dim", lambda x: x.max(1).values),
    ("min_dim", lambda x: x.min(0).values),
    ("embedding", lambda x: embedding_lookup(x, np.array([[0, 2], [2, 1]]), padding_idx=1)),
    ("nll_loss", lambda x: nll_loss_nd(x, _index(0, 3, 1))),
    ("cross_entropy_rows", lambda x: cross_entropy_nd(x, _index(0, 3, 1), label_smoothing=0.1)),
    ("cross_entropy_nd", lambda x: cross_entropy_nd(x.reshape(3, 4, 1), _index([0], [3], [1]))),
]


@pytest.mark.parametrize("name,f", INDEX_KEEPING, ids=[c[0] for c in INDEX_KEEPING])
def test_saved_index_arrays_are_freed_after_backward(name, f):
    x = ag.tensor(np.arange(12.0).reshape(3, 4) % 5 / 4, dtype=ag.float64, requires_grad=True)
    y = f(x)
    node = y.grad_fn
    assert held_arrays(node)                            # the index arrays, kept for backward
    y.sum().backward(retain_graph=True)
    first = x.grad.data.copy()
    y.sum().backward()                                  # the retained graph runs again
    np.testing.assert_allclose(x.grad.data, 2 * first)
    assert held_arrays(node) == [] and node._arrays is None     # freed with the saved tensors
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_saved_output_does_not_form_a_reference_cycle():
    gc.disable()
    try:
        x = leaf(1.0, 2.0)
        y = ag.tensor([3.0, 4.0], dtype=ag.float64, requires_grad=True)
        prod, _ = SplitSignOutputs.apply(x, y)
        ref = weakref.ref(prod.grad_fn)
        del prod, _
        assert ref() is None
    finally:
        gc.enable()


def test_second_order():
    x = leaf(0.5, -1.5)
    y = (x ** 3).sum()
    g, = ag.grad(y, [x], create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    g2, = ag.grad(g.sum(), [x])
    np.testing.assert_allclose(g2.data, 6 * x.data)


def test_create_graph_backward_leaves_differentiable_grad():
    x = leaf(2.0)
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gg, = ag.grad(x.grad.sum(), [x])
    assert gg.item() == pytest.approx(12.0)


def test_deep_chain_of_100k_ops_at_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10000
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0
    del y   # freeing the 100k-node chain must not recurse either


def test_graph_freed_when_output_deleted_without_gc():
    gc.disable()
    try:
        x = leaf(1.0, 2.0)
        y = x
        for _ in range(1000):
            y = y * 1.0 + x
        loss = y.sum()
        refs = [weakref.ref(loss.grad_fn), weakref.ref(y.grad_fn)]
        node = y.grad_fn
        for _ in range(500):
            node = node.edges[0][0]
        refs.append(weakref.ref(node))
        del node, y, loss
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_graph_freed_after_backward_and_delete():
    gc.disable()
    try:
        x = leaf(1.0, 2.0)
        loss = (x * x).sum()
        ref = weakref.ref(loss.grad_fn)
        loss.backward()
        del loss
        assert ref() is None
    finally:
        gc.enable()


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        ag.tensor([1, 2], requires_grad=True)
    t = ag.tensor([1, 2])
    with pytest.raises(RuntimeError, match="int64"):
        t.requires_grad_()


def test_float32_stays_float32():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.5 + 1 - x / 3.0) ** 2
    assert y.dtype == ag.float32
    y.sum().backward()
    assert x.grad.dtype == ag.float32


def test_requires_grad_cannot_be_cleared_on_non_leaf():
    y = leaf(1.0) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_detect_anomaly_names_op_and_forward_line():
    x = leaf(0.0, 1.0)
    with ag.autograd.detect_anomaly():
        y = (x ** 0.5).sum()   # d sqrt at 0 = inf
        with pytest.raises(RuntimeError, match=r"PowScalarBackward.*(inf|nan)[\s\S]*x \*\* 0.5"):
            y.backward()


def test_detect_anomaly_off_by_default():
    x = leaf(0.0, 1.0)
    (x ** 0.5).sum().backward()
    assert np.isinf(x.grad.data[0])


def test_numpy_conversion_rules():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 2.0]
    assert ag.tensor(3.5).item() == 3.5


def test_repr_like_torch():
    assert repr(ag.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ag.tensor([1, 2])) == "tensor([1, 2])"
    assert "requires_grad=True" in repr(ag.tensor([1.0], requires_grad=True))
    assert "dtype=float64" in repr(ag.tensor([1.0], dtype=ag.float64))
    assert "grad_fn=<MulBackward>" in repr(leaf(1.0) * 2.0)


def test_setitem_off_the_tape_writes_in_place_and_bumps_version():
    buf = ag.zeros(3, 2)
    view = buf[1]
    buf[1] = ag.tensor([5.0, 6.0])
    assert buf._version == 1 and view._version == 1
    np.testing.assert_allclose(view.data, [5.0, 6.0])
    w = leaf(1.0, 2.0)
    with ag.no_grad():
        w[0] = 9.0                       # allowed without recording, as in PyTorch
    assert w.data[0] == 9.0
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad"):
        w[0] = 1.0


def test_setitem_on_the_tape_matches_torch():
    x = leaf(1.0, 2.0, 3.0)
    v = leaf(10.0)
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    tv = torch.tensor([10.0], dtype=torch.float64, requires_grad=True)
    for a, b in ((x, v), (tx, tv)):
        h = a * 2.0
        h[1] = b[0] * 3.0
        (h * h).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    np.testing.assert_allclose(v.grad.data, tv.grad.numpy())


class ExpSavingOutput(ag.Function):
    @staticmethod
    def forward(ctx, x):
        y = np.exp(x.data)          # a numpy scalar for a 0-d input
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y                # d exp = exp


@pytest.mark.parametrize("shape", [(), (3,)])
def test_saved_output_is_differentiable_for_0d_and_nd(shape):
    x = ag.tensor(np.full(shape, 0.5), dtype=ag.float64, requires_grad=True)
    g, = ag.grad(ExpSavingOutput.apply(x).sum(), [x], create_graph=True)
    gg, = ag.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.data, np.exp(0.5) * np.ones(shape))


def test_non_differentiable_inplace_result_has_zero_gradient():
    x = leaf(1.0, 2.0)
    h = x * 1.0
    h.eq_(2.0)                       # as PyTorch's EqBackward: the gradient stops here
    (h * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])

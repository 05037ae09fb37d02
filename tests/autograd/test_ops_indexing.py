"""Indexing primitives against PyTorch: one line per case.

Cases PyTorch cannot express (negative slice steps, last-write-wins gradients of repeated
writes) are compared with an equivalent PyTorch expression or a numpy-made expectation.
"""
import numpy as np
import pytest
import torch

import autograd as ag
from tests.helpers import check_op

T, F = True, False
MASK34 = np.array([[T, F, T, F], [F, F, F, F], [T, T, F, T]])


def _gradgrad(func, inputs):
    assert ag.autograd.gradgradcheck(func, inputs)


def _torch_index(index):
    """The same index for PyTorch: arrays and lists become tensors."""
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    if isinstance(index, (np.ndarray, list)):
        return torch.as_tensor(np.asarray(index))
    return index


# (id, input shape, index): x[index] in both libraries
GETITEM = [
    ("int", (3, 4), 1),
    ("neg_int", (3, 4), -1),
    ("ints_0d", (3, 4), (1, -2)),
    ("slice", (5, 4), slice(1, 4)),
    ("slice_step", (5, 4), (slice(None), slice(None, None, 2))),
    ("slice_neg_bounds", (5, 4), (slice(-3, -1), slice(-10, 10))),
    ("none", (3, 4), (None, 1, None)),
    ("ellipsis", (2, 3, 4), (Ellipsis, 1)),
    ("ellipsis_none", (2, 3, 4), (0, Ellipsis, None)),
    ("ellipsis_0d", (2, 3), (Ellipsis, 1, 2)),
    ("size0_slice", (3, 4), slice(2, 2)),
    ("size0_input", (0, 4), (slice(None), 1)),
    ("0d_none", (), None),
    ("0d_ellipsis", (), Ellipsis),
    ("mask_full", (3, 4), MASK34),
    ("mask_rows", (3, 4), np.array([T, F, T])),
    ("mask_none_true", (3, 4), np.array([F, F, F])),
    ("mask_then_slice", (3, 4, 2), (MASK34, slice(None, 1))),
    ("slice_then_mask", (2, 3, 4), (slice(None), MASK34)),
    ("array_repeat", (4, 3), np.array([0, 2, 0, -1, 0])),
    ("array_2d", (4, 3), np.array([[0, 1], [3, 3]])),
    ("array_empty", (4, 3), np.array([], np.int64)),
    ("list", (4, 3), [0, 2, 2]),
    ("two_arrays", (4, 3), (np.array([0, 3, 0]), np.array([1, 2, 1]))),
    ("arrays_broadcast", (4, 3), (np.array([[0], [3]]), np.array([1, 2, 1]))),
    ("slice_array", (4, 3, 2), (slice(1, None), np.array([2, 0, 2]))),
    ("separated_arrays", (2, 3, 4), (np.array([0, 1, 1]), slice(None), np.array([3, 0, 3]))),
    ("array_none_array", (2, 3, 4), (np.array([0, 1]), None, np.array([0, 1]))),
    ("int_slice_array", (2, 3, 4), (0, slice(None), np.array([0, 1, 1]))),
    ("array_int_array", (2, 3, 4), (np.array([1]), 1, np.array([2]))),
    ("int_none_array", (2, 3, 4), (0, None, np.array([0, 1]))),
    ("array_ellipsis", (2, 3, 4), (np.array([1, 0]), Ellipsis, np.array([0, 3]))),
    ("slice_array_int", (2, 3, 4), (slice(None), np.array([0, 2]), 0)),
    ("mask_and_array", (3, 4, 2), (MASK34, np.array([1, 0, 1, 1, 0]))),
    ("int_then_mask", (2, 3, 4), (1, None, MASK34)),
    ("true_int_array", (2, 3, 4), (True, 1, [0, 2])),
    ("ellipsis_int_array", (2, 3, 4), (Ellipsis, 1, [0, 1])),
    ("array_ellipsis_int_array", (2, 3, 4), ([1], Ellipsis, 1, [[0], [2]])),
    ("array_none_int", (2, 3, 4), (slice(None), [0, 1], None, 1)),
]


@pytest.mark.parametrize("shape,index", [c[1:] for c in GETITEM], ids=[c[0] for c in GETITEM])
def test_getitem(shape, index):
    tindex = _torch_index(index)
    check_op(lambda x: x[index], lambda x: x[tindex], [shape])


# negative steps (PyTorch forbids them): compare with flips / index arrays
NEG_STEP = [
    ("reverse", (5, 4), lambda x: x[::-1], lambda x: x.flip(0)),
    ("step_minus2", (5, 4), lambda x: x[::-2], lambda x: x.flip(0)[::2]),
    ("bounds", (5, 4), lambda x: x[3:0:-1, ::-1], lambda x: x[1:4].flip(0).flip(1)),
    ("int_none", (2, 5, 4), lambda x: x[1, 4:0:-2, None], lambda x: x[1, [4, 2], None]),
    ("empty", (5,), lambda x: x[1:3:-1], lambda x: x[0:0]),
    ("with_array", (5, 4), lambda x: x[::-1, [0, 0, 3]], lambda x: x.flip(0)[:, [0, 0, 3]]),
    ("ellipsis", (2, 3, 4), lambda x: x[..., ::-3], lambda x: x[..., [3, 0]]),
]


@pytest.mark.parametrize("shape,ours,ref", [c[1:] for c in NEG_STEP],
                         ids=[c[0] for c in NEG_STEP])
def test_getitem_negative_step(shape, ours, ref):
    check_op(ours, ref, [shape])


def test_getitem_negative_step_matches_numpy():
    a = np.arange(60.0).reshape(3, 4, 5)
    for index in [(slice(None, None, -1), 1), (Ellipsis, slice(4, None, -2)),
                  (slice(2, 0, -1), slice(None), np.array([4, 0, 4]))]:
        np.testing.assert_array_equal(ag.tensor(a)[index].data, a[index])


def test_getitem_index_tensors():
    check_op(lambda x: x[ag.tensor([0, 2, 2])], lambda x: x[torch.tensor([0, 2, 2])], [(3, 4)])
    check_op(lambda x: x[ag.tensor(MASK34)], lambda x: x[torch.tensor(MASK34)], [(3, 4)])
    check_op(lambda x: x[1:, ag.tensor(1)], lambda x: x[1:, torch.tensor(1)], [(3, 4)])
    check_op(lambda x, i: x[i, 1:], lambda x, i: x[i, 1:], gradcheck=True,
             make_inputs=lambda rng, dt: [rng.standard_normal((4, 3)), np.array([[3, 0], [3, 3]])])


def test_getitem_basic_is_view_advanced_copies():
    x = ag.arange(12.0).reshape(3, 4)
    v = x[1:, ::-2]
    assert np.shares_memory(v.data, x.data) and v._version == x._version
    assert not np.shares_memory(x[[0, 1]].data, x.data)
    assert not np.shares_memory(x[MASK34].data, x.data)
    v[0, 0] = 100.0                     # writes through to x and bumps the shared version
    assert x[1, 3].item() == 100.0 and x._version == 1
    assert x[0, 0].shape == () and isinstance(x[0, 0].data, np.ndarray)


def test_getitem_double_backward():
    x = ag.randn(4, 3, dtype=ag.float64, requires_grad=True)
    _gradgrad(lambda a: a[[0, 0, 3], 1:] ** 2, [x])
    _gradgrad(lambda a: a[::-1, None, 1] ** 2, [x])
    _gradgrad(lambda a: a[:3][ag.tensor(MASK34[:, :3])] ** 2, [x])


def test_getitem_errors_name_op_and_shape():
    x = ag.zeros(3, 4)
    with pytest.raises(IndexError, match=r"getitem.*5.*\(3, 4\)"):
        x[5]
    with pytest.raises(IndexError, match=r"getitem.*\(3, 4\)"):
        x[:, [0, 4]]
    with pytest.raises(IndexError, match=r"getitem.*\(3, 4\)"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"getitem.*\(3, 4\)"):
        x[np.array([T, F])]
    with pytest.raises(IndexError, match=r"getitem.*float"):
        x[ag.tensor([0.0, 1.0])]


def test_getitem_large_advanced_backward():
    # an embedding-style lookup: positions are computed without an arange of x's size
    w = ag.randn(70000, 3, requires_grad=True)
    idx = np.array([5, 5, 69999, 0])
    w[idx].sum().backward()
    assert w.grad[5, 0].item() == 2.0 and w.grad[69999, 2].item() == 1.0
    assert w.grad.data.sum() == 12.0


# -- __setitem__ / index_put -------------------------------------------------------------------
def _setitem(index, value_fn=None):
    """y = x * 1; y[index] = v: the gradients flow to x (unwritten part) and to v."""
    def run(x, *v):
        y = x * 1
        y[index] = v[0] if v else value_fn
        return y
    return run


SETITEM = [
    ("int", (3, 4), [(4,)], 0, 0),
    ("int_broadcast", (3, 4), [(1,)], -1, -1),
    ("slice", (5, 4), [(2, 4)], slice(1, 5, 2), slice(1, 5, 2)),
    ("extra_leading_ones", (3, 4), [(1, 1, 4)], 1, 1),
    ("ellipsis_none", (2, 3), [(2, 1)], (Ellipsis, None, 1), (Ellipsis, None, 1)),
    ("mask", (3, 4), [(5,)], MASK34, torch.tensor(MASK34)),
    ("mask_broadcast", (3, 4), [()], MASK34, torch.tensor(MASK34)),
    ("array_distinct", (4, 3), [(2, 3)], [3, 1], torch.tensor([3, 1])),
    ("arrays_2", (4, 3), [(3,)], ([0, 2, 3], [1, 1, 0]),
     (torch.tensor([0, 2, 3]), torch.tensor([1, 1, 0]))),
    ("int_and_array", (2, 3, 4), [(3, 2)], (0, slice(None), [0, 3]),
     (0, slice(None), torch.tensor([0, 3]))),
]


@pytest.mark.parametrize("shape,vshapes,index,tindex", [c[1:] for c in SETITEM],
                         ids=[c[0] for c in SETITEM])
def test_setitem_non_leaf(shape, vshapes, index, tindex):
    check_op(_setitem(index), _setitem(tindex), [shape] + vshapes)


def test_setitem_scalar_and_dtype_cast():
    check_op(_setitem((slice(1, None), 0), 5.0), _setitem((slice(1, None), 0), 5.0), [(3, 4)])
    # a float64 value written into a float32 tensor is cast (and its gradient cast back)
    check_op(lambda x, v: _setitem(1)(x, v.double()), lambda x, v: _setitem(1)(x, v.double()),
             [(3, 4), (4,)], dtypes=(np.float32,))


def test_setitem_into_constant_tensor():
    v = ag.randn(4, requires_grad=True)
    tv = torch.tensor(v.data, requires_grad=True)
    y, ty = ag.zeros(3, 4), torch.zeros(3, 4)
    y[1], ty[1] = v, tv
    assert y.grad_fn is not None
    (y * ag.arange(12.0).reshape(3, 4)).sum().backward()
    (ty * torch.arange(12.0).reshape(3, 4)).sum().backward()
    np.testing.assert_allclose(v.grad.data, tv.grad.numpy())


def test_setitem_leaf_requiring_grad_raises():
    x = ag.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0
    with ag.no_grad():
        x[0] = 1.0
    assert x[0].item() == 1.0


def test_setitem_repeated_indices_last_write_wins():
    # forward as numpy and PyTorch; the overwritten values get no gradient
    x = ag.zeros(5, requires_grad=True)
    v = ag.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    y[ag.tensor([0, 0, 1, 0])] = v
    np.testing.assert_array_equal(y.data, [4, 3, 0, 0, 0])
    g = ag.tensor([10.0, 20.0, 30.0, 40.0, 50.0])
    y.backward(g)
    np.testing.assert_array_equal(x.grad.data, [0, 0, 30, 40, 50])
    np.testing.assert_array_equal(v.grad.data, [0, 0, 20, 10])
    ag.autograd.gradcheck(lambda a, b: ag.index_put(a, [0, 0, 1, 0], b),
                          [ag.randn(5, dtype=ag.float64, requires_grad=True),
                           ag.randn(4, dtype=ag.float64, requires_grad=True)])


def _index_put_inputs(rng, dt):
    return [rng.standard_normal((4, 3)), np.array([0, 3, 0, 0]), rng.standard_normal((4, 3))]


def test_index_put_accumulate():
    check_op(lambda x, i, v: ag.index_put(x, (i,), v, accumulate=True),
             lambda x, i, v: torch.index_put(x, (i,), v, accumulate=True),
             make_inputs=_index_put_inputs)
    check_op(lambda x, i, v: ag.index_put(x, (i, i[:1]), v[:, 0], True),
             lambda x, i, v: torch.index_put(x, (i, i[:1]), v[:, 0], True),
             make_inputs=_index_put_inputs)


def test_index_put_inplace_and_double_backward():
    check_op(lambda x, v: (x * 1).index_put_((slice(1, 3), [0, 2]), v),
             lambda x, v: (x * 1).index_put_((torch.tensor([[1], [2]]), torch.tensor([0, 2])),
                                             v),
             [(3, 4), (2, 2)])
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    v = ag.randn(2, dtype=ag.float64, requires_grad=True)
    _gradgrad(lambda a, b: ag.index_put(a * a, (1, [0, 2]), b * b), [x, v])


def test_index_put_errors():
    with pytest.raises(RuntimeError, match=r"index_put.*\(3,\).*\(4,\)"):
        ag.zeros(3, 4)[0] = ag.ones(3)
    with pytest.raises(IndexError, match=r"index_put.*\(3, 4\)"):
        ag.zeros(3, 4)[[0, 3]] = 1.0


# -- index_select / index_add / gather / scatter / take -----------------------------------------
def _x_idx(shape, low, high, ishape):
    def make(rng, dt):
        return [rng.standard_normal(shape), rng.integers(low, high, ishape)]
    return make


def _x_idx_src(shape, ishape, sshape, dim, distinct=False):
    def make(rng, dt):
        n = shape[dim]
        if distinct:      # every target written once: scatter's winner is well defined
            idx = np.argsort(rng.random(ishape[:dim] + (n,) + ishape[dim + 1:]), axis=dim)
            idx = idx[tuple(slice(0, k) for k in ishape)]
        else:
            idx = rng.integers(0, n, ishape)
        return [rng.standard_normal(shape), idx, rng.standard_normal(sshape)]
    return make


def test_index_select():
    check_op(lambda x, i: ag.index_select(x, 1, i), lambda x, i: torch.index_select(x, 1, i),
             make_inputs=_x_idx((3, 4), 0, 4, (6,)))
    check_op(lambda x, i: x.index_select(-3, i), lambda x, i: x.index_select(-3, i),
             make_inputs=_x_idx((3, 2, 2), 0, 3, (0,)))
    check_op(lambda x, i: x.index_select(0, i), lambda x, i: x.index_select(0, i),
             make_inputs=_x_idx((3, 2), 0, 3, ()))


def test_index_add():
    make = _x_idx_src((5, 3), (4,), (4, 3), 0)
    check_op(lambda x, i, s: ag.index_add(x, 0, i, s), lambda x, i, s: torch.index_add(x, 0, i, s),
             make_inputs=make)
    check_op(lambda x, i, s: (x * 1).index_add_(0, i, s, alpha=-2.5),
             lambda x, i, s: (x * 1).index_add_(0, i, s, alpha=-2.5), make_inputs=make)
    check_op(lambda x, i, s: x.index_add(1, i, s), lambda x, i, s: x.index_add(1, i, s),
             make_inputs=_x_idx_src((2, 3), (5,), (2, 5), 1))


GATHER = [
    ("dim0", (3, 4), 0, (5, 4)),
    ("dim1", (3, 4), 1, (3, 6)),
    ("smaller_index", (3, 4), 0, (2, 3)),
    ("neg_dim_3d", (2, 3, 4), -2, (2, 5, 1)),
    ("empty_index", (3, 4), 1, (3, 0)),
    ("1d", (5,), 0, (7,)),
]


@pytest.mark.parametrize("shape,dim,ishape", [c[1:] for c in GATHER], ids=[c[0] for c in GATHER])
def test_gather(shape, dim, ishape):
    check_op(lambda x, i: ag.gather(x, dim, i), lambda x, i: torch.gather(x, dim, i),
             make_inputs=_x_idx(shape, 0, shape[dim], ishape))


def test_gather_0d_and_double_backward():
    check_op(lambda x, i: x.gather(0, i), lambda x, i: x.gather(0, i),
             make_inputs=lambda rng, dt: [rng.standard_normal(()), np.array(0)])
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    _gradgrad(lambda a: ag.gather(a, 1, ag.tensor([[0, 0], [3, 1], [2, 2]])) ** 2,
                              [x])


SCATTER = [   # (id, input shape, dim, index shape, src shape)
    ("dim0", (3, 4), 0, (2, 4), (2, 4)),
    ("dim1_larger_src", (3, 4), 1, (2, 3), (3, 5)),
    ("3d", (2, 3, 4), 2, (2, 2, 2), (2, 2, 3)),
    ("empty", (3, 4), 0, (0, 4), (1, 4)),
]


def _corner(i):
    return tuple(slice(0, n) for n in i.shape)


@pytest.mark.parametrize("shape,dim,ishape,sshape", [c[1:] for c in SCATTER],
                         ids=[c[0] for c in SCATTER])
def test_scatter(shape, dim, ishape, sshape):
    make = _x_idx_src(shape, ishape, sshape, dim, distinct=True)
    # PyTorch's backward fails for a src larger than index: its reference uses src's used corner
    check_op(lambda x, i, s: ag.scatter(x, dim, i, s),
             lambda x, i, s: torch.scatter(x, dim, i, s[_corner(i)]), make_inputs=make)


@pytest.mark.parametrize("shape,dim,ishape,sshape", [c[1:] for c in SCATTER],
                         ids=[c[0] for c in SCATTER])
def test_scatter_add(shape, dim, ishape, sshape):
    make = _x_idx_src(shape, ishape, sshape, dim)       # with repeated targets
    check_op(lambda x, i, s: ag.scatter_add(x, dim, i, s),
             lambda x, i, s: torch.scatter_add(x, dim, i, s[_corner(i)]), make_inputs=make)


def test_scatter_value_reduce_and_inplace():
    make = _x_idx_src((3, 4), (2, 4), (2, 4), 0, distinct=True)
    check_op(lambda x, i, s: ag.scatter(x, 0, i, value=2.5),
             lambda x, i, s: torch.scatter(x, 0, i, value=2.5), make_inputs=make)
    check_op(lambda x, i, s: x.scatter(0, i, -1.0), lambda x, i, s: x.scatter(0, i, -1.0),
             make_inputs=make)
    check_op(lambda x, i, s: (x * 1).scatter_(0, i, s), lambda x, i, s: (x * 1).scatter_(0, i, s),
             make_inputs=make)
    check_op(lambda x, i, s: (x * 1).scatter_add_(0, i, s),
             lambda x, i, s: (x * 1).scatter_add_(0, i, s), make_inputs=make)
    check_op(lambda x, i, s: x.scatter(0, i, s, reduce="add"),      # PyTorch: no derivative
             lambda x, i, s: x.scatter_add(0, i, s), make_inputs=make)


def test_scatter_repeated_targets_last_write_wins():
    x = ag.zeros(4, requires_grad=True)
    s = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ag.scatter(x, 0, ag.tensor([2, 0, 2]), s)
    np.testing.assert_array_equal(y.data, [2, 0, 3, 0])
    y.backward(ag.tensor([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_array_equal(x.grad.data, [0, 20, 0, 40])
    np.testing.assert_array_equal(s.grad.data, [0, 10, 30])


def test_scatter_double_backward():
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    s = ag.randn(2, 4, dtype=ag.float64, requires_grad=True)
    i = ag.tensor([[0, 1, 2, 0], [1, 1, 0, 2]])
    _gradgrad(lambda a, b: ag.scatter(a * a, 0, i, b * b), [x, s])
    _gradgrad(lambda a, b: ag.scatter_add(a * a, 0, i, b * b), [x, s])
    _gradgrad(lambda a, b: ag.index_add(a * a, 1, ag.tensor([0, 0]), b[:, :2] ** 2),
                              [x.detach()[:2].requires_grad_(), s])


def test_take_along_dim():
    check_op(lambda x, i: ag.take_along_dim(x, i, 1), lambda x, i: torch.take_along_dim(x, i, 1),
             make_inputs=_x_idx((3, 4), -4, 4, (3, 6)))
    check_op(lambda x, i: x.take_along_dim(i, 0), lambda x, i: x.take_along_dim(i, 0),
             make_inputs=_x_idx((3, 1, 4), 0, 3, (2, 5, 1)))           # broadcast both
    check_op(lambda x, i: ag.take_along_dim(x, i), lambda x, i: torch.take_along_dim(x, i),
             make_inputs=_x_idx((3, 4), 0, 12, (2, 5)))
    # negative indices count from the end also without dim (PyTorch only accepts them with dim)
    np.testing.assert_array_equal(ag.take_along_dim(ag.arange(5.0), ag.tensor([-1, 0])).data,
                                  [4.0, 0.0])


def test_take():
    check_op(lambda x, i: ag.take(x, i), lambda x, i: torch.take(x, i),
             make_inputs=_x_idx((3, 4), -12, 12, (2, 5)))
    check_op(lambda x, i: x.take(i), lambda x, i: x.take(i), make_inputs=_x_idx((), -1, 1, ()))


def test_masked_select():
    check_op(lambda x: ag.masked_select(x, ag.tensor(MASK34)),
             lambda x: torch.masked_select(x, torch.tensor(MASK34)), [(3, 4)])
    check_op(lambda x: x.masked_select(ag.tensor(MASK34)),              # x broadcast
             lambda x: x.masked_select(torch.tensor(MASK34)), [(4,)])
    check_op(lambda x: x.masked_select(ag.tensor(MASK34[0])),           # mask broadcast
             lambda x: x.masked_select(torch.tensor(MASK34[0])), [(3, 4)])


@pytest.mark.parametrize("data", [MASK34.astype(np.float32), np.array(2.0), np.zeros((0, 3)),
                                  np.array([0, 3, 0, -1])], ids=["2d", "0d", "empty", "1d"])
def test_nonzero(data):
    ours, ref = ag.tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(ag.nonzero(ours).data, torch.nonzero(ref).numpy())
    assert ag.nonzero(ours).dtype == np.int64
    for o, r in zip(ours.nonzero(as_tuple=True), ref.nonzero(as_tuple=True), strict=True):
        np.testing.assert_array_equal(o.data, r.numpy())
    np.testing.assert_array_equal(ag.argwhere(ours).data, torch.argwhere(ref).numpy())


def test_gather_scatter_errors_name_op_and_shapes():
    x = ag.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"gather.*\(3,\).*\(3, 4\)"):
        ag.gather(x, 0, ag.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match=r"gather.*\(2, 5\).*\(3, 4\)"):
        ag.gather(x, 0, ag.zeros(2, 5, dtype=ag.int64))
    with pytest.raises(IndexError, match=r"gather.*index 3.*dimension 0 with size 3.*\(3, 4\)"):
        ag.gather(x, 0, ag.tensor([[0, 3]]))
    with pytest.raises(IndexError, match=r"gather.*-1"):
        ag.gather(x, 1, ag.tensor([[-1]]))
    with pytest.raises(RuntimeError, match=r"gather.*float"):
        ag.gather(x, 1, ag.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match=r"scatter.*\(2, 2\).*\(3, 4\).*\(1, 4\)"):
        ag.scatter(x, 0, ag.zeros(2, 2, dtype=ag.int64), ag.ones(1, 4))
    with pytest.raises(IndexError, match=r"scatter_add.*index 4.*\(3, 4\)"):
        ag.scatter_add(x, 1, ag.tensor([[4]]), ag.ones(1, 1))
    with pytest.raises(IndexError, match=r"index_select.*index 3.*\(3, 4\)"):
        ag.index_select(x, 0, ag.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"index_select.*1-D.*\(1, 2\)"):
        ag.index_select(x, 0, ag.tensor([[0, 1]]))
    with pytest.raises(RuntimeError, match=r"index_add.*\(2, 3\).*\(2, 4\)"):
        ag.index_add(x, 0, ag.tensor([0, 1]), ag.ones(2, 3))
    with pytest.raises(IndexError, match=r"take.*index 12.*\(3, 4\)"):
        ag.take(x, ag.tensor([12]))
    with pytest.raises(RuntimeError, match=r"masked_select.*\(3, 4\).*\(3,\)"):
        ag.masked_select(x, ag.tensor([T, F, T]))


# -- sort / argsort / topk ------------------------------------------------------------------------
def _ties(shape):
    def make(rng, dt):     # few distinct values: many ties
        return [rng.integers(0, 3, shape).astype(np.float64)]
    return make


SORT = [   # (id, input shape, kwargs): stable sorts give PyTorch's indices exactly
    ("last_dim", (3, 5), dict(stable=True)),
    ("dim0_descending", (4, 3), dict(dim=0, descending=True, stable=True)),
    ("3d", (2, 3, 4), dict(dim=1, stable=True)),
    ("0d", (), dict(stable=True)),
    ("empty", (0, 3), dict(dim=0, stable=True)),
]


@pytest.mark.parametrize("shape,kw", [c[1:] for c in SORT], ids=[c[0] for c in SORT])
def test_sort(shape, kw):
    check_op(lambda x: ag.sort(x, **kw), lambda x: torch.sort(x, **kw), [shape])
    check_op(lambda x: x.argsort(**kw), lambda x: x.argsort(**kw), [shape])


@pytest.mark.parametrize("descending", [False, True])
def test_sort_ties_stable(descending):
    kw = dict(dim=-1, descending=descending, stable=True)
    # at ties the gradient is not a derivative (gradcheck would fail): compared with PyTorch
    check_op(lambda x: ag.sort(x, **kw), lambda x: torch.sort(x, **kw), make_inputs=_ties((4, 9)),
             gradcheck=False)
    check_op(lambda x: ag.argsort(x, **kw), lambda x: torch.argsort(x, **kw),
             make_inputs=_ties((4, 9)))


def test_sort_ties_unstable_values_and_nan():
    check_op(lambda x: ag.sort(x, descending=True).values,
             lambda x: torch.sort(x, descending=True).values, make_inputs=_ties((3, 8)),
             gradcheck=False)
    x = ag.tensor([1.0, float("nan"), 0.0, 1.0])
    for desc in (False, True):
        ours = ag.sort(x, descending=desc, stable=True)
        ref = torch.sort(torch.tensor(x.data), descending=desc, stable=True)
        np.testing.assert_array_equal(ours.values.data, ref.values.numpy())
        np.testing.assert_array_equal(ours.indices.data, ref.indices.numpy())


TOPK = [   # (id, shape, k, kwargs) on distinct values
    ("largest", (3, 6), 2, dict()),
    ("smallest_dim0", (5, 3), 3, dict(dim=0, largest=False)),
    ("k_all", (2, 4), 4, dict()),
    ("k0", (2, 4), 0, dict()),
    ("3d", (2, 5, 3), 1, dict(dim=1)),
    ("0d", (), 1, dict()),
    ("0d_dim0_smallest", (), 1, dict(dim=0, largest=False)),
    ("size0_rows", (0, 4), 2, dict()),
    ("size0_dim_k0", (3, 0), 0, dict()),
    ("neg_dim", (4, 3), 2, dict(dim=-2)),
    ("neg_dim_3d", (2, 5, 3), 3, dict(dim=-2, largest=False)),
    ("smallest", (3, 6), 2, dict(largest=False)),
    ("sorted", (3, 6), 3, dict(sorted=True)),
    ("unsorted", (3, 6), 3, dict(sorted=False)),
    ("smallest_unsorted", (4, 5), 2, dict(dim=0, largest=False, sorted=False)),
]


@pytest.mark.parametrize("shape,k,kw", [c[1:] for c in TOPK], ids=[c[0] for c in TOPK])
def test_topk(shape, k, kw):
    if kw.get("sorted", True):
        check_op(lambda x: ag.topk(x, k, **kw), lambda x: torch.topk(x, k, **kw), [shape])
        return
    # sorted=False leaves the order unspecified (ours is sorted, PyTorch's need not be):
    # the same values, compared in sorted order
    order = dict(dim=kw.get("dim", -1), descending=kw.get("largest", True))
    check_op(lambda x: ag.topk(x, k, **kw).values.sort(**order).values,
             lambda x: torch.topk(x, k, **kw).values.sort(**order).values, [shape])


def test_topk_ties_and_result_type():
    check_op(lambda x: ag.topk(x, 4).values, lambda x: torch.topk(x, 4).values,
             make_inputs=_ties((3, 8)), grad=False)
    check_op(lambda x: x.topk(3, largest=False).values, lambda x: x.topk(3, largest=False).values,
             make_inputs=_ties((3, 8)), grad=False)
    x = ag.tensor([[1.0, 3.0, 3.0, 2.0]])
    values, indices = ag.topk(x, 2)
    assert ag.topk(x, 2).values is not None and indices.dtype == np.int64
    np.testing.assert_array_equal(ag.gather(x, 1, indices).data, values.data)
    np.testing.assert_array_equal(values.data, [[3.0, 3.0]])
    with pytest.raises(RuntimeError, match=r"topk.*5.*size 4.*\(1, 4\)"):
        ag.topk(x, 5)


def test_sort_double_backward():
    x = ag.randn(3, 5, dtype=ag.float64, requires_grad=True)
    _gradgrad(lambda a: ag.sort(a * a, dim=0).values, [x])
    _gradgrad(lambda a: ag.topk(a * a, 2).values, [x])


# -- tril / triu / diagonal / diag --------------------------------------------------------------
TRI = [((4, 4), 0), ((3, 5), 1), ((5, 3), -2), ((2, 3, 4), 0), ((2, 3, 4), 10), ((0, 3), 0),
       ((3, 4), -5)]


@pytest.mark.parametrize("shape,k", TRI, ids=str)
def test_tril_triu(shape, k):
    check_op(lambda x: ag.tril(x, k), lambda x: torch.tril(x, k), [shape])
    check_op(lambda x: x.triu(diagonal=k), lambda x: x.triu(diagonal=k), [shape])


def test_tril_triu_inplace():
    check_op(lambda x: (x * 1).tril_(-1), lambda x: (x * 1).tril_(-1), [(3, 4)])
    check_op(lambda x: (x * 1).triu_(1), lambda x: (x * 1).triu_(1), [(2, 3, 3)])


DIAGONAL = [   # (shape, offset, dim1, dim2)
    ((4, 4), 0, 0, 1), ((3, 5), 2, 0, 1), ((5, 3), -1, 0, 1), ((3, 4), 7, 0, 1),
    ((2, 3, 4), 1, -1, 0), ((2, 3, 4), -1, 2, 1), ((0, 3), 0, 0, 1), ((3, 3), 0, 1, 0),
]


@pytest.mark.parametrize("shape,offset,dim1,dim2", DIAGONAL, ids=str)
def test_diagonal(shape, offset, dim1, dim2):
    check_op(lambda x: ag.diagonal(x, offset, dim1, dim2),
             lambda x: torch.diagonal(x, offset, dim1, dim2), [shape])


@pytest.mark.parametrize("shape,k", [((3,), 0), ((3,), 2), ((2,), -1), ((0,), 1), ((3, 4), 1),
                                     ((4, 3), -2), ((3, 3), 0)], ids=str)
def test_diag(shape, k):
    check_op(lambda x: ag.diag(x, k), lambda x: torch.diag(x, k), [shape])
    check_op(lambda x: x.diag(diagonal=k), lambda x: x.diag(diagonal=k), [shape])


@pytest.mark.parametrize("shape,offset,dim1,dim2", [((3,), 0, -2, -1), ((2, 3), 1, 0, 2),
                                                     ((2, 3), -2, 2, 1), ((2, 0), 0, -2, -1)],
                         ids=str)
def test_diag_embed(shape, offset, dim1, dim2):
    check_op(lambda x: ag.diag_embed(x, offset, dim1, dim2),
             lambda x: torch.diag_embed(x, offset, dim1, dim2), [shape])


def test_diagonal_is_view_and_double_backward():
    x = ag.arange(9.0).reshape(3, 3)
    d = x.diagonal()
    assert np.shares_memory(d.data, x.data)
    d[1] = -1.0
    assert x[1, 1].item() == -1.0
    assert not np.shares_memory(ag.diag(x).data, x.data)
    a = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    _gradgrad(lambda t: t.diagonal(1) ** 2, [a])
    _gradgrad(lambda t: ag.diag(t[0] ** 2, -1), [a])
    _gradgrad(lambda t: (t * t).tril(), [a])


def test_triangular_errors():
    with pytest.raises(RuntimeError, match=r"tril.*\(3,\)"):
        ag.tril(ag.ones(3))
    with pytest.raises(RuntimeError, match=r"diagonal.*identical"):
        ag.diagonal(ag.ones(3, 3), 0, 1, -1)
    with pytest.raises(RuntimeError, match=r"diag.*\(2, 2, 2\)"):
        ag.diag(ag.ones(2, 2, 2))

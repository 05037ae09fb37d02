"""Shape, movement, join and split ops against PyTorch: one line per case.

A case is (id, f, shapes) with f(m, *xs) written once for both libraries: m is `ag` or
`torch`, so `m.cat([a, b], 1)` and `a.permute(2, 0, 1)` run the same call on each side.
"""
import functools

import numpy as np
import pytest
import torch

import autograd as ag
from tests.helpers import check_op

CASES = [
    # reshape / view
    ("reshape", lambda m, x: x.reshape(3, 2), [(2, 3)]),
    ("reshape_tuple_infer", lambda m, x: x.reshape((4, -1)), [(2, 3, 4)]),
    ("reshape_fn", lambda m, x: m.reshape(x, (-1,)), [(2, 3)]),
    ("reshape_0d_to_2d", lambda m, x: x.reshape(1, 1), [()]),
    ("reshape_to_0d", lambda m, x: x.reshape(()), [(1, 1)]),
    ("reshape_empty_infer", lambda m, x: x.reshape(-1, 3), [(0, 3)]),
    ("reshape_empty", lambda m, x: x.reshape(3, 0, 2), [(0, 3)]),
    ("view", lambda m, x: x.view(-1, 2), [(2, 3, 2)]),
    ("view_as", lambda m, x, y: x.view_as(y), [(2, 3), (3, 2)]),
    ("reshape_as", lambda m, x, y: x.reshape_as(y) * y, [(2, 3), (6,)]),
    # flatten / unflatten
    ("flatten", lambda m, x: m.flatten(x), [(2, 3, 4)]),
    ("flatten_mid", lambda m, x: x.flatten(1, 2), [(2, 3, 4, 2)]),
    ("flatten_neg", lambda m, x: x.flatten(0, -2), [(2, 3, 4)]),
    ("flatten_same_dim", lambda m, x: x.flatten(1, 1), [(2, 3, 4)]),
    ("flatten_0d", lambda m, x: x.flatten(), [()]),
    ("flatten_empty", lambda m, x: x.flatten(), [(2, 0, 3)]),
    ("unflatten", lambda m, x: x.unflatten(1, (2, 3)), [(2, 6)]),
    ("unflatten_neg_infer", lambda m, x: m.unflatten(x, -1, (3, -1)), [(2, 6)]),
    # squeeze / unsqueeze
    ("squeeze_all", lambda m, x: x.squeeze(), [(1, 3, 1)]),
    ("squeeze_dim", lambda m, x: m.squeeze(x, 0), [(1, 3, 1)]),
    ("squeeze_neg", lambda m, x: x.squeeze(-1), [(1, 3, 1)]),
    ("squeeze_not_one", lambda m, x: x.squeeze(1), [(1, 3, 1)]),
    ("squeeze_tuple", lambda m, x: x.squeeze((0, 2)), [(1, 3, 1)]),
    ("squeeze_0d", lambda m, x: x.squeeze(), [()]),
    ("squeeze_0d_dim", lambda m, x: x.squeeze(-1), [()]),
    ("unsqueeze_0", lambda m, x: x.unsqueeze(0), [(2, 3)]),
    ("unsqueeze_last", lambda m, x: m.unsqueeze(x, 2), [(2, 3)]),
    ("unsqueeze_neg", lambda m, x: x.unsqueeze(-1), [(2, 3)]),
    ("unsqueeze_neg_first", lambda m, x: x.unsqueeze(-3), [(2, 3)]),
    ("unsqueeze_0d", lambda m, x: x.unsqueeze(0), [()]),
    ("unsqueeze_0d_neg", lambda m, x: x.unsqueeze(-1), [()]),
    ("unsqueeze_empty", lambda m, x: x.unsqueeze(1), [(0, 3)]),
    # transposes and permutations
    ("transpose", lambda m, x: m.transpose(x, 0, 2), [(2, 3, 4)]),
    ("transpose_neg", lambda m, x: x.transpose(-1, -2), [(2, 3, 4)]),
    ("transpose_same", lambda m, x: x.transpose(1, 1), [(2, 3)]),
    ("swapaxes", lambda m, x: m.swapaxes(x, 0, 1), [(2, 3)]),
    ("swapdims", lambda m, x: x.swapdims(0, -1), [(2, 3, 4)]),
    ("permute", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute_tuple", lambda m, x: m.permute(x, (1, 2, 0)), [(2, 3, 4)]),
    ("permute_neg", lambda m, x: x.permute(-1, 0, -2), [(2, 3, 4)]),
    ("permute_empty", lambda m, x: x.permute(1, 0), [(0, 3)]),
    ("t", lambda m, x: m.t(x), [(2, 3)]),
    ("t_1d", lambda m, x: x.t(), [(3,)]),
    ("t_0d", lambda m, x: x.t(), [()]),
    ("T", lambda m, x: x.T, [(2, 3)]),
    ("mT", lambda m, x: x.mT, [(2, 3, 4)]),
    ("mT_2d", lambda m, x: x.mT, [(3, 4)]),
    ("movedim", lambda m, x: m.movedim(x, 0, 2), [(2, 3, 4)]),
    ("movedim_tuple", lambda m, x: x.movedim((0, 1), (2, 0)), [(2, 3, 4)]),
    ("moveaxis_neg", lambda m, x: m.moveaxis(x, -1, 0), [(2, 3, 4)]),
    # broadcasting
    ("expand", lambda m, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand_keep", lambda m, x: x.expand(-1, 4), [(3, 1)]),
    ("expand_tuple", lambda m, x: x.expand((2, 3)), [(3,)]),
    ("expand_0d", lambda m, x: x.expand(2, 3), [()]),
    ("expand_as", lambda m, x, y: x.expand_as(y) * y, [(3, 1), (2, 3, 4)]),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
    ("broadcast_tensors", lambda m, x, y: m.broadcast_tensors(x, y), [(3, 1), (4,)]),
    # copies: repeat, tile, flip, roll
    ("repeat", lambda m, x: x.repeat(2, 1), [(2, 3)]),
    ("repeat_tuple", lambda m, x: x.repeat((1, 3)), [(2, 3)]),
    ("repeat_lead", lambda m, x: x.repeat(2, 1, 3), [(2, 3)]),
    ("repeat_zero", lambda m, x: x.repeat(0, 2), [(3,)]),
    ("repeat_0d", lambda m, x: x.repeat(3), [()]),
    ("repeat_empty", lambda m, x: x.repeat(2, 2), [(0, 3)]),
    ("tile_short", lambda m, x: m.tile(x, (2,)), [(2, 3)]),
    ("tile", lambda m, x: x.tile(2, 1, 2), [(2, 3)]),
    ("flip", lambda m, x: m.flip(x, (0, 2)), [(2, 3, 4)]),
    ("flip_vararg_neg", lambda m, x: x.flip(-1), [(2, 3, 4)]),
    ("flip_list", lambda m, x: x.flip([0, 1]), [(2, 3)]),
    ("flip_empty", lambda m, x: x.flip(0), [(0, 3)]),
    ("fliplr", lambda m, x: m.fliplr(x), [(2, 3, 4)]),
    ("flipud", lambda m, x: x.flipud(), [(3,)]),
    ("roll", lambda m, x: m.roll(x, 1, 0), [(2, 3, 4)]),
    ("roll_tuple", lambda m, x: x.roll((1, -2), (0, 2)), [(2, 3, 4)]),
    ("roll_flat", lambda m, x: x.roll(5), [(2, 3, 4)]),
    ("roll_neg_dim", lambda m, x: x.roll(-4, -1), [(2, 3)]),
    ("roll_empty", lambda m, x: x.roll(1, 1), [(0, 3)]),
    ("contiguous", lambda m, x: x.t().contiguous(), [(2, 3)]),
    # joining
    ("cat", lambda m, x, y: m.cat([x, y], 1), [(2, 3), (2, 4)]),
    ("cat_neg_dim", lambda m, x, y: m.cat((x, y), -2), [(2, 3), (1, 3)]),
    ("cat_three", lambda m, x, y, z: m.cat([x, y, z]), [(2, 3), (1, 3), (4, 3)]),
    ("cat_empty_piece", lambda m, x, y: m.cat([x, y]), [(2, 3), (0, 3)]),
    ("cat_legacy_empty", lambda m, x, y: m.cat([x, y], 1), [(0,), (2, 3)]),
    ("cat_same_tensor", lambda m, x: m.cat([x, x * 2], 0), [(2, 3)]),
    ("concat", lambda m, x, y: m.concat([x, y], 1), [(2, 3), (2, 1)]),
    ("concatenate", lambda m, x, y: m.concatenate([x, y], 0), [(2, 3), (2, 3)]),
    ("stack", lambda m, x, y: m.stack([x, y]), [(2, 3), (2, 3)]),
    ("stack_last", lambda m, x, y: m.stack((x, y), 2), [(2, 3), (2, 3)]),
    ("stack_neg", lambda m, x, y: m.stack([x, y], -2), [(2, 3), (2, 3)]),
    ("stack_0d", lambda m, x, y: m.stack([x, y]), [(), ()]),
    ("stack_empty", lambda m, x, y: m.stack([x, y], 1), [(0, 3), (0, 3)]),
    ("hstack_1d", lambda m, x, y: m.hstack([x, y]), [(3,), (2,)]),
    ("hstack_2d", lambda m, x, y: m.hstack([x, y]), [(2, 3), (2, 1)]),
    ("hstack_0d", lambda m, x, y: m.hstack([x, y]), [(), (2,)]),
    ("vstack_1d", lambda m, x, y: m.vstack([x, y]), [(3,), (3,)]),
    ("vstack_2d", lambda m, x, y: m.vstack([x, y]), [(2, 3), (3,)]),
    ("row_stack", lambda m, x, y: m.row_stack([x, y]), [(2, 3), (1, 3)]),
    ("dstack", lambda m, x, y: m.dstack([x, y]), [(2, 3), (2, 3, 2)]),
    ("column_stack", lambda m, x, y, z: m.column_stack([x, y, z]), [(3,), (3, 2), (3,)]),
    # splitting
    ("split_int", lambda m, x: m.split(x, 2), [(5, 3)]),
    ("split_method", lambda m, x: x.split(2, dim=-1), [(3, 5)]),
    ("split_sizes", lambda m, x: m.split(x, [1, 4], 0), [(5, 3)]),
    ("split_zero_piece", lambda m, x: x.split([2, 0, 1], 1), [(2, 3)]),
    ("split_one_piece", lambda m, x: x.split(5), [(3, 2)]),
    ("split_empty", lambda m, x: x.split(2), [(0, 3)]),
    ("split_unused_piece", lambda m, x: x.split(2)[1], [(5, 3)]),
    ("chunk", lambda m, x: m.chunk(x, 3), [(5, 3)]),
    ("chunk_dim", lambda m, x: x.chunk(2, 1), [(2, 5)]),
    ("chunk_fewer", lambda m, x: x.chunk(4), [(6,)]),
    ("chunk_empty", lambda m, x: x.chunk(3), [(0,)]),
    ("tensor_split_sections", lambda m, x: m.tensor_split(x, 3), [(7, 2)]),
    ("tensor_split_indices", lambda m, x: x.tensor_split([1, 4], dim=1), [(2, 6)]),
    ("tensor_split_decreasing", lambda m, x: x.tensor_split([3, 1, -1]), [(5,)]),
    ("unbind", lambda m, x: m.unbind(x), [(3, 4)]),
    ("unbind_neg", lambda m, x: x.unbind(-1), [(3, 4)]),
    ("unbind_one_used", lambda m, x: x.unbind(1)[2] * 3, [(2, 3)]),
    ("narrow", lambda m, x: m.narrow(x, 1, 1, 3), [(4, 5)]),
    ("narrow_neg_start", lambda m, x: x.narrow(0, -2, 2), [(4, 5)]),
    ("narrow_neg_dim", lambda m, x: x.narrow(-1, 0, 2), [(4, 5)]),
    ("narrow_zero_length", lambda m, x: x.narrow(0, 4, 0), [(4, 5)]),
    ("narrow_full", lambda m, x: x.narrow(0, 0, 4), [(4, 5)]),
    # atleast_nd
    ("atleast_1d", lambda m, x: m.atleast_1d(x), [()]),
    ("atleast_1d_keep", lambda m, x: m.atleast_1d(x), [(2, 3)]),
    ("atleast_2d", lambda m, x, y: m.atleast_2d(x, y), [(), (3,)]),
    ("atleast_2d_list", lambda m, x, y: m.atleast_2d([x, y]), [(2, 3), (2, 3, 4)]),
    ("atleast_3d_0d", lambda m, x: m.atleast_3d(x), [()]),
    ("atleast_3d_1d", lambda m, x: m.atleast_3d(x), [(3,)]),
    ("atleast_3d_2d", lambda m, x: m.atleast_3d(x), [(2, 3)]),
    # chains: gradients flow through several movements
    ("chain", lambda m, x: x.t().reshape(6).flip(0).unsqueeze(1).expand(6, 2), [(2, 3)]),
    ("chain_split_cat", lambda m, x: m.cat(x.split(1, 1)[::-1], 1) * x, [(2, 3)]),
]


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_op(name, f, shapes):
    check_op(functools.partial(f, ag), functools.partial(f, torch), shapes)


# -- dtype promotion and non-float inputs ------------------------------------------------------
@pytest.mark.parametrize("fn", ["cat", "stack", "hstack", "vstack"])
@pytest.mark.parametrize("dt_a,dt_b", [("float32", "float64"), ("int64", "float32"),
                                       ("bool", "int32"), ("int32", "int64")])
def test_join_promotes_like_torch(fn, dt_a, dt_b):
    a = np.arange(6).reshape(2, 3).astype(dt_a)
    b = (np.arange(6).reshape(2, 3) % 2).astype(dt_b)
    ours = getattr(ag, fn)([ag.tensor(a), ag.tensor(b)])
    ref = getattr(torch, fn)([torch.tensor(a), torch.tensor(b)])
    assert ours.dtype == ref.numpy().dtype
    np.testing.assert_array_equal(ours.data, ref.numpy())


def test_cat_promotion_gradient_dtypes():
    a = ag.randn(2, 3, requires_grad=True)                       # float32
    b = ag.randn(1, 3, dtype=ag.float64, requires_grad=True)
    y = ag.cat([a, b])
    assert y.dtype == ag.float64
    (y * y).sum().backward()
    assert a.grad.dtype == ag.float32 and b.grad.dtype == ag.float64
    np.testing.assert_allclose(a.grad.data, 2 * a.data, rtol=1e-6)


def test_cat_legacy_empty_counts_for_dtype_and_gets_gradient():
    e = ag.zeros(0, dtype=ag.float64, requires_grad=True)
    x = ag.randn(2, 3, requires_grad=True)
    y = ag.cat([e, x], 1)
    assert y.dtype == ag.float64 and y.shape == (2, 3)
    y.sum().backward()
    assert e.grad.shape == (0,) and e.grad.dtype == ag.float64


def test_integer_tensors_move_without_grad():
    x = ag.arange(6).reshape(2, 3)
    assert x.dtype == ag.int64
    y = ag.cat([x.t().flip(0), x.T.roll(1)], 1).split(2, 1)[0]
    ref = torch.cat([torch.arange(6).reshape(2, 3).t().flip(0),
                     torch.arange(6).reshape(2, 3).T.roll(1)], 1).split(2, 1)[0]
    np.testing.assert_array_equal(y.data, ref.numpy())
    assert not y.requires_grad


def test_T_reverses_all_dims():
    x = ag.randn(2, 3, 4)
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.T.data, x.data.transpose())


@pytest.mark.parametrize("shape,dim", [
    ((2, 3), None),
    ((2, 3), 0),
    ((2, 3), 1),
    ((2, 3), -1),
    ((2, 3), -2),
    ((2, 0, 4), -2),
    ((), None),
    ((5,), -1),
], ids=str)
def test_size(shape, dim):
    args = () if dim is None else (dim,)
    ours, ref = ag.ones(shape).size(*args), torch.ones(shape).size(*args)
    assert ours == ref and type(ours) is (tuple if dim is None else int)


@pytest.mark.parametrize("shape,dim", [((2, 3), 2), ((2, 3), -3), ((), 0), ((), -1)], ids=str)
def test_size_dim_out_of_range(shape, dim):
    with pytest.raises(IndexError):
        torch.ones(shape).size(dim)
    with pytest.raises(IndexError):
        ag.ones(shape).size(dim)


# -- double backward ---------------------------------------------------------------------------
DOUBLE = [
    ("cat", lambda x, y: ag.cat([x * x, y], 1), [(2, 3), (2, 2)]),
    ("stack", lambda x, y: ag.stack([x * y, y], -1), [(2, 3), (2, 3)]),
    ("split", lambda x: [p * p for p in x.split([1, 2], 1)], [(2, 3)]),
    ("chunk", lambda x: x.chunk(2)[1] * x.chunk(2)[0], [(4, 3)]),
    ("unbind", lambda x: x.unbind(1)[0] * x.unbind(1)[2], [(2, 3)]),
    ("narrow", lambda x: x.narrow(1, 1, 2) ** 2, [(2, 4)]),
    ("flip_roll", lambda x: x.flip(0).roll(1, 1) * x, [(2, 3)]),
    ("repeat_tile", lambda x: x.repeat(2, 1) * x.tile(2, 1), [(2, 3)]),
    ("permute_reshape", lambda x: x.permute(2, 0, 1).reshape(4, 6) ** 2, [(2, 3, 4)]),
    ("squeeze_expand", lambda x: x.unsqueeze(0).expand(3, 2, 3).squeeze() * x, [(2, 3)]),
    ("transpose_flatten", lambda x: x.transpose(0, 1).flatten() ** 3, [(2, 3)]),
    ("movedim_mT", lambda x: x.movedim(0, -1).mT * x.mT.movedim(-1, 0), [(2, 3, 3)]),
]


@pytest.mark.parametrize("name,f,shapes", DOUBLE, ids=[c[0] for c in DOUBLE])
def test_double_backward(name, f, shapes):
    rng = np.random.default_rng(0)
    xs = [ag.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert ag.autograd.gradgradcheck(functools.partial(_with_grad, f), xs)


def _with_grad(f, *xs):
    # gradgradcheck evaluates its finite differences under no_grad; the first-order
    # gradient inside them must still be recorded, so f records regardless
    with ag.enable_grad():
        return f(*xs)


# -- views: memory and version counters --------------------------------------------------------
@pytest.mark.parametrize("make_view", [
    lambda b: b.t(), lambda b: b.reshape(6), lambda b: b.view(3, 2), lambda b: b.unsqueeze(0),
    lambda b: b.permute(1, 0), lambda b: b.narrow(1, 1, 2), lambda b: b.flatten(),
    lambda b: b.unflatten(1, (3, 1)), lambda b: b.split(1)[1], lambda b: b.unbind(1)[2],
    lambda b: b.chunk(2, 1)[0], lambda b: b.movedim(0, 1), lambda b: b.mT, lambda b: b.T,
    lambda b: b.expand(4, 2, 3),
    lambda b: b.transpose(0, 1).unsqueeze(0).squeeze(0),
], ids=["t", "reshape", "view", "unsqueeze", "permute", "narrow", "flatten", "unflatten",
        "split", "unbind", "chunk", "movedim", "mT", "T", "expand", "transpose_squeeze"])
def test_view_shares_memory_and_version(make_view):
    base = ag.randn(2, 3)
    v = make_view(base)
    assert np.shares_memory(v.data, base.data)
    before = v.data.copy()
    with ag.no_grad():
        base.mul_(2)
    assert v._version == base._version == 1
    np.testing.assert_allclose(v.data, 2 * before)


def test_write_through_view_bumps_base_version():
    base = ag.zeros(2, 3)
    v = base.t()
    with ag.no_grad():
        v.add_(1)
    assert base._version == 1
    np.testing.assert_array_equal(base.data, np.ones((2, 3), np.float32))


@pytest.mark.parametrize("make_copy", [
    lambda b: b.flip(0), lambda b: b.roll(1), lambda b: b.repeat(1, 1), lambda b: b.tile(2),
    lambda b: ag.cat([b, b]), lambda b: ag.stack([b]), lambda b: b.t().reshape(6),
    lambda b: b.t().flatten(),
], ids=["flip", "roll", "repeat", "tile", "cat", "stack", "reshape_noncontig",
        "flatten_noncontig"])
def test_copy_ops_do_not_alias(make_copy):
    base = ag.randn(2, 3)
    y = make_copy(base)
    before = y.data.copy()
    with ag.no_grad():
        base.mul_(2)
    assert y._version == 0
    np.testing.assert_array_equal(y.data, before)


def test_modified_view_breaks_saved_tensor():
    a = ag.randn(3, requires_grad=True)
    b = a * 1
    v = b.unsqueeze(0)
    w = v * v                   # saves v
    with ag.no_grad():
        b.add_(1)               # bumps v's shared counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_expand_of_same_shape_is_identity():
    x = ag.randn(2, 3)
    assert x.expand(2, 3) is x


def test_contiguous_returns_self():
    x = ag.randn(2, 3)
    assert x.contiguous() is x


def test_broadcast_shapes():
    assert ag.broadcast_shapes((3, 1), (4,), 1) == torch.broadcast_shapes((3, 1), (4,), 1)


# -- errors: they name the op and the shapes ---------------------------------------------------
ERRORS = [
    ("reshape", lambda: ag.ones(2, 3).reshape(4), RuntimeError, r"reshape.*\(4,\).*\(2, 3\)"),
    ("reshape_two_infer", lambda: ag.ones(2, 3).reshape(-1, -1), RuntimeError,
     r"reshape.*only one dimension can be inferred"),
    ("reshape_negative", lambda: ag.ones(2, 3).reshape(-2, -3), RuntimeError,
     r"reshape.*invalid shape dimension -2"),
    ("view", lambda: ag.ones(2, 3).view(5), RuntimeError, r"view.*\(5,\).*\(2, 3\)"),
    ("flatten_order", lambda: ag.ones(2, 3).flatten(1, 0), RuntimeError,
     r"flatten.*start_dim.*end_dim.*\(2, 3\)"),
    ("unflatten", lambda: ag.ones(2, 3).unflatten(1, (2, 2)), RuntimeError,
     r"unflatten.*\(2, 2\).*\(3\).*\(2, 3\)"),
    ("squeeze_dim", lambda: ag.ones(2, 3).squeeze(3), IndexError,
     r"squeeze.*dimension out of range.*\[-2, 1\].*3"),
    ("unsqueeze_dim", lambda: ag.ones(2, 3).unsqueeze(3), IndexError,
     r"unsqueeze.*\[-3, 2\].*3"),
    ("transpose_dim", lambda: ag.ones(2, 3).transpose(0, 2), IndexError,
     r"transpose.*out of range"),
    ("permute_count", lambda: ag.ones(2, 3).permute(1, 0, 2), RuntimeError,
     r"permute.*2 dims.*\(2, 3\).*3 dims \(1, 0, 2\)"),
    ("permute_duplicate", lambda: ag.ones(2, 3).permute(0, 0), RuntimeError,
     r"permute.*duplicate dims.*\(0, 0\)"),
    ("t_3d", lambda: ag.ones(2, 3, 4).t(), RuntimeError, r"t: .*<= 2 dimensions.*\(2, 3, 4\)"),
    ("mT_1d", lambda: ag.ones(3).mT, RuntimeError, r"mT.*\(3,\)"),
    ("movedim", lambda: ag.ones(2, 3).movedim((0, 1), 0), RuntimeError,
     r"movedim.*\(0, 1\).*\(0,\)"),
    ("movedim_repeat", lambda: ag.ones(2, 3).movedim((0, 0), (0, 1)), RuntimeError,
     r"movedim.*repeated"),
    ("expand", lambda: ag.ones(2, 3).expand(3, 3), RuntimeError,
     r"expand.*\(3\).*\(2\).*\(3, 3\).*\(2, 3\)"),
    ("expand_fewer", lambda: ag.ones(2, 3).expand(3), RuntimeError, r"expand.*\(2, 3\)"),
    ("broadcast_tensors", lambda: ag.broadcast_tensors(ag.ones(2), ag.ones(3)), RuntimeError,
     r"broadcast_tensors.*\(2,\).*\(3,\)"),
    ("repeat_short", lambda: ag.ones(2, 3).repeat(2), RuntimeError, r"repeat.*\(2, 3\)"),
    ("flip_duplicate", lambda: ag.ones(2, 3).flip(0, 0), RuntimeError,
     r"flip.*multiple times"),
    ("flip_dim", lambda: ag.ones(2, 3).flip(2), IndexError, r"flip.*out of range"),
    ("fliplr_1d", lambda: ag.fliplr(ag.ones(3)), RuntimeError, r"fliplr.*>= 2-d.*\(3,\)"),
    ("flipud_0d", lambda: ag.flipud(ag.ones(())), RuntimeError, r"flipud.*>= 1-d"),
    ("roll_align", lambda: ag.ones(3).roll((1, 2), (0,)), RuntimeError,
     r"roll.*\(1, 2\).*\(0,\)"),
    ("roll_dims_none", lambda: ag.ones(3).roll((1, 2)), RuntimeError, r"roll.*\(1, 2\)"),
    ("cat_sizes", lambda: ag.cat([ag.ones(2, 3), ag.ones(2, 4)]), RuntimeError,
     r"cat.*dimension 0.*expected size 3 but got size 4.*tensor number 1.*\(2, 3\).*\(2, 4\)"),
    ("cat_ndim", lambda: ag.cat([ag.ones(2, 3), ag.ones(2)]), RuntimeError,
     r"cat.*same number of dimensions.*\(2, 3\).*\(2,\)"),
    ("cat_0d", lambda: ag.cat([ag.ones(())]), RuntimeError,
     r"cat.*zero-dimensional tensor \(at position 0\)"),
    ("cat_empty_list", lambda: ag.cat([]), ValueError, r"cat.*non-empty"),
    ("cat_tensor_arg", lambda: ag.cat(ag.ones(2, 3)), TypeError, r"cat.*tuple or list"),
    ("cat_dim", lambda: ag.cat([ag.ones(2, 3)], 2), IndexError, r"cat.*out of range"),
    ("stack_shapes", lambda: ag.stack([ag.ones(2), ag.ones(3)]), RuntimeError,
     r"stack.*equal size.*\(2,\).*entry 0.*\(3,\).*entry 1"),
    ("stack_empty", lambda: ag.stack([]), ValueError, r"stack.*non-empty"),
    ("split_zero", lambda: ag.ones(5).split(0), RuntimeError,
     r"split.*split_size.*0.*size 5.*\(5,\)"),
    ("split_sizes", lambda: ag.ones(5, 2).split([2, 2]), RuntimeError,
     r"split.*sum exactly to 5.*\(5, 2\).*\[2, 2\]"),
    ("split_0d", lambda: ag.ones(()).split(1), RuntimeError, r"split.*no dimensions"),
    ("chunk_zero", lambda: ag.ones(3).chunk(0), RuntimeError, r"chunk.*greater than 0.*\(3,\)"),
    ("unbind_0d", lambda: ag.ones(()).unbind(), RuntimeError, r"unbind.*no dimensions"),
    ("narrow_length", lambda: ag.ones(2, 3).narrow(1, 2, 2), RuntimeError,
     r"narrow.*start \(2\) \+ length \(2\) exceeds dimension size \(3\).*\(2, 3\)"),
    ("narrow_start", lambda: ag.ones(2, 3).narrow(1, 5, 0), IndexError,
     r"narrow.*start out of range.*5.*\(2, 3\)"),
    ("narrow_negative_length", lambda: ag.ones(2, 3).narrow(1, 0, -1), RuntimeError,
     r"narrow.*non-negative"),
    ("reshape_float", lambda: ag.ones(2, 3).reshape(3, 2.0), TypeError,
     r"reshape.*sequence of ints"),
    ("repeat_float", lambda: ag.ones(2, 3).repeat(1.5, 2), TypeError, r"repeat.*ints"),
    ("split_float", lambda: ag.ones(4).split(2.0), TypeError, r"split.*ints"),
    ("tensor_split_zero", lambda: ag.ones(3).tensor_split(0), RuntimeError,
     r"tensor_split.*larger than 0"),
]


@pytest.mark.parametrize("name,call,exc,pattern", ERRORS, ids=[e[0] for e in ERRORS])
def test_error(name, call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()

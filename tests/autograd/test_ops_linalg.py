"""Linear-algebra primitives against PyTorch: matmul and its special cases, outer, einsum."""
import numpy as np
import pytest
import torch

import autograd as ag
from autograd.autograd import gradgradcheck
from tests.helpers import check_op

MATMUL_SHAPES = [
    [(3,), (3,)],                  # dot
    [(3,), (3, 4)],                # 1-d @ 2-d: prepended dim removed
    [(2, 3), (3,)],                # 2-d @ 1-d: appended dim removed
    [(3,), (2, 3, 4)],             # 1-d @ batched
    [(2, 5, 3), (3,)],             # batched @ 1-d
    [(2, 3), (3, 4)],
    [(2, 2, 3), (2, 3, 4)],        # batched, equal batch
    [(2, 1, 2, 3), (5, 3, 4)],     # broadcast batch dims both ways
    [(2, 2, 3), (3, 4)],           # batched @ 2-d (folded GEMM)
    [(2, 3), (4, 3, 2)],           # 2-d @ batched
    [(1, 2, 3), (4, 3, 2)],        # size-1 batch broadcast
    [(0, 3), (3, 4)],              # size-0 rows
    [(2, 0), (0, 4)],              # size-0 inner dim
    [(2, 3), (3, 0)],              # size-0 cols
    [(0, 2, 3), (3, 4)],           # size-0 batch
    [(0,), (0,)],                  # empty dot
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, shapes)
    check_op(ag.matmul, torch.matmul, shapes, layouts=("contiguous",), gradcheck=False)


def test_matmul_method_and_rmatmul():
    check_op(lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), [(2, 3), (3, 4)])
    b = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    tb = torch.tensor(b)
    check_op(lambda a: a @ b, lambda a: a @ tb, [(2, 3)], dtypes=(np.float32,))
    check_op(lambda a: b.T @ a, lambda a: tb.T @ a, [(3, 2)], dtypes=(np.float32,))


def test_matmul_one_operand_requires_grad():
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, [(2, 2, 3), (3, 4)], grad_inputs=(0,))
    check_op(lambda a, b: a @ b, lambda a, b: a @ b, [(2, 2, 3), (3, 4)], grad_inputs=(1,))


def test_matmul_int():
    x, y = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    ours = ag.tensor(x) @ ag.tensor(y)
    assert ours.dtype == ag.int64
    np.testing.assert_array_equal(ours.data, (torch.tensor(x) @ torch.tensor(y)).numpy())


def test_mm():
    check_op(ag.mm, torch.mm, [(2, 3), (3, 4)])
    check_op(lambda a, b: a.mm(b), lambda a, b: a.mm(b), [(0, 3), (3, 4)])


def test_bmm():
    check_op(ag.bmm, torch.bmm, [(2, 3, 4), (2, 4, 5)])
    check_op(lambda a, b: a.bmm(b), lambda a, b: a.bmm(b), [(3, 1, 2), (3, 2, 0)])


def test_mv():
    check_op(ag.mv, torch.mv, [(2, 3), (3,)])


@pytest.mark.parametrize("fn", ["dot", "vdot", "inner"])
def test_dot(fn):
    check_op(getattr(ag, fn), getattr(torch, fn), [(5,), (5,)])
    check_op(lambda a, b: getattr(a, fn)(b), lambda a, b: getattr(a, fn)(b), [(4,), (4,)])


def test_inner_nd():
    check_op(ag.inner, torch.inner, [(2, 3), (4, 3)])
    check_op(ag.inner, torch.inner, [(2, 1, 3), (3,)])


@pytest.mark.parametrize("fn", ["outer", "ger"])
def test_outer(fn):
    check_op(getattr(ag, fn), getattr(torch, fn), [(3,), (4,)])
    check_op(lambda a, b: getattr(a, fn)(b), lambda a, b: getattr(a, fn)(b), [(0,), (2,)])


def test_outer_promotes_like_torch():
    a, b = np.ones(2, np.float32), np.ones(3, np.float64)
    assert ag.outer(ag.tensor(a), ag.tensor(b)).dtype == \
        torch.outer(torch.tensor(a), torch.tensor(b)).numpy().dtype


def test_addmm_family():
    check_op(lambda i, a, b: ag.addmm(i, a, b, beta=0.5, alpha=2),
             lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2), [(4,), (2, 3), (3, 4)])
    check_op(ag.addmm, torch.addmm, [(2, 4), (2, 3), (3, 4)])
    check_op(lambda i, a, b: ag.addmv(i, a, b, alpha=-1),
             lambda i, a, b: torch.addmv(i, a, b, alpha=-1), [(2,), (2, 3), (3,)])
    check_op(lambda i, a, b: ag.baddbmm(i, a, b, beta=2),
             lambda i, a, b: torch.baddbmm(i, a, b, beta=2), [(1, 4), (2, 2, 3), (2, 3, 4)])


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_matrix_power(n):
    check_op(lambda a: ag.matrix_power(a, n) * 1.0, lambda a: torch.matrix_power(a, n) * 1.0,
             [(2, 3, 3)], low=-0.8, high=0.8, grad=n > 0, gradcheck=n > 0, rtol=1e-4)


def test_tensordot():
    check_op(lambda a, b: ag.tensordot(a, b, dims=2),
             lambda a, b: torch.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 5)])
    check_op(lambda a, b: ag.tensordot(a, b, dims=([0, 2], [2, 0])),
             lambda a, b: torch.tensordot(a, b, dims=([0, 2], [2, 0])), [(2, 3, 4), (4, 5, 2)])


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ij,kj->ik", [(2, 3), (4, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ii->i", [(3, 3)]),            # diagonal
    ("ii", [(3, 3)]),               # trace (implicit output)
    ("iij->j", [(2, 2, 3)]),        # diagonal, then summed
    ("ij,jk", [(2, 3), (3, 4)]),    # implicit output
    ("ba,ca", [(2, 3), (4, 3)]),    # implicit output sorted: 'bc'
    ("ij,jk->i", [(2, 3), (3, 4)]),  # k summed out of one operand only
    ("ijk,j->ik", [(2, 3, 4), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),   # three operands (optimized path)
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),  # ellipsis with broadcast
    ("...i,...i->...", [(2, 1, 3), (4, 3)]),
    ("i...->...", [(3, 2, 2)]),
    ("ij,j->i", [(2, 3), (1,)]),    # size-1 label broadcast
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),     # spaces
    ("ij,jk->ik", [(0, 3), (3, 4)]),  # size 0
    ("ii,i->i", [(3, 3), (3,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
    ("ab,cd->abcd", [(2, 1), (1, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(eq, shapes):
    check_op(lambda *xs: ag.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), shapes)


def test_einsum_list_operands_and_large():
    check_op(lambda a, b: ag.einsum("ij,jk->ik", [a, b]),
             lambda a, b: torch.einsum("ij,jk->ik", [a, b]), [(40, 50), (50, 30)],
             layouts=("contiguous", "transposed"), gradcheck=False, rtol=1e-4, atol=1e-4)


def test_einsum_output_owns_memory():
    x = ag.randn(3, 3)
    y = ag.einsum("ij->ji", x)
    assert not np.shares_memory(y.data, x.data)


def _rand(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return ag.tensor(rng.standard_normal(shape), dtype=ag.float64, requires_grad=True)


@pytest.mark.parametrize("shapes", [[(2, 3), (3, 4)], [(3,), (3,)], [(3,), (2, 3, 4)],
                                    [(2, 1, 2, 3), (2, 3, 2)], [(2, 3), (3,)]], ids=str)
def test_matmul_gradgradcheck(shapes):
    xs = [_rand(*s, seed=k) for k, s in enumerate(shapes)]
    assert gradgradcheck(ag.matmul, xs)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(2, 3), (3, 2)]), ("ii->i", [(3, 3)]),
                                       ("ij,jk->i", [(2, 3), (3, 2)]), ("ii", [(2, 2)]),
                                       ("i,i,i->", [(3,), (3,), (3,)]),
                                       ("...i,...i->...", [(2, 3), (3,)])], ids=str)
def test_einsum_gradgradcheck(eq, shapes):
    xs = [_rand(*s, seed=k) for k, s in enumerate(shapes)]
    assert gradgradcheck(lambda *a: ag.einsum(eq, *a), xs)


def test_matmul_second_derivative_vs_torch():
    # d/dA of sum((A @ B)**2 ...) via create_graph: compare the Hessian-vector product
    rng = np.random.default_rng(3)
    a, b, v = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), \
        rng.standard_normal((2, 3))
    x, w = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = x @ w, tx @ tw
    gx, = ag.grad((y * y).sum(), [x], create_graph=True)
    tgx, = torch.autograd.grad((ty * ty).sum(), [tx], create_graph=True)
    h = ag.grad((gx * ag.tensor(v)).sum(), [x, w])
    th = torch.autograd.grad((tgx * torch.tensor(v)).sum(), [tx, tw])
    for o, t in zip(h, th):
        np.testing.assert_allclose(o.data, t.numpy(), rtol=1e-10, atol=1e-12)


# -- errors ------------------------------------------------------------------------------------
def test_matmul_dtype_error():
    with pytest.raises(RuntimeError, match=r"matmul.*float32.*float64"):
        ag.ones(2, 3) @ ag.ones(3, 4, dtype=ag.float64)
    with pytest.raises(RuntimeError, match=r"mm.*float32.*float64"):
        ag.mm(ag.ones(2, 3), ag.ones(3, 4, dtype=ag.float64))
    with pytest.raises(RuntimeError, match=r"dot.*float64.*float32"):
        ag.dot(ag.ones(3, dtype=ag.float64), ag.ones(3))
    with pytest.raises(RuntimeError, match=r"einsum.*float32.*float64"):
        ag.einsum("ij,jk", ag.ones(2, 3), ag.ones(3, 4, dtype=ag.float64))


def test_matmul_shape_errors():
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be "
                                           r"multiplied \(3 != 4\)"):
        ag.ones(2, 3) @ ag.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"matmul.*\(3,\).*\(4,\)"):
        ag.ones(3) @ ag.ones(4)
    with pytest.raises(RuntimeError, match=r"matmul.*\(2, 2, 3\).*\(3, 3, 4\)"):
        ag.ones(2, 2, 3) @ ag.ones(3, 3, 4)
    with pytest.raises(RuntimeError, match=r"matmul.*at least 1-D.*\(\).*\(3,\)"):
        ag.tensor(1.0) @ ag.ones(3)


def test_special_case_shape_errors():
    with pytest.raises(RuntimeError, match=r"mm: expected 2-D.*\(3,\).*\(3, 3\)"):
        ag.mm(ag.ones(3), ag.ones(3, 3))
    with pytest.raises(RuntimeError, match=r"mm: shapes \(2, 3\) and \(2, 3\)"):
        ag.mm(ag.ones(2, 3), ag.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"bmm: expected 3-D.*\(2, 3\)"):
        ag.bmm(ag.ones(2, 3), ag.ones(3, 4))
    with pytest.raises(RuntimeError, match=r"bmm: batch sizes.*\(2, 2, 3\).*\(3, 3, 4\)"):
        ag.bmm(ag.ones(2, 2, 3), ag.ones(3, 3, 4))
    with pytest.raises(RuntimeError, match=r"dot: expected 1-D.*\(2, 3\)"):
        ag.dot(ag.ones(2, 3), ag.ones(3))
    with pytest.raises(RuntimeError, match=r"dot.*\(3,\).*\(4,\)"):
        ag.dot(ag.ones(3), ag.ones(4))
    with pytest.raises(RuntimeError, match=r"outer: expected 1-D.*\(2, 3\)"):
        ag.outer(ag.ones(2, 3), ag.ones(3))


def test_einsum_errors():
    with pytest.raises(RuntimeError, match=r"einsum.*2 operand.*1 were given"):
        ag.einsum("ij,jk->ik", ag.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"einsum.*'ij'.*dimensions.*\(2, 3, 4\)"):
        ag.einsum("ij->i", ag.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"einsum: sizes.*3 != 4|einsum: sizes.*4 != 3"):
        ag.einsum("ij,jk->ik", ag.ones(2, 3), ag.ones(4, 5))
    with pytest.raises(RuntimeError, match=r"einsum.*repeated.*\(2, 3\)"):
        ag.einsum("ii->i", ag.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"einsum: output subscript 'k'"):
        ag.einsum("ij->k", ag.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"einsum: invalid subscript '1'"):
        ag.einsum("i1->i", ag.ones(2, 3))

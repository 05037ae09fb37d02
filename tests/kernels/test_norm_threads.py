"""Batch norm's column kernels split over OpenBLAS's threads (kernels/norm_threads.py): each
thread owns a range of channels, so the results are bitwise those of one thread."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd.kernels import blas_threads as BT
from autograd.kernels import norm_threads as NT


def _batch_norm_run(force, dtype, shape):
    old, NT.FORCE = NT.FORCE, force
    try:
        rng = np.random.default_rng(0)
        x = ag.tensor(rng.normal(1, 3, shape).astype(dtype), requires_grad=True)
        w = ag.tensor(rng.uniform(0.5, 2, shape[1]).astype(dtype), requires_grad=True)
        b = ag.tensor(rng.standard_normal(shape[1]).astype(dtype), requires_grad=True)
        mean, var = ag.zeros(shape[1], dtype=x.dtype), ag.ones(shape[1], dtype=x.dtype)
        y = F.batch_norm(x, mean, var, w, b, training=True, momentum=0.1, eps=1e-5)
        y.backward(ag.tensor(rng.standard_normal(shape).astype(dtype)))
        return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy(),
                mean.numpy(), var.numpy()]
    finally:
        NT.FORCE = old


@pytest.mark.usefixtures("two_blas_threads")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 5, 4, 3), (4, 7, 9), (5, 3), (2, 1, 8, 8)])
def test_split_batch_norm_is_bitwise_serial(monkeypatch, split_calls, dtype, shape):
    calls = split_calls
    got = _batch_norm_run(True, dtype, shape)
    assert len(calls) == 2                                  # forward and backward
    for got_part, want in zip(got, _batch_norm_run(False, dtype, shape)):
        np.testing.assert_array_equal(got_part, want)


def test_split_only_when_enabled_large_and_contiguous(monkeypatch):
    monkeypatch.setattr(NT, "FORCE", None)
    monkeypatch.setattr(BT, "threads", lambda: 2)
    big = np.zeros((NT.MIN_ELEMENTS // 4, 4), np.float32)
    monkeypatch.setattr(BT, "ENABLED", False)
    assert not NT._splits(big, (big,), ())                  # TAPEGRAD_BLAS_THREADS=0
    monkeypatch.setattr(BT, "ENABLED", True)
    assert NT._splits(big, (big,), (big,))
    assert not NT._splits(big[1:], (big[1:],), ())          # fewer than MIN_ELEMENTS
    assert not NT._splits(big, (big[:, ::2],), ())           # the jobs assume C order
    assert not NT._splits(big, (big,), (np.ones(4),))         # a float64 weight: serial


def _group_norm_run(force, dtype, shape, groups, layer):
    old, NT.FORCE = NT.FORCE, force
    try:
        rng = np.random.default_rng(1)
        x = ag.tensor(rng.normal(1, 3, shape).astype(dtype), requires_grad=True)
        if layer:
            w = ag.tensor(rng.uniform(0.5, 2, shape[-2:]).astype(dtype), requires_grad=True)
            b = ag.tensor(rng.standard_normal(shape[-2:]).astype(dtype), requires_grad=True)
            y = F.layer_norm(x, shape[-2:], w, b, eps=1e-5)
        else:
            w = ag.tensor(rng.uniform(0.5, 2, shape[1]).astype(dtype), requires_grad=True)
            b = ag.tensor(rng.standard_normal(shape[1]).astype(dtype), requires_grad=True)
            y = F.group_norm(x, groups, w, b, eps=1e-5)
        y.backward(ag.tensor(rng.standard_normal(shape).astype(dtype)))
        return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
    finally:
        NT.FORCE = old


@pytest.mark.usefixtures("two_blas_threads")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, groups, layer", [((5, 6, 4, 3), 3, False),
                                                   ((7, 4, 9), 1, False),
                                                   ((3, 5, 6, 8), 0, True)])
def test_split_row_norms_match_serial(monkeypatch, split_calls, dtype, shape, groups, layer):
    calls = split_calls
    got = _group_norm_run(True, dtype, shape, groups, layer)
    assert len(calls) == 2
    want = _group_norm_run(False, dtype, shape, groups, layer)
    for got_part, want_part in zip(got[:2], want[:2]):             # y, dx: bitwise
        np.testing.assert_array_equal(got_part, want_part)
    tol = 1e-6 if dtype == np.float32 else 1e-12                   # dw, db: summed per part
    for got_part, want_part in zip(got[2:], want[2:]):
        np.testing.assert_allclose(got_part, want_part, rtol=tol, atol=tol)


@pytest.mark.usefixtures("two_blas_threads")
@pytest.mark.parametrize("norm", ["batch", "group", "layer"])
def test_a_float64_weight_beside_float32_data_is_not_misread(norm):
    def run(force):
        old, NT.FORCE = NT.FORCE, force
        try:
            x = ag.tensor(np.random.default_rng(3).standard_normal((6, 4, 5, 5))
                          .astype(np.float32), requires_grad=True)
            shape = (5,) if norm == "layer" else (4,)
            w = ag.tensor(np.linspace(0.5, 2, shape[0]), requires_grad=True)     # float64
            b = ag.tensor(np.linspace(-1, 1, shape[0]), requires_grad=True)
            y = {"batch": lambda: F.batch_norm(x, None, None, w, b, training=True),
                 "group": lambda: F.group_norm(x, 2, w, b),
                 "layer": lambda: F.layer_norm(x, shape, w, b)}[norm]()
            y.backward(ag.ones_like(y))
            return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
        finally:
            NT.FORCE = old
    for got, want in zip(run(True), run(False)):
        np.testing.assert_array_equal(got, want)

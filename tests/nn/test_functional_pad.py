"""F.pad against PyTorch: every mode, 1-3 padded dims, batched and unbatched inputs, negative
pads (cropping), values, gradients (random upstream gradient), gradcheck and gradgradcheck."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from tests.helpers import check_op

# (input shape, pad): the non-constant modes pad the last 1, 2 or 3 dims of (C, *S) or
# (N, C, *S) inputs
NON_CONSTANT_CASES = [
    ((2, 3, 5), (1, 2)),
    ((3, 5), (2, 0)),                        # unbatched 1-d
    ((2, 3, 5), (-1, 2)),                    # crop low, pad high
    ((2, 3, 5), (3, -2)),
    ((1, 2, 4, 5), (1, 1, 2, 3)),
    ((2, 4, 5), (0, 2, 3, 1)),               # unbatched 2-d
    ((1, 2, 4, 5), (-1, 2, 1, -1)),
    ((1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1)),
    ((2, 3, 4, 3), (2, 1, 0, 0, 1, 2)),      # unbatched 3-d
]

CONSTANT_CASES = [
    ((5,), (1, 2)),
    ((2, 3, 5), (1, 2)),
    ((2, 3, 5), (-1, 2, 0, 1)),
    ((2, 3, 4, 5), (1, 1, 2, 0, 1, 3, 0, 1)),    # every dim of a 4-d input
    ((2, 3, 4), (-2, -1, 0, 0, 1, 1)),
    ((3, 4), (0, 0)),
    ((2, 5), (-5, 0)),                           # crops the whole dim: size 0
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", NON_CONSTANT_CASES, ids=str)
def test_pad_non_constant_modes_match_torch(mode, shape, pad):
    check_op(lambda x: F.pad(x, pad, mode=mode), lambda x: TF.pad(x, pad, mode=mode), [shape])


@pytest.mark.parametrize("value", [None, 0.0, -1.5])
@pytest.mark.parametrize("shape,pad", CONSTANT_CASES, ids=str)
def test_pad_constant_matches_torch(shape, pad, value):
    check_op(lambda x: F.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value),
             [shape])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_edge_amounts(mode):
    """The largest pads each mode allows: reflect size - 1, circular size, replicate any."""
    amount = {"reflect": 4, "replicate": 7, "circular": 5}[mode]
    pad = (amount, amount, 1, amount)
    check_op(lambda x: F.pad(x, pad, mode=mode), lambda x: TF.pad(x, pad, mode=mode),
             [(1, 2, 5, 5)])


def test_pad_integer_tensor_constant_value_is_cast():
    x = np.arange(6).reshape(2, 3)
    out = F.pad(ag.tensor(x), (1, 1), value=2.7)
    ref = TF.pad(torch.tensor(x), (1, 1), value=2.7)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, ref.numpy())


def test_pad_float32_stays_float32_and_returns_a_copy_for_zero_pad():
    x = ag.randn(2, 3, 4, requires_grad=True)
    for mode in ("constant", "reflect", "replicate", "circular"):
        y = F.pad(x, (0, 0), mode=mode)
        assert y.dtype == np.float32 and y is not x
        np.testing.assert_array_equal(y.data, x.data)
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3, 4), 4.0, np.float32))


@pytest.mark.parametrize("mode,pad", [("constant", (2, -1, 1, 1)), ("reflect", (2, 1, -1, 2)),
                                      ("replicate", (3, 1, 2, 0)), ("circular", (2, 3, -1, 1))])
def test_pad_gradgradcheck(mode, pad):
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)

    def f(x):       # a nonlinearity after the pad makes the second derivative non-trivial
        return F.pad(x, pad, mode=mode) ** 2
    assert ag.autograd.gradgradcheck(f, [x])


def test_pad_replicate_gradient_accumulates_at_the_edge():
    x = ag.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    F.pad(x, (2, 3), mode="replicate").sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[3.0, 1.0, 4.0]]])


@pytest.mark.parametrize("shape,pad,mode,match", [
    ((2, 3, 5), (1,), "constant", "divisible by 2"),
    ((2, 3), (1, 1, 1, 1, 1, 1), "constant", "two times the input dimension"),
    ((2, 3, 5), (-4, -2), "constant", "crops more than its size"),
    ((2, 3, 5), (5, 1), "reflect", r"smaller than its size 5 \(input of shape \(2, 3, 5\)"),
    ((2, 3, 5), (-3, -2), "replicate", "output size 0"),
    ((2, 3, 5), (6, 0), "circular", "wraps around more than once"),
    ((2, 3, 5), (3, -3), "circular", "wraps around more than once"),
    ((2, 3, 0), (1, 1), "reflect", r"non-empty .* shape \(2, 3, 0\)"),
])
def test_pad_errors_name_the_op_and_shapes(shape, pad, mode, match):
    with pytest.raises(RuntimeError, match=match):
        F.pad(ag.zeros(*shape), pad, mode=mode)


def test_pad_unsupported_combinations():
    with pytest.raises(NotImplementedError, match=r"3-d \(N, C, \*S\) input, got shape \(5,\)"):
        F.pad(ag.zeros(5), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match=r"got shape \(1, 2, 3, 4\)"):
        F.pad(ag.zeros(1, 2, 3, 4), (1, 1), mode="circular")
    with pytest.raises(NotImplementedError, match="unrecognised padding mode 'wrap'"):
        F.pad(ag.zeros(2, 3), (1, 1), mode="wrap")
    with pytest.raises(RuntimeError, match="doesn't take a value"):
        F.pad(ag.zeros(2, 3), (1, 1), mode="reflect", value=1.0)
    with pytest.raises(TypeError, match="pad: expected a Tensor"):
        F.pad(np.zeros((2, 3)), (1, 1))
    with pytest.raises(TypeError, match=r"pad must be a tuple of ints, got \(1.5, 1\)"):
        F.pad(ag.zeros(2, 3), (1.5, 1))

"""Convolutions (nn.functional.conv, autograd/ops/conv.py) against PyTorch: values and the
gradients of input, weight and bias, float32 and float64, gradcheck in float64."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from autograd.ops import conv as conv_ops
from tests.helpers import check_op

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same.")


def check_conv(ours, ref, shapes, layouts=("contiguous",), **kw):
    """float64 at the default tolerance (with gradcheck), float32 at 1e-4: a convolution
    sums C*K products per output and N*L per weight gradient, in another order than
    PyTorch's (float32 rounding ~1e-7 relative per term)."""
    check_op(ours, ref, shapes, dtypes=(np.float64,), layouts=layouts, **kw)
    check_op(ours, ref, shapes, dtypes=(np.float32,), layouts=layouts, rtol=1e-4, atol=1e-4,
             gradcheck=False, **kw)


def _with_bias(ours, theirs, kw):
    return (lambda x, w, b: ours(x, w, b, **kw)), (lambda x, w, b: theirs(x, w, b, **kw))


# name, (ours, PyTorch's), input shape, weight shape, keyword arguments
CONV = [
    ("2d_pad1", F.conv2d, TF.conv2d, (2, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ("2d_odd_stride_gt_kernel", F.conv2d, TF.conv2d, (2, 3, 9, 7), (4, 3, 2, 3),
     dict(stride=(4, 3))),
    ("2d_dilation2", F.conv2d, TF.conv2d, (2, 2, 9, 8), (3, 2, 3, 3),
     dict(dilation=2, padding=2)),
    ("2d_dilation3", F.conv2d, TF.conv2d, (1, 2, 10, 9), (3, 2, 2, 3),
     dict(dilation=(3, 2), padding=(1, 0), stride=(1, 2))),
    ("2d_groups2", F.conv2d, TF.conv2d, (2, 4, 6, 5), (6, 2, 3, 3),
     dict(groups=2, padding=1, stride=2)),
    ("2d_depthwise", F.conv2d, TF.conv2d, (2, 4, 6, 5), (8, 1, 3, 3),
     dict(groups=4, padding=1)),
    ("2d_batch1", F.conv2d, TF.conv2d, (1, 3, 5, 5), (2, 3, 3, 3), {}),
    ("2d_same_even", F.conv2d, TF.conv2d, (2, 2, 6, 7), (3, 2, 4, 2), dict(padding="same")),
    ("2d_same_even_dilated", F.conv2d, TF.conv2d, (2, 2, 7, 7), (3, 2, 2, 4),
     dict(padding="same", dilation=(3, 1))),
    ("2d_valid", F.conv2d, TF.conv2d, (2, 2, 6, 7), (3, 2, 3, 3), dict(padding="valid")),
    ("2d_first_layer", F.conv2d, TF.conv2d, (2, 1, 6, 6), (20, 1, 3, 3), dict(padding=1)),
    ("1d", F.conv1d, TF.conv1d, (2, 3, 11), (4, 3, 3), dict(stride=2, padding=1)),
    ("1d_same_even", F.conv1d, TF.conv1d, (2, 3, 10), (4, 3, 4),
     dict(padding="same", dilation=2)),
    ("1d_groups_dilation3", F.conv1d, TF.conv1d, (2, 4, 9), (4, 2, 3),
     dict(groups=2, dilation=3)),
    ("3d", F.conv3d, TF.conv3d, (2, 2, 5, 4, 6), (3, 2, 2, 3, 3),
     dict(stride=(1, 2, 1), padding=1)),
    ("3d_same_even", F.conv3d, TF.conv3d, (1, 2, 4, 5, 4), (2, 2, 2, 3, 2),
     dict(padding="same")),
    ("3d_depthwise", F.conv3d, TF.conv3d, (1, 3, 4, 4, 5), (3, 1, 3, 3, 3),
     dict(groups=3, padding=1, stride=2)),
]

TRANSPOSED = [
    ("t2d_pad1", F.conv_transpose2d, TF.conv_transpose2d, (2, 3, 4, 5), (3, 2, 3, 3),
     dict(padding=1)),
    ("t2d_stride_output_padding", F.conv_transpose2d, TF.conv_transpose2d, (2, 3, 4, 5),
     (3, 2, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    ("t2d_dilation_groups", F.conv_transpose2d, TF.conv_transpose2d, (2, 4, 3, 4),
     (4, 3, 3, 2), dict(stride=2, dilation=(2, 3), groups=2, output_padding=1)),
    ("t2d_depthwise", F.conv_transpose2d, TF.conv_transpose2d, (2, 3, 4, 4), (3, 1, 3, 3),
     dict(groups=3, stride=2)),
    ("t2d_output_padding_below_dilation", F.conv_transpose2d, TF.conv_transpose2d,
     (1, 2, 4, 4), (2, 2, 2, 2), dict(dilation=3, output_padding=2)),
    ("t1d", F.conv_transpose1d, TF.conv_transpose1d, (2, 3, 6), (3, 2, 4),
     dict(stride=3, padding=1, output_padding=2)),
    ("t3d", F.conv_transpose3d, TF.conv_transpose3d, (1, 2, 3, 3, 2), (2, 2, 2, 3, 2),
     dict(stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 1))),
]


def _bias_shape(name, wshape, kw):
    return (wshape[1] * kw.get("groups", 1),) if name.startswith("t") else (wshape[0],)


@pytest.mark.parametrize("name,ours,theirs,xshape,wshape,kw", CONV + TRANSPOSED,
                         ids=[c[0] for c in CONV + TRANSPOSED])
def test_conv(name, ours, theirs, xshape, wshape, kw):
    check_conv(*_with_bias(ours, theirs, kw), [xshape, wshape, _bias_shape(name, wshape, kw)])


@pytest.mark.parametrize("layout", [False, True], ids=["channel_major", "image_major"])
@pytest.mark.parametrize("case", [CONV[1], CONV[4], CONV[14], TRANSPOSED[2]],
                         ids=lambda c: c[0])
def test_both_column_layouts(case, layout, monkeypatch):
    # the GEMM layout is chosen by shape; force each one on a few geometries
    monkeypatch.setattr(conv_ops, "LAYOUT", layout)
    name, ours, theirs, xshape, wshape, kw = case
    check_conv(*_with_bias(ours, theirs, kw), [xshape, wshape, _bias_shape(name, wshape, kw)])


STRIDE_ONE = [c for c in CONV + TRANSPOSED if c[5].get("stride", 1) == 1]


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "im2col"])
@pytest.mark.parametrize("case", STRIDE_ONE, ids=lambda c: c[0])
def test_flat_and_im2col_paths(case, flat, monkeypatch):
    # stride 1 runs the flat loop or im2col by shape; force each one (values, gradients and
    # gradcheck: conv, conv_transpose and conv_weight on either path)
    monkeypatch.setattr(conv_ops, "FLAT", flat)
    name, ours, theirs, xshape, wshape, kw = case
    check_conv(*_with_bias(ours, theirs, kw), [xshape, wshape, _bias_shape(name, wshape, kw)])


def test_flat_path_taken():
    # the benchmark's layer (32 -> 64 channels, 3x3 'same') runs the flat loop, forward and
    # input gradient; a one-channel first layer keeps im2col's per-image GEMM
    geom = conv_ops.ConvGeometry((14, 14), (14, 14), (3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert conv_ops._flat_plan(geom, 64, 32) is geom.flat is not None
    assert conv_ops._flat_plan(geom, 32, 64, transpose=True) is geom.flat_t is not None
    assert conv_ops._flat_plan(geom, 32, 1) is None


@pytest.mark.parametrize("groups", [1, 2])
def test_weight_gradient_tiles(groups, monkeypatch):
    # C/G = 16 channels: the weight gradient by register tiles (x packed channels last),
    # the forward and input gradient by gather tiles; values and gradients against PyTorch,
    # gradcheck and gradgradcheck in float64
    from autograd.kernels import conv_tile
    monkeypatch.setattr(conv_ops, "FLAT", True)
    monkeypatch.setattr(conv_ops, "BATCH_LAST", False)
    calls = []
    packer = conv_tile.pack_last
    monkeypatch.setattr(conv_tile, "pack_last", lambda *a: calls.append(1) or packer(*a))
    kw = dict(padding=1, groups=groups)
    check_conv(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: TF.conv2d(x, w, b, **kw),
               [(2, 16 * groups, 7, 6), (6, 16, 3, 3), (6,)])
    assert calls                                           # the tiles' weight gradient ran
    calls.clear()
    rng = np.random.default_rng(5)
    x = ag.tensor(rng.standard_normal((1, 16 * groups, 6, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 16, 3, 3)), requires_grad=True)
    assert ag.autograd.gradgradcheck(lambda x, w: F.conv2d(x, w, padding=1, groups=groups),
                                     [x, w])
    assert calls


def test_gradgradcheck_flat(monkeypatch):
    monkeypatch.setattr(conv_ops, "FLAT", True)
    rng = np.random.default_rng(4)
    x = ag.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 1, 3, 2)), requires_grad=True)
    assert ag.autograd.gradgradcheck(
        lambda x, w: F.conv2d(x, w, padding="same", dilation=(1, 2), groups=2), [x, w])


@pytest.mark.parametrize("case", CONV + TRANSPOSED, ids=lambda c: c[0])
def test_batch_last_path(case, monkeypatch):
    # every geometry on batch-last columns (forced, chunks of one output row): values,
    # gradients of input, weight and bias against PyTorch, float64 gradcheck
    from autograd.ops import conv_paths
    monkeypatch.setattr(conv_ops, "BATCH_LAST", True)
    monkeypatch.setattr(conv_paths, "CHUNK", 1)
    monkeypatch.setattr(conv_paths, "MIN_POSITIONS", 1)
    monkeypatch.setattr(conv_paths, "MIN_WEIGHT_POSITIONS", 1)
    name, ours, theirs, xshape, wshape, kw = case
    check_conv(*_with_bias(ours, theirs, kw), [xshape, wshape, _bias_shape(name, wshape, kw)])


def test_batch_last_path_taken(monkeypatch):
    # ResNet-18's strided layers and its 4x4 one (no flat layout: 36 % of its positions
    # would be dropped) take batch-last columns; layers with a flat layout its register
    # tiles, even the 8x8 'same' (21 % dropped) and 16x16 valid ones (23 %); without tiles
    # batch-last takes those dropping over DROPPED; short sums and 1x1 stride-1
    # convolutions neither
    def geom(size, kernel, stride, pad):
        out = (size + 2 * pad - kernel) // stride + 1
        return conv_ops.ConvGeometry((size, size), (out, out), (kernel, kernel),
                                     (stride, stride), (pad, pad), (1, 1), 1)
    for size, c, kernel, stride in [(4, 512, 3, 1), (32, 64, 3, 2), (16, 128, 1, 2)]:
        g = geom(size, kernel, stride, kernel // 2)
        assert conv_ops._batch_last_plan(g, 16, c, 2 * c) is g.batch_last is not None
    tiled = [(8, 16, 256, 256, 3, 1), (16, 64, 32, 64, 3, 0)]
    for size, n, c, o, kernel, pad in tiled:
        assert conv_ops._batch_last_plan(geom(size, kernel, 1, pad), n, c, o) is None
    for size, n, c, o, kernel in [(14, 64, 32, 64, 3), (32, 16, 64, 64, 3), (32, 16, 3, 64, 3),
                                  (8, 16, 64, 64, 1)]:
        assert conv_ops._batch_last_plan(geom(size, kernel, 1, kernel // 2), n, c, o) is None
    monkeypatch.setattr(conv_ops, "TILES", False)
    for size, n, c, o, kernel, pad in tiled:
        g = geom(size, kernel, 1, pad)
        assert conv_ops._batch_last_plan(g, n, c, o) is g.batch_last is not None


@pytest.mark.parametrize("path", ["batch_last", "shift"])
def test_weight_gradient_reuses_the_forward_pack(path, monkeypatch):
    # the forward's packed input serves the weight gradient: x is packed once per step and
    # g once for both gradients (counting the pack kernels); the gradients match PyTorch
    from autograd.kernels import conv_batch_last, conv_flat
    monkeypatch.setattr(conv_ops, "BATCH_LAST", path == "batch_last")
    monkeypatch.setattr(conv_ops, "TILES", False)
    module, name = (conv_batch_last, "pack") if path == "batch_last" else \
        (conv_flat, "pack_images")
    calls = []
    packer = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a: calls.append(a[0].shape) or packer(*a))
    rng = np.random.default_rng(8)
    xs, ws = rng.standard_normal((3, 16, 6, 6)), rng.standard_normal((16, 16, 3, 3))
    x, w = ag.tensor(xs, requires_grad=True), ag.tensor(ws, requires_grad=True)
    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    TF.conv2d(tx, tw, padding=1).sum().backward()
    assert calls == [(3, 16, 1, 6, 6), (3, 16, 1, 6, 6)]       # x, then g
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10, atol=1e-10)
    # the kept pack is one of the node's saved arrays: kept by retain_graph (x is not packed
    # again, only g), freed by the last backward
    y = F.conv2d(x, w, padding=1)
    assert len(y.grad_fn.saved_arrays) == 1
    calls.clear()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert calls == [(3, 16, 1, 6, 6)] * 2                      # g, g
    assert y.grad_fn._arrays is None


def test_register_tiles_pack_what_they_read(monkeypatch):
    # on the flat layout (14x14: 13 % of its positions dropped) with register tiles nothing
    # is kept: the forward packs x, the input gradient (a convolution of g with the flipped
    # kernel) packs g in its input layout, which the weight gradient reads shifted as g's
    # output layout (conv_paths.g_output_layout), with x packed channels last
    from autograd.kernels import conv_flat, conv_tile
    calls = []
    for module, name in ((conv_flat, "pack_images"), (conv_tile, "pack_last")):
        packer = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, packer=packer, name=name:
                            calls.append((name, a[0].shape)) or packer(*a))
    rng = np.random.default_rng(8)
    xs, ws = rng.standard_normal((3, 16, 14, 14)), rng.standard_normal((16, 16, 3, 3))
    x, w = ag.tensor(xs, requires_grad=True), ag.tensor(ws, requires_grad=True)
    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.grad_fn.saved_arrays is None
    y.sum().backward()
    TF.conv2d(tx, tw, padding=1).sum().backward()
    shape = (3, 16, 1, 14, 14)
    assert calls == [("pack_images", shape)] * 2 + [("pack_last", shape)]
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", [((14, 14), (3, 3), (1, 1), (1, 1)),     # 'same'
                                  ((16, 16), (3, 3), (0, 0), (1, 1)),     # 'valid'
                                  ((9, 11), (3, 2), (2, 1), (2, 1)),      # dilation, uneven
                                  ((8, 9, 10), (3, 3, 3), (1, 1, 1), (1, 1, 1)),
                                  ((20,), (5,), (2,), (1,))], ids=str)
def test_g_output_layout_is_the_shifted_transposed_pack(case):
    # the input gradient's pack of g (the transposed plan's input layout), shifted by its
    # gap offset, is g in the forward plan's output layout wherever both have one extent
    from autograd.kernels import conv_scratch as KW
    from autograd.ops import conv_paths as P
    size, kernel, pad, dil = case
    out = tuple(s + 2 * p - d * (k - 1) for s, k, p, d in zip(size, kernel, pad, dil))
    geom = conv_ops.ConvGeometry(size, out, kernel, (1,) * len(size), pad, dil, 1)
    g = np.random.default_rng(0).standard_normal((3, 5) + out)
    want = KW.pack_output(g, P.five(g, len(size)), geom.flat).copy()
    with KW.sharing_packs():
        P.flat_loop_conv(g, np.ones((2, 5, int(np.prod(kernel)))), None, geom, geom.flat_t,
                         size, share=True)
        got = P.g_output_layout(g, geom, geom.flat)
    assert tuple(geom.flat_t.ext) == tuple(geom.flat.ext)
    np.testing.assert_array_equal(got, want)


def test_non_contiguous_layouts():
    ours, theirs = _with_bias(F.conv2d, TF.conv2d, dict(stride=2, padding=1, groups=2))
    check_op(ours, theirs, [(2, 4, 5, 6), (4, 2, 3, 3), (4,)], dtypes=(np.float64,),
             gradcheck=False)


def test_no_bias():
    check_conv(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
               [(2, 3, 5, 5), (2, 3, 3, 3)])
    check_conv(lambda x, w: F.conv_transpose1d(x, w, stride=2),
               lambda x, w: TF.conv_transpose1d(x, w, stride=2), [(2, 3, 5), (3, 2, 3)])


def test_unbatched():
    check_conv(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
               [(3, 5, 4), (2, 3, 3, 3)])
    check_conv(lambda x, w: F.conv_transpose1d(x, w, stride=2),
               lambda x, w: TF.conv_transpose1d(x, w, stride=2), [(3, 5), (3, 2, 3)])


def test_depthwise_separable():
    # depthwise 3x3 (groups = C_in) then pointwise 1x1
    def ours(x, wd, wp, b):
        return F.conv2d(F.conv2d(x, wd, padding=1, groups=4), wp, b)

    def theirs(x, wd, wp, b):
        return TF.conv2d(TF.conv2d(x, wd, padding=1, groups=4), wp, b)
    check_conv(ours, theirs, [(2, 4, 6, 5), (4, 1, 3, 3), (6, 4, 1, 1), (6,)])


@pytest.mark.parametrize("batch_last", [None, True], ids=["chosen path", "batch-last"])
def test_gradgradcheck_conv2d(batch_last, monkeypatch):
    monkeypatch.setattr(conv_ops, "BATCH_LAST", batch_last)
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((2, 4, 5, 4)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 2, 3, 2)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(4), requires_grad=True)
    assert ag.autograd.gradgradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
        [x, w, b])


def test_gradgradcheck_conv_transpose2d():
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((2, 2, 2, 3)), requires_grad=True)
    assert ag.autograd.gradgradcheck(
        lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=(0, 1), output_padding=1),
        [x, w])


def test_double_backward_matches_torch():
    # d/dx of sum((d loss / dw)^2): a weight gradient differentiated again
    rng = np.random.default_rng(2)
    xs, ws = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    x, w = ag.tensor(xs, requires_grad=True), ag.tensor(ws, requires_grad=True)
    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    (gw,) = ag.grad((F.conv2d(x, w, stride=2, padding=1) ** 2).sum(), [w], create_graph=True)
    (tgw,) = torch.autograd.grad((TF.conv2d(tx, tw, stride=2, padding=1) ** 2).sum(), [tw],
                                 create_graph=True)
    got = ag.grad((gw ** 2).sum(), [x, w])
    want = torch.autograd.grad((tgw ** 2).sum(), [tx, tw])
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.data, t.numpy(), rtol=1e-9, atol=1e-9)


def _t(*shape, dtype=np.float32):
    return ag.tensor(np.zeros(shape, dtype))


@pytest.mark.parametrize("call,match", [
    (lambda: F.conv2d(_t(2, 3, 5, 5), _t(4, 2, 3, 3)),
     r"conv2d: input of shape \(2, 3, 5, 5\) has 3 channels, but weight of shape \(4, 2, 3, 3\)"),
    (lambda: F.conv2d(_t(2, 4, 5, 5), _t(3, 2, 3, 3), groups=2),
     r"conv2d: groups=2 must divide .*output channels \(3, weight of shape \(3, 2, 3, 3\)\)"),
    (lambda: F.conv2d(_t(2, 3, 5, 5), _t(3, 1, 3, 3), groups=2),
     r"conv2d: groups=2 must divide both the input channels \(3, input of shape"),
    (lambda: F.conv2d(_t(1, 1, 4, 4), _t(1, 1, 5, 3)),
     r"conv2d: kernel size .*larger than the padded input size \(4, 4\) \(input of shape"),
    (lambda: F.conv1d(_t(1, 1, 5), _t(1, 1, 3), dilation=3),
     r"conv1d: kernel size \(dilated: \(7,\)\) is larger than the padded input size \(5,\)"),
    (lambda: F.conv2d(_t(1, 1, 4, 4), _t(1, 1, 2, 2), stride=2, padding="same"),
     r"conv2d: padding='same' is not supported for strided"),
    (lambda: F.conv2d(_t(1, 1, 4, 4), _t(1, 1, 2, 2), padding="full"),
     r"conv2d: invalid padding string 'full'"),
    (lambda: F.conv2d(_t(1, 4, 4), _t(1, 1, 2)),
     r"conv2d: expected a 4-d weight .* got weight of shape \(1, 1, 2\)"),
    (lambda: F.conv3d(_t(4, 4), _t(1, 1, 2, 2, 2)),
     r"conv3d: expected a 4-d \(unbatched\) or 5-d \(batched\) input, got input of shape"),
    (lambda: F.conv2d(_t(1, 1, 4, 4), _t(1, 1, 2, 2, dtype=np.float64)),
     r"conv2d: input, weight and bias must have the same floating point dtype"),
    (lambda: F.conv2d(_t(1, 1, 4, 4), _t(2, 1, 2, 2), _t(3)),
     r"conv2d: expected bias of shape \(2,\) for weight of shape \(2, 1, 2, 2\), got \(3,\)"),
    (lambda: F.conv2d(_t(1, 1, 4, 4), _t(1, 1, 2, 2), stride=0),
     r"conv2d: stride must be positive"),
    (lambda: F.conv2d(_t(1, 1, 4, 4), _t(1, 1, 2, 2), padding=(1, 2, 3)),
     r"conv2d: expected padding to be a single int or a tuple of 2 ints"),
    (lambda: F.conv_transpose2d(_t(1, 2, 4, 4), _t(3, 1, 2, 2)),
     r"conv_transpose2d: input of shape \(1, 2, 4, 4\) has 2 channels, but weight of shape"),
    (lambda: F.conv_transpose2d(_t(1, 2, 4, 4), _t(2, 1, 3, 3), stride=2, output_padding=2),
     r"conv_transpose2d: output_padding=\(2, 2\) must be smaller than either stride"),
    (lambda: F.conv_transpose1d(_t(1, 3, 4), _t(3, 1, 3), groups=2),
     r"conv_transpose1d: groups=2 must divide the input channels \(3, input of shape"),
    (lambda: F.conv_transpose1d(_t(1, 1, 1), _t(1, 1, 1), padding=1),
     r"conv_transpose1d: .* gives output size \(-1,\): too small"),
], ids=range(17))
def test_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_integer_input_rejected():
    x = ag.tensor(np.zeros((1, 1, 3, 3), np.int64))
    with pytest.raises(RuntimeError, match="conv2d: input, weight and bias must have the same "
                                           "floating point dtype, got input int64"):
        F.conv2d(x, _t(1, 1, 2, 2))


def test_float32_stays_float32():
    y = F.conv2d(_t(1, 2, 4, 4), _t(3, 2, 3, 3), _t(3), padding=1)
    assert y.dtype == np.float32
    assert F.conv_transpose2d(_t(1, 2, 4, 4), _t(2, 3, 3, 3), _t(3)).dtype == np.float32


def test_retain_graph_second_backward():
    rng = np.random.default_rng(3)
    x = ag.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    first = (x.grad.data.copy(), w.grad.data.copy())
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first[0])
    np.testing.assert_allclose(w.grad.data, 2 * first[1])


def test_geometries_are_made_once():
    """nn.functional's convolutions share one ConvGeometry per distinct geometry
    (ops.conv.geometry): built once, never mutated."""
    args = ((9, 9), (9, 9), (3, 3), (1, 1), (1, 1), (1, 1), 1)
    conv_ops.geometry.cache_clear()
    x, w = ag.randn(2, 3, 9, 9), ag.randn(4, 3, 3, 3)
    y1 = F.conv2d(x, w, padding=1)
    y2 = F.conv2d(x, w, padding=1)
    assert conv_ops.geometry.cache_info().hits >= 1
    assert conv_ops.geometry(*args) is conv_ops.geometry(*args)
    np.testing.assert_array_equal(y1.data, y2.data)

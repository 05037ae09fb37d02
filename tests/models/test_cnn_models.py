"""The CNN chapter's models (LeNet-5, ResNet, GoogLeNet, FCN): output shapes, outputs and
gradients against the same models written with torch.nn (weights copied; float32 and float64;
train and eval), gradcheck on tiny instances, parameter counts, bad inputs."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from autograd.autograd import gradcheck
from nn import models
from tests.nn.module_helpers import check_module, copy_torch_state

from . import torch_cnn_reference as ref
from .threads import one_thread


@pytest.fixture(autouse=True)
def _one_thread():
    """Small convolutions: one BLAS and one numba thread (see tests/models/threads.py)."""
    with one_thread():
        yield


def _count(module):
    return sum(int(np.prod(p.shape)) for p in module.parameters())


def _torch_count(module):
    return sum(p.numel() for p in module.parameters())


def _same_layout(ours, theirs):
    """The two state dicts have the same names, in the same order, with the same shapes."""
    o = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    t = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(o) == list(t)
    assert o == t


def _compare(make_ours, make_theirs, shape, modes=("train", "eval"), float32="close"):
    """Against the torch model after copying the weights. float64: outputs, input and
    parameter gradients and buffers to 1e-9, in every mode. float32: the same to
    check_module's 2e-5 ("close"), or for deep nets ("forward") outputs and running
    statistics only. Deep nets' float32 gradients are not comparable: a ReLU input within
    rounding of 0 can have the opposite sign in the other library, and that one flipped
    derivative moves the gradients upstream of it by up to 30 % on these tiny nets (seen
    with torch's float32 against its own float64 too). The float32 gradients of each layer
    are compared in the layers' tests, and of the blocks here."""
    check_module(make_ours, make_theirs, [shape], dtypes=(np.float64,), modes=modes)
    if float32 == "close":
        check_module(make_ours, make_theirs, [shape], dtypes=(np.float32,), modes=modes)
        return
    for mode in modes:
        _compare_forward_float32(make_ours, make_theirs, shape, mode)


def _compare_forward_float32(make_ours, make_theirs, shape, mode, seed=0):
    """Outputs and buffers of the float32 models, to 1e-4 relative to each tensor's norm
    (the forward is continuous: float32 rounding moves it by ~1e-5)."""
    torch.manual_seed(seed)
    theirs = make_theirs().float().train(mode == "train")
    ours = make_ours().to(ag.float32).train(mode == "train")
    copy_torch_state(ours, theirs)
    x = np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)
    out, t_out = ours(ag.tensor(x)), theirs(torch.tensor(x))
    assert out.dtype == np.float32
    pairs = [("output", out.data, t_out.detach().numpy())]
    t_buffers = dict(theirs.named_buffers())
    pairs += [(k, v.data, t_buffers[k].numpy()) for k, v in ours.named_buffers()]
    for name, a, b in pairs:
        err = np.linalg.norm(a.astype(np.float64) - b) / max(np.linalg.norm(b), 1e-30)
        assert err <= 1e-4, (name, mode, err)


def _gradcheck(model, shape, seed=0, fast_mode=True, eps=1e-6):
    """gradcheck (float64) with respect to the input and every parameter: gradcheck perturbs
    each parameter's array in place, which the model reads. fast_mode checks one random
    projection v^T J u. A whole tiny ResNet/GoogLeNet needs eps=1e-9: u moves every
    parameter at once, and through batch norms over a few values per channel the output is
    so curved that central differences converge to the analytical value only below ~1e-8
    (at eps 1e-6 they are off by ~5 %, at 1e-7 by ~0.5 %, for the analytical value that
    matches PyTorch to 1e-9)."""
    model.to(ag.float64)
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.standard_normal(shape), requires_grad=True)
    params = list(model.parameters())
    assert gradcheck(lambda x, *ps: model(x), [x, *params], fast_mode=fast_mode, eps=eps,
                     atol=1e-6, seed=seed)


# -- LeNet-5 ---------------------------------------------------------------------------------
def test_lenet5_shapes_and_parameter_count():
    model = models.LeNet5()
    assert model(ag.randn(3, 1, 28, 28)).shape == (3, 10)
    assert _count(model) == _torch_count(ref.LeNet5()) == 61706
    model32 = models.LeNet5(num_classes=7, in_channels=3, padding=0)
    assert model32(ag.randn(2, 3, 32, 32)).shape == (2, 7)
    assert _count(model32) == _torch_count(ref.LeNet5(7, 3, padding=0))


def test_lenet5_matches_torch():
    _compare(models.LeNet5, ref.LeNet5, (4, 1, 28, 28), modes=("train",))


def test_lenet5_gradcheck():
    _gradcheck(models.LeNet5(num_classes=3), (2, 1, 28, 28))


def test_lenet5_variants_and_bad_input():
    for act in ("relu", "sigmoid"):
        assert models.LeNet5(activation=act, pool="max")(ag.randn(1, 1, 28, 28)).shape == (1, 10)
    with pytest.raises(ValueError, match="LeNet5.*activation"):
        models.LeNet5(activation="gelu")
    with pytest.raises(ValueError, match=r"LeNet5.*\(N, C, 28, 28\).*\(2, 1, 32, 32\)"):
        models.LeNet5()(ag.randn(2, 1, 32, 32))


# -- ResNet ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, torchvision_count", [
    ("resnet18", 11689512), ("resnet34", 21797672), ("resnet50", 25557032)])
def test_resnet_parameter_counts(name, torchvision_count):
    ours, theirs = getattr(models, name)(), ref.resnet(name)
    _same_layout(ours, theirs)
    assert _count(ours) == _torch_count(theirs) == torchvision_count
    ours, theirs = (getattr(models, name)(num_classes=10, width=16, small_input=True),
                    ref.resnet(name, num_classes=10, width=16, small_input=True))
    _same_layout(ours, theirs)
    assert _count(ours) == _torch_count(theirs)


@pytest.mark.parametrize("name, small_input, shape", [
    ("resnet18", True, (2, 3, 16, 16)), ("resnet18", False, (2, 3, 64, 64)),
    ("resnet50", True, (2, 3, 16, 16))])
def test_resnet_matches_torch(name, small_input, shape):
    """Sizes keep at least 8 values per channel in layer4's batch norm: over 2 values
    (N=2, 1x1) it maps to +-1 and turns float32 rounding into O(1e-3) output differences."""
    kwargs = dict(num_classes=5, width=4, small_input=small_input)
    _compare(lambda: getattr(models, name)(**kwargs), lambda: ref.resnet(name, **kwargs), shape,
             float32="forward")


@pytest.mark.parametrize("name, expected_out", [("resnet18", 16), ("resnet34", 16),
                                                ("resnet50", 64)])
def test_resnet_shapes(name, expected_out):
    model = getattr(models, name)(num_classes=7, width=2, in_channels=1, small_input=True)
    assert model.fc.in_features == expected_out
    assert model(ag.randn(3, 1, 12, 12)).shape == (3, 7)
    stem = getattr(models, name)(num_classes=7, width=2)
    h = stem.maxpool(stem.relu(stem.bn1(stem.conv1(ag.randn(1, 3, 64, 64)))))
    assert h.shape == (1, 2, 16, 16)                   # the ImageNet stem divides by 4
    assert stem(ag.randn(1, 3, 64, 64)).shape == (1, 7)


def test_resnet_blocks_match_torch():
    _compare(lambda: models.BasicBlock(4, 4), lambda: ref.BasicBlock(4, 4), (2, 4, 6, 6))

    def bottleneck(lib, block):
        down = lib.Sequential(lib.Conv2d(4, 32, 1, stride=2, bias=False), lib.BatchNorm2d(32))
        return block(4, 8, stride=2, downsample=down)
    _compare(lambda: bottleneck(nn, models.Bottleneck),
             lambda: bottleneck(torch.nn, ref.Bottleneck), (2, 4, 6, 6))


def test_resnet_blocks():
    block = models.BasicBlock(4, 4)
    assert block(ag.randn(2, 4, 6, 6)).shape == (2, 4, 6, 6) and block.downsample is None
    down = nn.Sequential(nn.Conv2d(4, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
    bottleneck = models.Bottleneck(4, 8, stride=2, downsample=down)
    assert bottleneck(ag.randn(2, 4, 6, 6)).shape == (2, 32, 3, 3)


def test_resnet_blocks_gradcheck_full_jacobian():
    ag.manual_seed(0)
    _gradcheck(models.BasicBlock(2, 2), (2, 2, 3, 3), fast_mode=False)
    down = nn.Sequential(nn.Conv2d(2, 4, 1, stride=2, bias=False), nn.BatchNorm2d(4))
    _gradcheck(models.Bottleneck(2, 1, stride=2, downsample=down), (2, 2, 4, 4),
               fast_mode=False)


def test_resnet_gradcheck():
    ag.manual_seed(0)
    _gradcheck(models.resnet18(num_classes=3, width=2, small_input=True), (2, 3, 16, 16),
               eps=1e-9)
    _gradcheck(models.resnet50(num_classes=3, width=2, small_input=False), (2, 3, 64, 64),
               eps=1e-9)


def test_resnet_zero_init_residual_and_bad_input():
    model = models.resnet18(num_classes=3, width=2, zero_init_residual=True)
    assert not np.any(model.layer1[0].bn2.weight.data)
    model = models.resnet50(num_classes=3, width=2, zero_init_residual=True)
    assert not np.any(model.layer3[1].bn3.weight.data)
    with pytest.raises(ValueError, match=r"ResNet.*\(N, 3, H, W\).*\(2, 1, 8, 8\)"):
        model(ag.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match="ResNet: layers"):
        models.ResNet(models.BasicBlock, [2, 2, 2])


def test_resnet_init_as_torchvision():
    ag.manual_seed(0)
    model = models.resnet18(width=32)
    w = model.layer3[0].conv1.weight.data          # kaiming normal, fan_out, relu
    expected_std = np.sqrt(2.0 / (w.shape[0] * 9))
    assert abs(w.std() / expected_std - 1) < 0.05 and w.dtype == np.float32
    assert np.all(model.bn1.weight.data == 1) and np.all(model.bn1.bias.data == 0)


# -- GoogLeNet -------------------------------------------------------------------------------
def test_inception_block_shapes_and_torch():
    block = models.Inception(8, 4, 3, 6, 2, 5, 3)
    assert block.out_channels == 18
    assert block(ag.randn(2, 8, 7, 7)).shape == (2, 18, 7, 7)
    _compare(lambda: models.Inception(8, 4, 3, 6, 2, 5, 3),
             lambda: ref.Inception(8, 4, 3, 6, 2, 5, 3), (2, 8, 5, 5))
    with pytest.raises(ValueError, match=r"Inception.*\(N, 8, H, W\).*\(2, 4, 5, 5\)"):
        block(ag.randn(2, 4, 5, 5))


def test_googlenet_parameter_counts():
    for kwargs in (dict(), dict(num_classes=10, width=16, small_input=True)):
        ours, theirs = models.GoogLeNet(**kwargs), ref.GoogLeNet(**kwargs)
        _same_layout(ours, theirs)
        assert _count(ours) == _torch_count(theirs)
    assert _count(models.googlenet_small(10)) == _count(models.GoogLeNet(10, width=16,
                                                                          small_input=True))


def test_googlenet_shapes():
    model = models.googlenet_small(num_classes=10, in_channels=1)
    assert model(ag.randn(2, 1, 28, 28)).shape == (2, 10)
    full = models.googlenet(num_classes=4, width=8)
    assert full(ag.randn(1, 3, 96, 96)).shape == (1, 4)


@pytest.mark.parametrize("small_input, shape", [(True, (2, 3, 16, 16)), (False, (2, 3, 64, 64))])
def test_googlenet_matches_torch(small_input, shape):
    kwargs = dict(num_classes=5, width=4, small_input=small_input, dropout=0.0)
    _compare(lambda: models.GoogLeNet(**kwargs), lambda: ref.GoogLeNet(**kwargs), shape,
             float32="forward")


def test_googlenet_gradcheck():
    ag.manual_seed(0)
    _gradcheck(models.Inception(3, 1, 1, 2, 1, 1, 1), (2, 3, 3, 3), fast_mode=False)
    _gradcheck(models.GoogLeNet(num_classes=3, width=2, small_input=True, dropout=0.0),
               (2, 3, 8, 8), eps=1e-9)


# -- FCN -------------------------------------------------------------------------------------
@pytest.mark.parametrize("skips", [True, False])
@pytest.mark.parametrize("size", [(16, 16), (17, 23)])
def test_fcn_shapes_and_parameter_count(skips, size):
    model = models.FCN(5, in_channels=3, widths=(4, 8, 8), skips=skips)
    assert model(ag.randn(2, 3, *size)).shape == (2, 5, *size)
    theirs = ref.FCN(5, 3, (4, 8, 8), skips=skips)
    _same_layout(model, theirs)
    assert _count(model) == _torch_count(theirs)


@pytest.mark.parametrize("skips", [True, False])
def test_fcn_matches_torch(skips):
    _compare(lambda: models.FCN(3, 2, (4, 6), skips=skips),
             lambda: ref.FCN(3, 2, (4, 6), skips=skips), (2, 2, 9, 11))


def test_fcn_gradcheck():
    ag.manual_seed(0)
    _gradcheck(models.FCN(3, 2, (2, 3)), (2, 2, 8, 8))


def test_fcn_upsampling_starts_bilinear():
    """A transposed conv k4 s2 p1 with the bilinear kernel equals bilinear interpolation
    (align_corners=False) away from the border."""
    model = models.FCN(2, widths=(4,))
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6)).astype(np.float32)
    ours = model.upsample[0](ag.tensor(x)).data
    theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2, mode="bilinear",
                                             align_corners=False).numpy()
    np.testing.assert_allclose(ours[..., 1:-1, 1:-1], theirs[..., 1:-1, 1:-1], rtol=1e-6,
                               atol=1e-6)
    kernel = models.fcn.bilinear_kernel(1, 3)[0, 0]
    np.testing.assert_allclose(kernel, np.outer([0.5, 1, 0.5], [0.5, 1, 0.5]))


def test_fcn_bad_input():
    with pytest.raises(ValueError, match=r"FCN.*H, W >= 8.*\(1, 3, 4, 16\)"):
        models.FCN(2)(ag.randn(1, 3, 4, 16))
    with pytest.raises(ValueError, match="FCN: widths"):
        models.FCN(2, widths=())


def test_models_keep_float32():
    for model, shape in ((models.LeNet5(), (2, 1, 28, 28)),
                         (models.resnet18(4, width=2, small_input=True), (2, 3, 8, 8)),
                         (models.googlenet_small(4, width=4), (2, 3, 8, 8)),
                         (models.FCN(3, widths=(2, 2)), (2, 3, 8, 8))):
        out = model(ag.randn(*shape))
        out.sum().backward()
        assert out.dtype == np.float32
        assert all(p.grad.dtype == np.float32 for p in model.parameters())

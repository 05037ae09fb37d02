"""One CNN training step (forward, cross-entropy, backward, SGD with momentum), ours and
PyTorch's from the same weights on the same batch; the first step's losses must agree.

    cnn_fashion_mnist   conv3x3 1->32 - ReLU - maxpool 2 - conv3x3 32->64 - ReLU - maxpool 2 -
                        linear 3136->10 (padding 1), batch 64 of 28x28 Fashion-MNIST images
                        (issue target: <= 1.2x PyTorch)
    resnet18_32x32      ResNet-18 (nn.models.resnet18, small-input stem: 3x3 conv stride 1,
                        no maxpool), 10 classes, batch 16 of 32x32x3 images, train mode
                        (batch norm on batch statistics); width 64 in the full run, 16 in
                        --quick (issue target: <= 1.5x PyTorch)

Images: the first test images of Fashion-MNIST when the data directory ($TAPEGRAD_DATA, else
../shared/data beside the repository) has them, else seeded normal noise (the step costs
the same); ResNet inputs are seeded noise. PyTorch's model is built module for module like
ours and our weights are copied into it.
"""
import os

import numpy as np

from . import Workload, allclose_check, pick, register

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LR, MOMENTUM = 0.01, 0.9


def _fashion_batch(batch):
    """(x float32 (batch, 1, 28, 28) in [0, 1], y int64 (batch,)): Fashion-MNIST or noise."""
    root = os.environ.get("TAPEGRAD_DATA") or os.path.join(_ROOT, "..", "shared", "data")
    try:
        from autograd.datasets import load_fashion_mnist
        images, labels = load_fashion_mnist(root, train=False)
        x = (images[:batch, None] / np.float32(255)).astype(np.float32)
        return x, labels[:batch].astype(np.int64)
    except (FileNotFoundError, OSError, ValueError):
        rng = np.random.default_rng(0)
        return (rng.random((batch, 1, 28, 28), dtype=np.float32),
                rng.integers(0, 10, batch).astype(np.int64))


def _fashion_model(lib, size):
    """conv3x3 32 - ReLU - maxpool - conv3x3 64 - ReLU - maxpool - linear, in nn or torch.nn."""
    return lib.Sequential(
        lib.Conv2d(1, 32, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(32, 64, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(64 * (size // 4) ** 2, 10))


def _fashion_sizes(quick):
    return pick(quick, full=64, tiny=4), pick(quick, full=28, tiny=8)


def _resnet_sizes(quick):
    """(batch, width, image size)."""
    return pick(quick, full=(16, 64, 32), quick=(16, 16, 32), tiny=(2, 4, 8))


def _torch_resnet18(torch, width, num_classes=10):
    """ResNet-18 with the small-input stem in torch.nn, named as nn.models.resnet18's."""
    tnn = torch.nn

    class BasicBlock(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False),
                                                 tnn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet18(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, width, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(width)
            self.relu = tnn.ReLU()
            self.maxpool = tnn.Identity()
            cin = width
            for i, stride in enumerate((1, 2, 2, 2)):
                cout = width * 2 ** i
                setattr(self, f"layer{i + 1}", tnn.Sequential(BasicBlock(cin, cout, stride),
                                                              BasicBlock(cout, cout, 1)))
                cin = cout
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(cin, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


def _build(kind, quick):
    """(our model, torch model or None builder, x, y): our model seeded, its state copied."""
    import autograd as ag
    import nn
    ag.manual_seed(0)
    if kind == "fashion":
        batch, size = _fashion_sizes(quick)
        x, y = _fashion_batch(batch)
        if size != 28:
            x = np.ascontiguousarray(x[:, :, :size, :size])
        return _fashion_model(nn, size), x, y
    batch, width, size = _resnet_sizes(quick)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3, size, size)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    return nn.models.resnet18(num_classes=10, width=width, small_input=True), x, y


def _ours(kind):
    def setup(quick):
        import autograd as ag
        import nn.functional as F
        import optim
        model, x, y = _build(kind, quick)
        model.train()
        opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        xt, yt = ag.tensor(x), ag.tensor(y)

        def step():
            loss = F.cross_entropy(model(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step
    return setup


def _torch(kind):
    def setup(quick):
        import torch
        import torch.nn.functional as TF
        ours, x, y = _build(kind, quick)
        if kind == "fashion":
            model = _fashion_model(torch.nn, _fashion_sizes(quick)[1])
        else:
            model = _torch_resnet18(torch, _resnet_sizes(quick)[1])
        state = {k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()}
        model.load_state_dict(state)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def step():
            loss = TF.cross_entropy(model(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step
    return setup


def _ratio_at_most(limit):
    return lambda row: None if row.get("ratio") is None else row["ratio"] <= limit


def _fashion_flops(quick):
    """2 x multiply-adds of the forward GEMMs, and of the backward ones: weight gradients of
    all three layers, input gradients of the second conv and the linear layer (the input
    image needs none)."""
    batch, size = _fashion_sizes(quick)
    conv1 = 2 * batch * 32 * 9 * size * size
    conv2 = 2 * batch * 64 * 32 * 9 * (size // 2) ** 2
    linear = 2 * batch * 64 * (size // 4) ** 2 * 10
    return conv1 * 2 + (conv2 + linear) * 3


register(Workload(
    name="cnn_fashion_mnist",
    sizes=lambda q: (f"batch {_fashion_sizes(q)[0]}, 1x{_fashion_sizes(q)[1]}^2, conv3x3 32 - "
                     "relu - maxpool - conv3x3 64 - relu - maxpool - linear 10, SGD"),
    description="one training step of a small Fashion-MNIST CNN: forward, loss, backward, SGD",
    setup_ours=_ours("fashion"), setup_torch=_torch("fashion"),
    # the loss of the first step, from the same weights: float32 sums in different orders
    check=allclose_check(rtol=1e-4, atol=1e-5),
    flops=_fashion_flops,
    target=("ours <= 1.2x PyTorch", _ratio_at_most(1.2)),
    meta={"dtype": "float32"},
))

register(Workload(
    name="resnet18_32x32",
    sizes=lambda q: (f"batch {_resnet_sizes(q)[0]}, 3x{_resnet_sizes(q)[2]}^2, ResNet-18 width "
                     f"{_resnet_sizes(q)[1]}, small-input stem, train-mode BN, SGD"),
    description="one training step of ResNet-18 on 32x32 images: forward, loss, backward, SGD",
    setup_ours=_ours("resnet"), setup_torch=_torch("resnet"),
    check=allclose_check(rtol=1e-4, atol=1e-5),
    target=("ours <= 1.5x PyTorch", _ratio_at_most(1.5)),
    meta={"dtype": "float32"},
))

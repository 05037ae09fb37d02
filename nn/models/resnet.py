"""ResNet (He et al. 2016), built from nn layers, laid out as torchvision's (same module and
parameter names, so state dicts correspond one to one).

    resnet18(num_classes=1000, width=64, in_channels=3, small_input=False)   BasicBlock [2,2,2,2]
    resnet34(...)                                                              BasicBlock [3,4,6,3]
    resnet50(...)                                                              Bottleneck [3,4,6,3]
    ResNet(block, layers, num_classes, width, in_channels, small_input, zero_init_residual)

    x: (N, in_channels, H, W) -> logits (N, num_classes)

    stem      ImageNet: conv 7x7 stride 2 -> width, BN, ReLU, maxpool 3x3 stride 2 (H/4)
              small_input (CIFAR-style): conv 3x3 stride 1 -> width, BN, ReLU, no maxpool
    layer1-4  stages of residual blocks with width, 2 width, 4 width, 8 width planes; the
              first block of layer2-4 halves H and W (stride 2)
    head      global average pool, linear (8 width * expansion) -> num_classes

A residual block computes y = relu(F(x) + shortcut(x)); shortcut is the identity, or a 1x1
conv + BN ("downsample") when the stride or the channel count changes.
    BasicBlock (expansion 1):  F = BN(conv3x3(relu(BN(conv3x3(x)))))
    Bottleneck (expansion 4):  F = BN(conv1x1 -> 4p)(relu(BN(conv3x3 stride s)(relu(BN(conv1x1
                               -> p)(x)))))   (the stride sits on the 3x3 conv, "ResNet v1.5")
Initialisation as torchvision: convs kaiming_normal_(fan_out, relu), BN weight 1 and bias 0,
linear the nn.Linear default; zero_init_residual sets each block's last BN weight to 0.
"""
from .. import init
from ..activation import ReLU
from ..containers import Identity, Sequential
from ..conv import Conv2d
from ..linear import Linear
from ..module import Module
from ..normalization import BatchNorm2d
from ..pooling import AdaptiveAvgPool2d, MaxPool2d

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50",
           "conv3x3", "conv1x1"]


def conv3x3(in_planes, out_planes, stride=1):
    """3x3 convolution with padding 1 and no bias (a BN follows)."""
    return Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution without bias (a BN follows)."""
    return Conv2d(in_planes, out_planes, 1, stride=stride, bias=False)


class BasicBlock(Module):
    """x: (N, inplanes, H, W) -> (N, planes, H/stride, W/stride)."""
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = BatchNorm2d(planes)
        self.relu = ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(Module):
    """x: (N, inplanes, H, W) -> (N, 4 planes, H/stride, W/stride)."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = BatchNorm2d(planes * self.expansion)
        self.relu = ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(Module):
    """ResNet(block, layers, num_classes=1000, width=64, in_channels=3, small_input=False,
    zero_init_residual=False): x (N, in_channels, H, W) -> logits (N, num_classes).
    block: BasicBlock or Bottleneck; layers: the number of blocks in each of the 4 stages."""

    def __init__(self, block, layers, num_classes=1000, width=64, in_channels=3,
                 small_input=False, zero_init_residual=False):
        super().__init__()
        if block not in (BasicBlock, Bottleneck):
            raise TypeError(f"ResNet: block must be BasicBlock or Bottleneck, got {block!r}")
        if len(layers) != 4 or any(int(n) < 1 for n in layers):
            raise ValueError(f"ResNet: layers must be 4 positive block counts, got {layers}")
        if width < 1 or num_classes < 1 or in_channels < 1:
            raise ValueError(f"ResNet: width ({width}), num_classes ({num_classes}) and "
                             f"in_channels ({in_channels}) must be positive")
        self.in_channels = in_channels
        self.inplanes = width
        if small_input:
            self.conv1 = Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = BatchNorm2d(width)
        self.relu = ReLU()
        self.maxpool = Identity() if small_input else MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(8 * width * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    init.zeros_(m.bn3.weight)
                elif isinstance(m, BasicBlock):
                    init.zeros_(m.bn2.weight)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                    BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, int(blocks))]
        return Sequential(*layers)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResNet: expected input of shape (N, {self.in_channels}, H, W), "
                             f"got {tuple(x.shape)}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(num_classes=1000, width=64, in_channels=3, small_input=False, **kwargs):
    """ResNet-18: BasicBlock, [2, 2, 2, 2] (11.7M parameters at width 64, 1000 classes)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, width, in_channels, small_input,
                  **kwargs)


def resnet34(num_classes=1000, width=64, in_channels=3, small_input=False, **kwargs):
    """ResNet-34: BasicBlock, [3, 4, 6, 3] (21.8M parameters at width 64, 1000 classes)."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, width, in_channels, small_input,
                  **kwargs)


def resnet50(num_classes=1000, width=64, in_channels=3, small_input=False, **kwargs):
    """ResNet-50: Bottleneck, [3, 4, 6, 3] (25.6M parameters at width 64, 1000 classes)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, width, in_channels, small_input,
                  **kwargs)

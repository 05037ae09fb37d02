"""GoogLeNet (Szegedy et al. 2015) and its Inception block, built from nn layers, with
batch normalisation after every convolution as in torchvision (module names as torchvision's,
without the auxiliary classifiers).

    Inception(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
        x: (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W), the four
        branches concatenated along channels:
            branch1  1x1 conv
            branch2  1x1 conv (reduce to ch3x3red) -> 3x3 conv
            branch3  1x1 conv (reduce to ch5x5red) -> 5x5 conv (the paper's; torchvision uses
                     a 3x3 here)
            branch4  3x3 max pool stride 1 -> 1x1 conv (pool_proj)
        every conv is ConvBlock: conv (no bias), BN (eps 1e-3), ReLU

    GoogLeNet(num_classes=1000, in_channels=3, width=64, small_input=False, dropout=0.4)
        x: (N, in_channels, H, W) -> logits (N, num_classes)
        stem   conv 7x7/2 -> 64, maxpool 3x3/2, conv 1x1 -> 64, conv 3x3 -> 192, maxpool 3x3/2
               (small_input: the 7x7/2 conv becomes 3x3/1 and both maxpools are dropped)
        3a 3b, maxpool, 4a 4b 4c 4d 4e, maxpool, 5a 5b (channels of the paper's Table 1),
        global average pool, dropout, linear 1024 -> num_classes
        Every channel count is the paper's scaled by width / 64 (width=64: the paper's net).
    googlenet(**kw)        the paper's net (7.0M parameters with 1000 classes)
    googlenet_small(num_classes=10, in_channels=3, **kw)   width 16, small-input stem: a
        quarter of the channels, for 28x28 or 32x32 images (~0.4M parameters)
"""
import autograd as ag

from ..activation import ReLU
from ..containers import Identity, Sequential
from ..conv import Conv2d
from ..dropout import Dropout
from ..linear import Linear
from ..module import Module
from ..normalization import BatchNorm2d
from ..pooling import AdaptiveAvgPool2d, MaxPool2d

__all__ = ["ConvBlock", "Inception", "GoogLeNet", "googlenet", "googlenet_small",
           "INCEPTION_CHANNELS"]

# the paper's Table 1: (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj) per block
INCEPTION_CHANNELS = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


class ConvBlock(Module):
    """conv (no bias) -> BatchNorm2d(eps=1e-3) -> ReLU: (N, C_in, H, W) -> (N, C_out, H', W')."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                           padding=padding, bias=False)
        self.bn = BatchNorm2d(out_channels, eps=1e-3)
        self.relu = ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Inception(Module):
    """x: (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = ConvBlock(in_channels, ch1x1, 1)
        self.branch2 = Sequential(ConvBlock(in_channels, ch3x3red, 1),
                                  ConvBlock(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = Sequential(ConvBlock(in_channels, ch5x5red, 1),
                                  ConvBlock(ch5x5red, ch5x5, 5, padding=2))
        self.branch4 = Sequential(MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                  ConvBlock(in_channels, pool_proj, 1))

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Inception: expected input of shape (N, {self.in_channels}, H, W)"
                             f", got {tuple(x.shape)}")
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return ag.cat(branches, dim=1)


class GoogLeNet(Module):
    """GoogLeNet(num_classes=1000, in_channels=3, width=64, small_input=False, dropout=0.4):
    x (N, in_channels, H, W) -> logits (N, num_classes). Channels are the paper's times
    width / 64 (at least 1)."""

    def __init__(self, num_classes=1000, in_channels=3, width=64, small_input=False,
                 dropout=0.4):
        super().__init__()
        if width < 1 or num_classes < 1 or in_channels < 1:
            raise ValueError(f"GoogLeNet: width ({width}), num_classes ({num_classes}) and "
                             f"in_channels ({in_channels}) must be positive")

        def ch(c):
            return max(1, round(c * width / 64))
        self.in_channels = in_channels
        if small_input:
            self.conv1 = ConvBlock(in_channels, ch(64), 3, stride=1, padding=1)
            self.maxpool1 = Identity()
        else:
            self.conv1 = ConvBlock(in_channels, ch(64), 7, stride=2, padding=3)
            self.maxpool1 = MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = ConvBlock(ch(64), ch(64), 1)
        self.conv3 = ConvBlock(ch(64), ch(192), 3, padding=1)
        self.maxpool2 = Identity() if small_input else MaxPool2d(3, stride=2, ceil_mode=True)
        channels = ch(192)
        for name in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
            block = Inception(channels, *(ch(c) for c in INCEPTION_CHANNELS[name]))
            setattr(self, f"inception{name}", block)
            channels = block.out_channels
            if name == "3b":
                self.maxpool3 = MaxPool2d(3, stride=2, ceil_mode=True)
            elif name == "4e":
                self.maxpool4 = MaxPool2d(2, stride=2, ceil_mode=True)
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.dropout = Dropout(dropout)
        self.fc = Linear(channels, num_classes)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"GoogLeNet: expected input of shape (N, {self.in_channels}, H, W)"
                             f", got {tuple(x.shape)}")
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        for name in ("4a", "4b", "4c", "4d", "4e"):
            x = getattr(self, f"inception{name}")(x)
        x = self.maxpool4(x)
        x = self.inception5b(self.inception5a(x))
        return self.fc(self.dropout(self.avgpool(x).flatten(1)))


def googlenet(num_classes=1000, in_channels=3, **kwargs):
    """The paper's GoogLeNet (with BN, without auxiliary classifiers)."""
    return GoogLeNet(num_classes, in_channels, **kwargs)


def googlenet_small(num_classes=10, in_channels=3, width=16, small_input=True, **kwargs):
    """A small GoogLeNet for 28x28 / 32x32 images: a quarter of the channels, small stem."""
    return GoogLeNet(num_classes, in_channels, width=width, small_input=small_input, **kwargs)

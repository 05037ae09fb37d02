"""A fully convolutional network for semantic segmentation (Long, Shelhamer & Darrell 2015),
built from nn layers, on a small VGG-style backbone.

    FCN(num_classes, in_channels=3, widths=(16, 32, 64), skips=True)
        x: (N, in_channels, H, W) -> per-pixel logits (N, num_classes, H, W), any H, W >= 2**S
        (S = len(widths) stages)

    backbone   S stages, stage s: [conv3x3 -> BN -> ReLU] x 2 with widths[s] channels, then
               maxpool 2x2; stage s's features have stride 2**(s+1)
    score      1x1 convolutions: the classifier, features -> num_classes per pixel
    upsample   transposed convolutions, initialised to bilinear interpolation and learned
    skips=True (FCN-8s style, with a skip from every stage):
               y_{S-1} = score_{S-1}(f_{S-1})
               y_s     = up_{s+1}(y_{s+1}) + score_s(f_s)       s = S-2 .. 0
               out     = up_0(y_0)                 up: kernel 4, stride 2, padding 1 (x2)
    skips=False (FCN-32s style): out = up(score(f_{S-1})), one transposed convolution with
               stride 2**S, kernel 2**(S+1), padding 2**(S-1)
    Each upsampling is given the target's spatial size (ConvTranspose2d's output_size), so
    odd sizes, floored by max pooling, come back exactly.
"""
import numpy as np

import autograd as ag

from ..activation import ReLU
from ..containers import ModuleList, Sequential
from ..conv import Conv2d, ConvTranspose2d
from ..module import Module
from ..normalization import BatchNorm2d
from ..pooling import MaxPool2d

__all__ = ["FCN", "bilinear_kernel"]


def bilinear_kernel(channels, kernel_size, dtype=np.float32):
    """Weight (channels, channels, k, k) of a transposed convolution that upsamples each
    channel by bilinear interpolation: w[c, c, i, j] = (1 - |i - m| / f)(1 - |j - m| / f),
    f = ceil(k / 2), m = f - 1 if k is odd else f - 1/2; zero across channels."""
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    taps = 1 - np.abs(np.arange(kernel_size) - center) / factor
    weight = np.zeros((channels, channels, kernel_size, kernel_size), dtype=dtype)
    weight[np.arange(channels), np.arange(channels)] = np.outer(taps, taps)
    return weight


def _stage(in_channels, out_channels):
    """[conv3x3 -> BN -> ReLU] x 2 -> maxpool 2x2: (N, C_in, H, W) -> (N, C_out, H/2, W/2)."""
    return Sequential(
        Conv2d(in_channels, out_channels, 3, padding=1, bias=False), BatchNorm2d(out_channels),
        ReLU(),
        Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        BatchNorm2d(out_channels), ReLU(),
        MaxPool2d(2))


class FCN(Module):
    """FCN(num_classes, in_channels=3, widths=(16, 32, 64), skips=True):
    x (N, in_channels, H, W) -> logits (N, num_classes, H, W)."""

    def __init__(self, num_classes, in_channels=3, widths=(16, 32, 64), skips=True):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) < 1 or num_classes < 1 or in_channels < 1:
            raise ValueError(f"FCN: widths ({widths}), num_classes ({num_classes}) and "
                             f"in_channels ({in_channels}) must be positive")
        self.in_channels, self.num_classes, self.skips = in_channels, num_classes, skips
        self.backbone = ModuleList([_stage(c_in, c_out) for c_in, c_out in
                                    zip((in_channels,) + widths[:-1], widths)])
        scored = widths if skips else widths[-1:]
        self.score = ModuleList([Conv2d(w, num_classes, 1) for w in scored])
        if skips:
            shapes = [(4, 2, 1)] * len(widths)
        else:
            stride = 2 ** len(widths)
            shapes = [(2 * stride, stride, stride // 2)]
        self.upsample = ModuleList([
            ConvTranspose2d(num_classes, num_classes, k, stride=s, padding=p, bias=False)
            for k, s, p in shapes])
        with ag.no_grad():
            for up in self.upsample:
                k = up.kernel_size[0]
                up.weight.copy_(ag.from_numpy(bilinear_kernel(num_classes, k, up.weight.dtype)))

    def forward(self, x):
        min_size = 2 ** len(self.backbone)
        if x.ndim != 4 or x.shape[1] != self.in_channels or min(x.shape[2:]) < min_size:
            raise ValueError(f"FCN: expected input of shape (N, {self.in_channels}, H, W) "
                             f"with H, W >= {min_size}, got {tuple(x.shape)}")
        features, h = [], x
        for stage in self.backbone:
            h = stage(h)
            features.append(h)
        if not self.skips:
            return self.upsample[0](self.score[0](features[-1]), output_size=x.shape[2:])
        y = self.score[-1](features[-1])
        for s in range(len(features) - 2, -1, -1):
            y = self.upsample[s + 1](y, output_size=features[s].shape[2:])
            y = y + self.score[s](features[s])
        return self.upsample[0](y, output_size=x.shape[2:])

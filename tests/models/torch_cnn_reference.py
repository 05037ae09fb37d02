"""The CNN chapter's models written with torch.nn, module for module as nn.models builds them
(torchvision-free), so a state dict copies across and outputs and gradients can be compared.
"""
import torch
from torch import nn


class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, padding=2):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), nn.Tanh(), nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, width=64, in_channels=3,
                 small_input=False):
        super().__init__()
        self.inplanes = width
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], 2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], 2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


RESNET_LAYERS = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet34": (BasicBlock, [3, 4, 6, 3]),
                 "resnet50": (Bottleneck, [3, 4, 6, 3])}


def resnet(name, **kwargs):
    block, layers = RESNET_LAYERS[name]
    return ResNet(block, layers, **kwargs)


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = ConvBlock(cin, ch1x1, 1)
        self.branch2 = nn.Sequential(ConvBlock(cin, ch3x3red, 1),
                                     ConvBlock(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(ConvBlock(cin, ch5x5red, 1),
                                     ConvBlock(ch5x5red, ch5x5, 5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True),
                                     ConvBlock(cin, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


TABLE1 = [("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64)),
          ("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)),
          ("4c", (128, 128, 256, 24, 64, 64)), ("4d", (112, 144, 288, 32, 64, 64)),
          ("4e", (256, 160, 320, 32, 128, 128)), ("5a", (256, 160, 320, 32, 128, 128)),
          ("5b", (384, 192, 384, 48, 128, 128))]


class GoogLeNet(nn.Module):
    def __init__(self, num_classes=1000, in_channels=3, width=64, small_input=False,
                 dropout=0.4):
        super().__init__()

        def ch(c):
            return max(1, round(c * width / 64))
        if small_input:
            self.conv1 = ConvBlock(in_channels, ch(64), 3, 1, 1)
            self.maxpool1 = nn.Identity()
        else:
            self.conv1 = ConvBlock(in_channels, ch(64), 7, 2, 3)
            self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = ConvBlock(ch(64), ch(64), 1)
        self.conv3 = ConvBlock(ch(64), ch(192), 3, padding=1)
        self.maxpool2 = nn.Identity() if small_input else nn.MaxPool2d(3, 2, ceil_mode=True)
        cin = ch(192)
        self.blocks = []
        for name, chans in TABLE1:
            chans = [ch(c) for c in chans]
            setattr(self, f"inception{name}", Inception(cin, *chans))
            self.blocks.append(name)
            cin = chans[0] + chans[2] + chans[4] + chans[5]
            if name == "3b":
                self.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
            elif name == "4e":
                self.maxpool4 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        for name in self.blocks:
            x = getattr(self, f"inception{name}")(x)
            if name == "3b":
                x = self.maxpool3(x)
            elif name == "4e":
                x = self.maxpool4(x)
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


def _stage(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))


class FCN(nn.Module):
    def __init__(self, num_classes, in_channels=3, widths=(16, 32, 64), skips=True):
        super().__init__()
        self.skips = skips
        self.backbone = nn.ModuleList([_stage(a, b) for a, b in
                                       zip((in_channels,) + tuple(widths[:-1]), widths)])
        self.score = nn.ModuleList([nn.Conv2d(w, num_classes, 1)
                                    for w in (widths if skips else widths[-1:])])
        s = 2 ** len(widths)
        shapes = [(4, 2, 1)] * len(widths) if skips else [(2 * s, s, s // 2)]
        self.upsample = nn.ModuleList([
            nn.ConvTranspose2d(num_classes, num_classes, k, stride=st, padding=p, bias=False)
            for k, st, p in shapes])

    def forward(self, x):
        feats, h = [], x
        for stage in self.backbone:
            h = stage(h)
            feats.append(h)
        if not self.skips:
            return self.upsample[0](self.score[0](feats[-1]), output_size=x.shape[2:])
        y = self.score[-1](feats[-1])
        for s in range(len(feats) - 2, -1, -1):
            y = self.upsample[s + 1](y, output_size=feats[s].shape[2:]) + self.score[s](feats[s])
        return self.upsample[0](y, output_size=x.shape[2:])

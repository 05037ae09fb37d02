"""CNNs really learn: a small CNN on scikit-learn's digits to >= 97 % test accuracy, and the
MNIST-1D paper's CNN (Greydanus 2020) to >= 90 % (paper: 94 %). Seeded, small sizes."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd import datasets
from autograd.data import DataLoader

from .threads import one_thread


@pytest.fixture(autouse=True)
def _one_thread():
    """Small convolutions: one BLAS and one numba thread (see tests/models/threads.py)."""
    with one_thread():
        yield


def digits_cnn(width=32):
    """x: (N, 1, 8, 8) -> logits (N, 10): [conv3x3 - BN - ReLU - maxpool] x 2, dropout,
    linear (2 width * 2 * 2 -> 10)."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(8 * width, 10))


def accuracy(model, x, y):
    model.eval()
    with ag.no_grad():
        return float((model(x).data.argmax(1) == y.data).mean())


def test_cnn_learns_digits():
    ag.manual_seed(0)
    train, test = datasets.load_digits(seed=0)
    model = digits_cnn()
    epochs = 10
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loader = DataLoader(train, batch_size=32, shuffle=True, generator=np.random.default_rng(0))
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    assert accuracy(model, *test.tensors) >= 0.97


class MNIST1DConvNet(nn.Module):
    """The MNIST-1D paper's CNN: x (N, 40) -> logits (N, 10).
    Conv1d 1->25 k5 s2 p1 (L 19), Conv1d 25->25 k3 s2 p1 (L 10), Conv1d 25->25 k3 s2 p1
    (L 5), ReLU after each, Linear 125 -> 10."""

    def __init__(self, channels=25):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.linear = nn.Linear(channels * 5, 10)

    def forward(self, x):
        h = x.reshape(x.shape[0], 1, x.shape[-1])
        h = F.relu(self.conv1(h))
        h = F.relu(self.conv2(h))
        h = F.relu(self.conv3(h))
        return self.linear(h.flatten(1))


def train_mnist1d(steps, seed=0):
    """The paper's recipe: Adam lr 1e-2, batches of 100 drawn at random; test accuracy."""
    pytest.importorskip("mnist1d", reason="MNIST-1D needs the mnist1d package")
    train, test = datasets.load_mnist1d()
    ag.manual_seed(seed)
    model = MNIST1DConvNet()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = (t.data for t in train.tensors)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.choice(x.shape[0], 100, replace=False)
        loss = F.cross_entropy(model(ag.tensor(x[idx])), ag.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return accuracy(model, *test.tensors)


def test_mnist1d_cnn_shapes():
    model = MNIST1DConvNet()
    assert model(ag.randn(3, 40)).shape == (3, 10)
    # (25*5 + 25) + 2 (25*25*3 + 25) + (125*10 + 10)
    assert sum(int(np.prod(p.shape)) for p in model.parameters()) == 5210


def test_mnist1d_cnn_learns():
    """1000 of the paper's 6000 steps: past 85 % already (this run ~91 %; with the paper's
    constant learning rate of 1e-2 the accuracy then swings between ~89 and ~93 %)."""
    assert train_mnist1d(1000) >= 0.85


@pytest.mark.slow
def test_mnist1d_cnn_reaches_90_percent():
    """The paper's recipe, 6000 steps: >= 90 % test accuracy (paper 94 %; this run ~93.6 %).
    15-25 s of CPU, 50 s on a loaded machine: marked slow."""
    assert train_mnist1d(6000) >= 0.90

"""ag.health.Monitor: gradient norms, update ratios, dead ReLUs, vanishing/exploding warnings."""
import warnings

import numpy as np
import pytest

import autograd as ag
import autograd.health  # noqa: F401 - ag.health
import nn
import nn.functional as F
from autograd.health import HealthWarning


class Lin(nn.Module):
    def __init__(self, n_in, n_out, scale=0.5):
        super().__init__()
        self.weight = nn.Parameter(ag.randn(n_out, n_in) * scale)
        self.bias = nn.Parameter(ag.zeros(n_out))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class ReLU(nn.Module):
    def forward(self, x):
        return F.relu(x)


class MLP(nn.Module):
    def __init__(self, module_relu):
        super().__init__()
        self.fc1 = Lin(4, 16)
        self.act = ReLU() if module_relu else None
        self.fc2 = Lin(16, 3)

    def forward(self, x):
        h = self.fc1(x)
        h = self.act(h) if self.act is not None else h.relu()
        return self.fc2(h)


def sgd_step(model, x, lr=0.01):
    for p in model.parameters():
        p.grad = None
    loss = (model(x) ** 2).mean()
    loss.backward()
    with ag.no_grad():
        for p in model.parameters():
            p.data -= lr * p.grad.data
    return loss


@pytest.mark.parametrize("module_relu", [True, False])
def test_grad_norms_update_ratios_and_dead_relus(module_relu):
    ag.manual_seed(0)
    model = MLP(module_relu)
    with ag.no_grad():
        model.fc1.bias.data[:6] = -50.0              # units 0..5 never fire
    monitor = ag.health.Monitor(model)
    before = {n: p.data.copy() for n, p in model.named_parameters()}
    sgd_step(model, ag.randn(32, 4))
    grads = {n: p.grad.data.copy() for n, p in model.named_parameters()}
    rec = monitor.step()
    for name, g in grads.items():
        assert rec["grad_norm"][name] == pytest.approx(np.linalg.norm(g), rel=1e-6)
        p = dict(model.named_parameters())[name]
        ratio = np.linalg.norm(p.data - before[name]) / np.linalg.norm(before[name]) \
            if np.linalg.norm(before[name]) else float("nan")
        assert rec["update_ratio"][name] == pytest.approx(ratio, rel=1e-5, nan_ok=True)
    site = "act" if module_relu else "MLP"
    pre = model.fc1(ag.randn(1, 4)).data                # any input: 6 units are dead
    assert (pre[0, :6] < 0).all()
    assert rec["dead_relu"][site] >= 6 / 16 and rec["dead_relu"][site] < 1.0
    assert monitor.history["dead_relu"][site] == [rec["dead_relu"][site]]
    monitor.close()


def test_history_accumulates_and_plots():
    ag.manual_seed(1)
    model = MLP(True)
    with ag.health.Monitor(model) as monitor:
        for _ in range(4):
            sgd_step(model, ag.randn(8, 4))
            monitor.step()
        assert monitor.history["step"] == [1, 2, 3, 4]
        assert all(len(v) == 4 for v in monitor.history["grad_norm"].values())
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
        axes = monitor.plot()
        assert len(axes) == 3 and axes[0].get_title() == "gradient norm"
        import matplotlib.pyplot as plt
        plt.close("all")
    assert not any(m._forward_hooks for m in model.modules())


class Cell(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.ih = Lin(3, 4)
        self.hh = Lin(4, 4, scale)

    def forward(self, x, h):
        return (self.ih(x) + self.hh(h)).tanh()


class RNN(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.cell = Cell(scale)

    def forward(self, x):
        h = ag.zeros(x.shape[0], 4)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
        return h.sum()


def test_vanishing_over_time_steps_warns_and_keeps_the_series():
    ag.manual_seed(2)
    model = RNN(scale=0.05)
    monitor = ag.health.Monitor(model)
    model(ag.randn(2, 25, 3)).backward()
    with pytest.warns(HealthWarning, match="vanish over the 25 calls .* of cell"):
        rec = monitor.step()
    series = rec["time_grad_norm"]["cell"]
    assert len(series) == 25 and series[0] < 1e-4 * series[-1]
    assert monitor.history["time_grad_norm"]["cell"] == [series]
    assert not any("cell." in msg for _, msg in monitor.warnings)


def test_healthy_recurrence_does_not_warn():
    ag.manual_seed(3)
    model = RNN(scale=0.5)
    monitor = ag.health.Monitor(model)
    model(ag.randn(2, 5, 3)).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error", HealthWarning)
        monitor.step()
    assert monitor.warnings == []


def test_exploding_and_nonfinite_and_spread_across_layers():
    ag.manual_seed(4)
    model = MLP(True)
    monitor = ag.health.Monitor(model, warn=False)
    with ag.no_grad():
        model.fc2.weight.data *= 1e4
    sgd_step(model, ag.randn(8, 4), lr=0.0)
    monitor.step()
    text = " | ".join(msg for _, msg in monitor.warnings)
    assert "exploding gradient: fc1.weight" in text
    with ag.no_grad():
        model.fc2.weight.data /= 1e4
        model.fc1.weight.data *= 1e-9
        model.fc1.bias.data[:] = 0.0
    sgd_step(model, ag.randn(8, 4), lr=0.0)
    monitor.step()
    text = " | ".join(msg for step, msg in monitor.warnings if step == 2)
    assert "across layers" in text and "(fc2.weight)" in text
    model.fc1.weight.grad.data[0, 0] = np.nan
    monitor.step()
    assert any("NaN/Inf" in msg for step, msg in monitor.warnings if step == 3)

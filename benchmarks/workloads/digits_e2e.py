"""End to end: the wall-clock time to train a small CNN on scikit-learn's digits to 97 % test
accuracy, ours and PyTorch's (self-timed: each call trains a fresh copy of the same initial
weights and returns its own time).

    digits_cnn_to_97   conv3x3 1->32 - BN - ReLU - maxpool - conv3x3 32->64 - BN - ReLU -
                       maxpool - linear 256->10 on (N, 1, 8, 8) digits (1437 train / 360
                       test, stratified split, seed 0), Adam lr 3e-3, batch 32, the same
                       shuffled batches on both sides; test accuracy after every epoch, stop
                       at >= 97 % (at most 30 epochs). The time covers batching, training and
                       the evaluations.

Before timing, the first step's losses (same weights, same batch) must agree; the check also
reports the epochs each side needed (float32 rounding can move the 97 % crossing by one).
Not in --quick: a run takes about half a second on one core, but tens of seconds when thread
pools contend on a busy machine, and the row runs 6 of them per side. The runner's hidden
tiny level trains on 320 digits to 50 %.
"""
import time

import numpy as np

from . import Workload, pick, register

BATCH, LR, WIDTH = 32, 3e-3, 32


def _goal(quick):
    """(test accuracy to reach, at most this many epochs, training digits used or None)."""
    return pick(quick, full=(0.97, 30, None), tiny=(0.5, 3, 320))


class Run(float):
    """A run's time in seconds, carrying its first loss, epochs, final test accuracy and
    the accuracy it aimed at."""

    def __new__(cls, seconds, first_loss, epochs, accuracy, target):
        run = super().__new__(cls, seconds)
        run.first_loss, run.epochs, run.accuracy, run.target = (first_loss, epochs, accuracy,
                                                                 target)
        return run


def _data(quick):
    from autograd.datasets import load_digits
    train, test = load_digits(seed=0)
    n_train = _goal(quick)[2]
    return [t.data[:n_train] for t in train.tensors], [t.data for t in test.tensors]


def _model(lib):
    return lib.Sequential(
        lib.Conv2d(1, WIDTH, 3, padding=1), lib.BatchNorm2d(WIDTH), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(WIDTH, 2 * WIDTH, 3, padding=1), lib.BatchNorm2d(2 * WIDTH), lib.ReLU(),
        lib.MaxPool2d(2), lib.Flatten(), lib.Linear(8 * WIDTH, 10))


def _initial_state():
    import autograd as ag
    import nn
    ag.manual_seed(0)
    return {k: v.data.copy() for k, v in _model(nn).state_dict().items()}


def _batches(n, epoch):
    order = np.random.default_rng(epoch).permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


def _train(step, accuracy, x, y, quick):
    """Epochs of steps until accuracy() reaches the goal; (first loss, epochs, accuracy)."""
    target, max_epochs, _ = _goal(quick)
    first_loss, acc = None, 0.0
    for epoch in range(1, max_epochs + 1):
        for idx in _batches(len(y), epoch):
            loss = step(x[idx], y[idx])
            if first_loss is None:
                first_loss = loss
        acc = accuracy()
        if acc >= target:
            break
    return first_loss, epoch, acc


def setup_ours(quick):
    import autograd as ag
    import nn
    import nn.functional as F
    import optim
    (x, y), (xt, yt) = _data(quick)
    state = {k: ag.tensor(v) for k, v in _initial_state().items()}
    xt_tensor = ag.tensor(xt)

    def run():
        start = time.perf_counter()
        model = _model(nn)
        model.load_state_dict(state)
        opt = optim.Adam(model.parameters(), lr=LR)

        def step(xb, yb):
            model.train()
            loss = F.cross_entropy(model(ag.tensor(xb)), ag.tensor(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return float(loss.data)

        def accuracy():
            model.eval()
            with ag.no_grad():
                return float((model(xt_tensor).data.argmax(1) == yt).mean())
        first_loss, epochs, acc = _train(step, accuracy, x, y, quick)
        return Run(time.perf_counter() - start, first_loss, epochs, acc, _goal(quick)[0])
    return run


def setup_torch(quick):
    import torch
    import torch.nn.functional as TF
    (x, y), (xt, yt) = _data(quick)
    state = {k: torch.from_numpy(v) for k, v in _initial_state().items()}
    xt_tensor, yt_tensor = torch.from_numpy(xt), torch.from_numpy(yt)

    def run():
        start = time.perf_counter()
        model = _model(torch.nn)
        model.load_state_dict(state)
        opt = torch.optim.Adam(model.parameters(), lr=LR)

        def step(xb, yb):
            model.train()
            loss = TF.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return float(loss)

        def accuracy():
            model.eval()
            with torch.no_grad():
                return float((model(xt_tensor).argmax(1) == yt_tensor).float().mean())
        first_loss, epochs, acc = _train(step, accuracy, x, y, quick)
        return Run(time.perf_counter() - start, first_loss, epochs, acc, _goal(quick)[0])
    return run


def check(ours, theirs):
    """The first losses agree (same weights, same batch); both runs reached the target."""
    ok = np.isclose(ours.first_loss, theirs.first_loss, rtol=1e-4, atol=1e-5)
    detail = (f"first loss {ours.first_loss:.6f} vs {theirs.first_loss:.6f}; epochs to "
              f"{ours.target:.0%}: ours {ours.epochs} ({ours.accuracy:.1%}), torch "
              f"{theirs.epochs} ({theirs.accuracy:.1%})")
    reached = ours.accuracy >= ours.target and theirs.accuracy >= theirs.target
    if not reached:
        detail += "; the target was not reached"
    return bool(ok and reached), detail


register(Workload(
    name="digits_cnn_to_97",
    sizes=lambda q: (f"digits {_goal(q)[2] or 1437}/360, CNN {WIDTH}-{2 * WIDTH} with BN, Adam, "
                     f"batch {BATCH}, to {_goal(q)[0]:.0%} test accuracy"),
    description="end to end: seconds to train a small CNN on digits to 97 % test accuracy",
    setup_ours=setup_ours, setup_torch=setup_torch, check=check,
    self_timed=True, repeats=lambda q: pick(q, full=5, quick=3, tiny=1), quick=False,
    meta={"dtype": "float32"},
))

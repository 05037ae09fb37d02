"""lr schedulers against torch.optim.lr_scheduler: the lr (and cycled momentum) of every param
group after construction and after each of 100 steps, state_dict round trips, and schedules
driving an optimizer on the MLP of test_optimizers."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch

import autograd as ag
import optim
from tests.optim.test_optimizers import TOL, _data, _loss, _max_diff

STEPS = 100
METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.7, 0.7,
           0.7, 0.71, 0.69, 0.69, 0.69, 0.69] * 5


def _optimizers(name="SGD", kwargs=None, lrs=(0.1, 0.01)):
    """Ours and PyTorch's optimizer over two param groups (one 2-element tensor each)."""
    kwargs = dict(momentum=0.9) if kwargs is None and name == "SGD" else (kwargs or {})
    ours = getattr(optim, name)(
        [{"params": [ag.tensor([1.0, 2.0], requires_grad=True)], "lr": lr} for lr in lrs],
        **kwargs)
    theirs = getattr(torch.optim, name)(
        [{"params": [torch.tensor([1.0, 2.0], requires_grad=True)], "lr": lr} for lr in lrs],
        **kwargs)
    return ours, theirs


def _record(opt, sched):
    """get_last_lr(), the groups' lrs and their momentum (or beta1), as one flat list."""
    values = list(map(float, sched.get_last_lr()))
    for group in opt.param_groups:
        values.append(float(group["lr"]))
        if "betas" in group:
            values.append(float(group["betas"][0]))
        elif "momentum" in group:
            values.append(float(group["momentum"]))
    return values


def _sequence(make, opt, lib, steps=STEPS, metrics=None):
    sched = make(lib, opt)
    seq = [_record(opt, sched)]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        seq.append(_record(opt, sched))
    return np.array(seq), sched


def _two_lambdas(m, o):
    return m.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1.0 / (1 + e)])


def _sequential(m, o):
    return m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=10),
                              m.CosineAnnealingLR(o, T_max=40, eta_min=1e-3),
                              m.ExponentialLR(o, gamma=0.97)], milestones=[10, 50])


def _chained(m, o):
    return m.ChainedScheduler([m.ExponentialLR(o, gamma=0.98),
                               m.StepLR(o, step_size=10, gamma=0.5)])


SCHEDULERS = {
    "StepLR": (lambda m, o: m.StepLR(o, step_size=7, gamma=0.5), "SGD"),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
                    "SGD"),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, gamma=0.95), "SGD"),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=1e-3), "SGD"),
    "CosineWarmRestarts": (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7), "SGD"),
    "CosineWarmRestarts-Tmult": (
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4), "SGD"),
    "LambdaLR": (lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e), "SGD"),
    "LambdaLR-per-group": (_two_lambdas, "SGD"),
    "MultiplicativeLR": (lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97), "SGD"),
    "LinearLR": (lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9,
                                         total_iters=20), "SGD"),
    "ConstantLR": (lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=10), "SGD"),
    "PolynomialLR": (lambda m, o: m.PolynomialLR(o, total_iters=50, power=2.0), "SGD"),
    "OneCycleLR-cos": (lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.1], total_steps=100),
                       "SGD"),
    "OneCycleLR-linear": (lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=100,
                                                    anneal_strategy="linear"), "SGD"),
    "OneCycleLR-three-phase-adam": (
        lambda m, o: m.OneCycleLR(o, max_lr=0.01, epochs=10, steps_per_epoch=10,
                                  pct_start=0.25, three_phase=True), "Adam"),
    "SequentialLR": (_sequential, "SGD"),
    "ChainedScheduler": (_chained, "SGD"),
    "CyclicLR-triangular2": (lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1,
                                                     step_size_up=10, mode="triangular2"),
                             "SGD"),
    "CyclicLR-exp-range": (lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=0.1,
                                                   step_size_up=7, step_size_down=13,
                                                   mode="exp_range", gamma=0.98), "SGD"),
}


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_lr_sequence_matches_torch(key):
    make, name = SCHEDULERS[key]
    ours_opt, torch_opt = _optimizers(name)
    ours, sched = _sequence(make, ours_opt, optim.lr_scheduler)
    theirs, tsched = _sequence(make, torch_opt, torch.optim.lr_scheduler)
    np.testing.assert_array_equal(ours, theirs)   # bit-exact
    assert getattr(sched, "last_epoch", None) == getattr(tsched, "last_epoch", None)
    assert len(np.unique(ours[:, 0])) > 1      # the lr really changed over the run


@pytest.mark.parametrize("kwargs", [
    dict(mode="min", factor=0.5, patience=2, cooldown=1, threshold=0.01),
    dict(mode="min", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs",
         min_lr=[0.01, 1e-4]),
    dict(mode="max", factor=0.3, patience=3, threshold_mode="abs", min_lr=1e-3),
    dict(mode="max", factor=0.7, patience=0, eps=1e-3)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    ours_opt, torch_opt = _optimizers()
    ours, sched = _sequence(lambda m, o: m.ReduceLROnPlateau(o, **kwargs), ours_opt,
                            optim.lr_scheduler, metrics=METRICS)
    theirs, tsched = _sequence(lambda m, o: m.ReduceLROnPlateau(o, **kwargs), torch_opt,
                               torch.optim.lr_scheduler, metrics=METRICS)
    np.testing.assert_array_equal(ours, theirs)   # bit-exact
    assert len(np.unique(ours[:, 0])) > 2
    assert (sched.best, sched.num_bad_epochs) == (tsched.best, tsched.num_bad_epochs)


@pytest.mark.parametrize("key", ["StepLR", "MultiStepLR", "CosineAnnealingLR",
                                 "CosineWarmRestarts-Tmult", "LinearLR", "ExponentialLR"])
def test_step_with_epoch_uses_closed_form(key):
    make = SCHEDULERS[key][0]
    epochs = [0, 3, 4, 10, 9, 25, 61, 31]
    results = []
    for lib, opt in zip((optim, torch.optim), _optimizers()):
        sched = make(lib.lr_scheduler, opt)
        values = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in epochs:
                opt.step()
                sched.step(e)
                values.append(list(map(float, sched.get_last_lr())))
        results.append(values)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("key", ["StepLR", "CosineAnnealingLR", "OneCycleLR-cos",
                                 "SequentialLR", "CosineWarmRestarts-Tmult", "LinearLR"])
def test_state_dict_round_trip(key):
    make = SCHEDULERS[key][0]
    full, _ = _sequence(make, _optimizers()[0], optim.lr_scheduler, steps=60)
    opt = _optimizers()[0]
    _, sched = _sequence(make, opt, optim.lr_scheduler, steps=30)
    saved_opt = copy.deepcopy(opt.state_dict())
    saved = copy.deepcopy(sched.state_dict())
    assert "optimizer" not in saved and saved["last_epoch"] == 30
    opt2 = _optimizers()[0]
    sched2 = make(optim.lr_scheduler, opt2)
    sched2.load_state_dict(saved)
    opt2.load_state_dict(saved_opt)
    rest = []
    for _ in range(30):
        opt2.step()
        sched2.step()
        rest.append(_record(opt2, sched2))
    np.testing.assert_array_equal(np.array(rest), full[31:])


def test_reduce_lr_on_plateau_state_dict():
    opt = _optimizers()[0]
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for m in METRICS[:8]:
        sched.step(m)
    saved = copy.deepcopy(sched.state_dict())
    sched2 = optim.lr_scheduler.ReduceLROnPlateau(_optimizers()[0], patience=5)
    sched2.load_state_dict(saved)
    assert (sched2.patience, sched2.best, sched2.last_epoch) == (1, sched.best, 8)


def _train(lib, name, kwargs, make_sched, weights, x, y, steps=50):
    """Train the MLP with an optimizer driven by a scheduler (ours or PyTorch's)."""
    new = ag.tensor if lib is optim else torch.tensor
    params = [new(w, requires_grad=True) for w in weights]
    xt, yt = new(x), new(y)
    opt = getattr(lib, name)(params, **kwargs)
    sched = make_sched(lib.lr_scheduler, opt)
    for _ in range(steps):
        opt.zero_grad()
        _loss(params, xt, yt).backward()
        opt.step()
        sched.step()
    return params


@pytest.mark.parametrize("name, kwargs, make", [
    ("SGD", dict(lr=0.1, momentum=0.9),
     lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=50)),
    ("Adam", dict(lr=0.01), lambda m, o: m.OneCycleLR(o, max_lr=0.05, total_steps=50,
                                                      anneal_strategy="linear")),
    ("Adam", dict(lr=0.05), lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2)),
    ("RMSprop", dict(lr=0.01), _sequential)])
def test_scheduler_drives_optimizer_like_torch(name, kwargs, make):
    weights, x, y = _data()
    ours = _train(optim, name, kwargs, make, weights, x, y)
    theirs = _train(torch.optim, name, kwargs, make, weights, x, y)
    assert _max_diff(ours, theirs) < TOL


def test_warnings_and_errors():
    opt = _optimizers()[0]
    sched = optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        optim.lr_scheduler.StepLR(_optimizers()[0], step_size=2, last_epoch=5)
    with pytest.raises(ValueError, match="total_steps OR"):
        optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        o = _optimizers()[0]
        s = optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=2)
        for _ in range(3):
            o.step()
            s.step()
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        o = _optimizers()[0]
        optim.lr_scheduler.SequentialLR(
            o, [optim.lr_scheduler.ReduceLROnPlateau(o), optim.lr_scheduler.StepLR(o, 2)],
            milestones=[3])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    assert math.isclose(optim.lr_scheduler.StepLR(opt, 3).get_last_lr()[0],
                        opt.param_groups[0]["lr"])

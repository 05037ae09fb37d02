"""Normalisation layers against torch.nn after copying weights: outputs, input and parameter
gradients, running statistics over several steps, eval mode, errors, state dicts, repr, and
gradients of gradients (float64)."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from tests.nn.module_helpers import TOL, TORCH_DTYPE, _compare, check_module, copy_torch_state

F32, F64 = np.float32, np.float64
TRAIN_EVAL = ("train", "eval")


def _randomize(module):
    """Random affine parameters and running statistics (seeded by check_module's
    torch.manual_seed), so that eval mode and the gradients of weight and bias are not
    trivial."""
    with torch.no_grad():
        for name, t in module.named_parameters():
            t.copy_(torch.rand(t.shape) + 0.5 if name == "weight" else torch.randn(t.shape))
        if getattr(module, "running_mean", None) is not None:
            module.running_mean.copy_(torch.randn(module.running_mean.shape))
            module.running_var.copy_(torch.rand(module.running_var.shape) + 0.5)
    return module


def _pair(name, *args, **kwargs):
    """(ours, theirs) constructors of the layer `name` with the same arguments."""
    return (lambda: getattr(nn, name)(*args, **kwargs),
            lambda: _randomize(getattr(torch.nn, name)(*args, **kwargs)))


def _run_steps(make_ours, make_theirs, shape, dtype, modes, seed=0):
    """One module pair through a sequence of train/eval forwards and backwards on fresh
    inputs (mean 1.5, std 2, so that the running statistics move): outputs, input grads,
    accumulated parameter grads and every buffer are compared after each step."""
    tol = TOL[dtype]
    torch.manual_seed(seed)
    theirs = make_theirs().to(TORCH_DTYPE[dtype])
    ours = make_ours().to(ag.float64 if dtype == F64 else ag.float32)
    copy_torch_state(ours, theirs)
    rng = np.random.default_rng(seed)
    for step, mode in enumerate(modes):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        where = f"{type(ours).__name__} {np.dtype(dtype).name} step {step} {mode}"
        x = rng.normal(1.5, 2.0, size=shape).astype(dtype)
        xo = ag.tensor(x.copy(), requires_grad=True)
        xt = torch.tensor(x.copy(), requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        _compare(f"{where} output", yo, yt, tol)
        g = rng.standard_normal(yt.shape).astype(dtype)
        yo.backward(ag.tensor(g))
        yt.backward(torch.tensor(g))
        _compare(f"{where} grad of input", xo.grad, xt.grad, tol)
        t_params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            _compare(f"{where} grad of {name}", p.grad, t_params[name].grad, tol)
        t_buffers = dict(theirs.named_buffers())
        assert sorted(t_buffers) == sorted(dict(ours.named_buffers())), where
        for name, b in ours.named_buffers():
            _compare(f"{where} buffer {name}", b, t_buffers[name], tol)
            assert b.dtype == ag.tensor(t_buffers[name].numpy()).dtype, (where, name)
    return ours, theirs


# -- BatchNorm ---------------------------------------------------------------------------------
BATCH_NORM = [
    ("BatchNorm1d", (3,), {}, (5, 3)),
    ("BatchNorm1d", (3,), {}, (4, 3, 6)),
    ("BatchNorm1d", (3,), {"affine": False}, (4, 3)),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 2)),
    ("BatchNorm2d", (3,), {}, (2, 3, 4, 5)),
    ("BatchNorm2d", (3,), {"momentum": 0.3, "eps": 1e-3}, (2, 3, 3, 3)),
    ("BatchNorm2d", (3,), {"momentum": None}, (2, 3, 3, 2)),
    ("BatchNorm2d", (3,), {"bias": False}, (2, 3, 3, 2)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (2, 3, 3, 2)),
    ("BatchNorm2d", (3,), {"track_running_stats": False, "affine": False}, (3, 3, 2, 2)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 3)),
    ("BatchNorm3d", (2,), {"momentum": None, "affine": False}, (2, 2, 2, 2, 2)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", BATCH_NORM, ids=str)
def test_batch_norm_check_module(name, args, kwargs, shape):
    ours, theirs = _pair(name, *args, **kwargs)
    check_module(ours, theirs, [shape], modes=TRAIN_EVAL, low=-2.0, high=3.0)


@pytest.mark.parametrize("name,args,kwargs,shape", BATCH_NORM, ids=str)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_batch_norm_running_stats_over_steps(name, args, kwargs, shape, dtype):
    ours, theirs = _pair(name, *args, **kwargs)
    modes = ["train"] * 4 + ["eval"] * 2 + ["train", "eval"]
    ours, _ = _run_steps(ours, theirs, shape, dtype, modes)
    if ours.track_running_stats:
        assert int(ours.num_batches_tracked) == 5
        assert ours.num_batches_tracked.dtype == ag.int64


def test_batch_norm_cumulative_average_is_the_mean_of_batch_stats():
    """momentum=None: after k batches running_mean is the plain mean of the k batch means."""
    bn = nn.BatchNorm1d(2, momentum=None)
    rng = np.random.default_rng(3)
    batches = [rng.normal(i, 1.0, size=(6, 2)) for i in range(4)]
    for b in batches:
        bn(ag.tensor(b.astype(F32)))
    expected = np.mean([b.astype(F32).mean(0) for b in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.data, expected, rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked) == 4


def test_batch_norm_batch_of_one_raises_like_torch():
    x = np.ones((1, 3), F32)
    tbn = torch.nn.BatchNorm1d(3)
    with pytest.raises(ValueError) as torch_error:
        tbn(torch.tensor(x))
    bn = nn.BatchNorm1d(3)
    with pytest.raises(type(torch_error.value), match=r"more than 1 value per channel"):
        bn(ag.tensor(x))
    # both counted the batch before the check raised; in eval one sample is fine
    assert int(bn.num_batches_tracked) == int(tbn.num_batches_tracked) == 1
    bn.eval()
    tbn.eval()
    _compare("eval batch of 1", bn(ag.tensor(x)), tbn(torch.tensor(x)), TOL[F32])


@pytest.mark.parametrize("name,ndim", [("BatchNorm1d", 4), ("BatchNorm1d", 1),
                                       ("BatchNorm2d", 3), ("BatchNorm3d", 4),
                                       ("InstanceNorm1d", 4), ("InstanceNorm2d", 2),
                                       ("InstanceNorm3d", 3)])
def test_norm_wrong_ndim_raises_value_error(name, ndim):
    shape = (2, 3, 2, 2, 2)[:ndim]
    with pytest.raises(ValueError, match=f"got {ndim}D input"):
        getattr(torch.nn, name)(3)(torch.zeros(shape))
    with pytest.raises(ValueError, match=rf"{name}: expected .*got {ndim}D input"):
        getattr(nn, name)(3)(ag.zeros(shape))


def test_batch_norm_channel_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"\(4, 5\)"):
        nn.BatchNorm1d(3)(ag.zeros((4, 5)))


def test_batch_norm_parameter_and_buffer_layout():
    bn = nn.BatchNorm2d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert bn.num_batches_tracked.shape == () and bn.num_batches_tracked.dtype == ag.int64
    np.testing.assert_array_equal(bn.weight.data, np.ones(4, F32))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(4, F32))
    bn.double()
    assert bn.running_mean.dtype == ag.float64 and bn.num_batches_tracked.dtype == ag.int64
    untracked = nn.BatchNorm2d(4, affine=False, track_running_stats=False)
    assert list(untracked.named_parameters()) == [] and list(untracked.state_dict()) == []
    assert untracked.running_mean is None and untracked.weight is None


def test_batch_norm_state_dict_round_trip_with_torch():
    tbn = _randomize(torch.nn.BatchNorm1d(3))
    tbn(torch.randn(4, 3))
    bn = nn.BatchNorm1d(3)
    bn.load_state_dict({k: v.numpy() for k, v in tbn.state_dict().items()})
    assert int(bn.num_batches_tracked) == 1
    back = torch.nn.BatchNorm1d(3)
    back.load_state_dict({k: torch.tensor(v.data) for k, v in bn.state_dict().items()})
    for k, v in tbn.state_dict().items():
        torch.testing.assert_close(back.state_dict()[k], v)


def test_batch_norm_old_checkpoint_without_num_batches_tracked():
    """A checkpoint without num_batches_tracked (PyTorch's version < 2) loads strictly and
    keeps the counter, as in PyTorch."""
    bn = nn.BatchNorm1d(3)
    bn(ag.randn(4, 3))
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    fresh = nn.BatchNorm1d(3)
    result = fresh.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert int(fresh.num_batches_tracked) == 0
    np.testing.assert_array_equal(fresh.running_mean.data, bn.running_mean.data)


def test_batch_norm_reset_running_stats():
    bn = nn.BatchNorm1d(2)
    bn(ag.randn(5, 2) * 3 + 1)
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(2, F32))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(2, F32))
    assert int(bn.num_batches_tracked) == 0


# -- InstanceNorm ------------------------------------------------------------------------------
INSTANCE_NORM = [
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), {"affine": True}, (3, 4)),                  # unbatched
    ("InstanceNorm2d", (3,), {"affine": True}, (2, 3, 3, 4)),
    ("InstanceNorm2d", (3,), {"affine": True, "bias": False}, (2, 3, 3, 2)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True}, (2, 3, 3, 3)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "affine": True,
                              "momentum": 0.4}, (3, 3, 2)),                # unbatched
    ("InstanceNorm3d", (2,), {"affine": True, "track_running_stats": True}, (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", INSTANCE_NORM, ids=str)
def test_instance_norm_check_module(name, args, kwargs, shape):
    ours, theirs = _pair(name, *args, **kwargs)
    check_module(ours, theirs, [shape], modes=TRAIN_EVAL, low=-2.0, high=3.0)


@pytest.mark.parametrize("name,args,kwargs,shape", INSTANCE_NORM, ids=str)
@pytest.mark.parametrize("dtype", [F32, F64], ids=["f32", "f64"])
def test_instance_norm_over_steps(name, args, kwargs, shape, dtype):
    ours, theirs = _pair(name, *args, **kwargs)
    _run_steps(ours, theirs, shape, dtype, ["train"] * 3 + ["eval", "train", "eval"])


def test_instance_norm_channel_mismatch():
    with pytest.raises(ValueError, match=r"num_features \(4\).*\(2, 3, 5\)"):
        nn.InstanceNorm1d(4, affine=True)(ag.randn(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(ag.randn(2, 3, 5))


def test_instance_norm_untracked_rejects_running_stats_in_old_checkpoint():
    layer = nn.InstanceNorm2d(3)
    with pytest.raises(RuntimeError, match="Unexpected running stats buffer"):
        layer.load_state_dict({"running_mean": np.zeros(3, F32), "running_var": np.ones(3, F32)})


# -- LayerNorm, GroupNorm, LocalResponseNorm -------------------------------------------------
OTHER_NORMS = [
    ("LayerNorm", (4,), {}, (3, 4)),
    ("LayerNorm", ((3, 4),), {}, (2, 3, 4)),
    ("LayerNorm", ([2, 3],), {"eps": 1e-3}, (2, 5, 2, 3)),
    ("LayerNorm", (4,), {"elementwise_affine": False}, (2, 3, 4)),
    ("LayerNorm", (4,), {"bias": False}, (5, 4)),
    ("LayerNorm", (4,), {}, (4,)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (1, 3), {}, (2, 3, 2, 2)),
    ("GroupNorm", (3, 3), {"eps": 1e-3}, (2, 3, 4)),
    ("GroupNorm", (2, 6), {"affine": False}, (2, 6, 3)),
    ("GroupNorm", (2, 4), {"bias": False}, (2, 4, 2, 2, 2)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4)),
    ("LocalResponseNorm", (2,), {"alpha": 0.5, "beta": 0.6, "k": 2.0}, (2, 4, 3, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", OTHER_NORMS, ids=str)
def test_other_norms_check_module(name, args, kwargs, shape):
    ours, theirs = _pair(name, *args, **kwargs)
    check_module(ours, theirs, [shape], modes=TRAIN_EVAL, low=-2.0, high=3.0)


def test_layer_norm_and_group_norm_layout_and_errors():
    ln = nn.LayerNorm(4)
    assert ln.normalized_shape == (4,) and ln.weight.shape == (4,)
    assert nn.LayerNorm([2, 3]).bias.shape == (2, 3)
    with pytest.raises(RuntimeError, match=r"\[2, 5\]"):
        ln(ag.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        nn.GroupNorm(2, 5)
    with pytest.raises(RuntimeError, match=r"\[2, 6, 3\]"):
        nn.GroupNorm(2, 4)(ag.zeros((2, 6, 3)))


REPRS = [
    ("BatchNorm1d", (3,), {}),
    ("BatchNorm2d", (8,), {"eps": 1e-3, "momentum": None, "affine": False}),
    ("BatchNorm3d", (2,), {"track_running_stats": False, "bias": False}),
    ("InstanceNorm1d", (3,), {}),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm3d", (3,), {"momentum": 0.5}),
    ("LayerNorm", (4,), {}),
    ("LayerNorm", ([2, 3],), {"elementwise_affine": False}),
    ("LayerNorm", (4,), {"bias": False, "eps": 1e-6}),
    ("GroupNorm", (2, 4), {}),
    ("GroupNorm", (2, 4), {"affine": False}),
    ("LocalResponseNorm", (3,), {"alpha": 0.5}),
]


@pytest.mark.parametrize("name,args,kwargs", REPRS, ids=str)
def test_repr_and_state_names_match_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours_state, their_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(their_state)
    for k, v in their_state.items():
        assert tuple(ours_state[k].shape) == tuple(v.shape), k
        np.testing.assert_array_equal(ours_state[k].data, v.numpy())


def test_dtype_argument():
    assert nn.BatchNorm1d(3, dtype=ag.float64).running_var.dtype == ag.float64
    assert nn.LayerNorm(3, dtype=ag.float64).weight.dtype == ag.float64
    assert nn.GroupNorm(1, 3, dtype=ag.float64).bias.dtype == ag.float64


# -- gradients of gradients --------------------------------------------------------------------
SECOND_ORDER = [
    ("BatchNorm1d", (3,), {}, (4, 3), "train"),
    ("BatchNorm2d", (2,), {}, (2, 2, 2, 2), "train"),
    ("BatchNorm2d", (2,), {}, (2, 2, 2, 2), "eval"),
    ("InstanceNorm1d", (2,), {"affine": True}, (2, 2, 3), "train"),
    ("LayerNorm", (3,), {}, (2, 3), "train"),
    ("LayerNorm", ((2, 2),), {}, (2, 2, 2), "train"),
    ("GroupNorm", (2, 4), {}, (2, 4, 2), "train"),
]


@pytest.mark.parametrize("name,args,kwargs,shape,mode", SECOND_ORDER, ids=str)
def test_gradcheck_and_gradgradcheck(name, args, kwargs, shape, mode):
    """The module as a function of its input and its parameters, in float64."""
    layer = getattr(nn, name)(*args, **kwargs).double().train(mode == "train")
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.uniform(-2, 2, shape), requires_grad=True)
    params = list(layer.parameters())
    for p in params:
        p.data = rng.uniform(0.5, 1.5, p.shape)

    def fn(x, *ps):
        return _functional_call(layer, x, ps)

    inputs = [x] + [ag.tensor(p.data.copy(), requires_grad=True) for p in params]
    assert ag.autograd.gradcheck(fn, inputs)
    assert ag.autograd.gradgradcheck(fn, inputs)


def _functional_call(layer, x, ps):
    """layer(x) with its parameters replaced by the tensors ps (so gradcheck can perturb
    them and differentiate through them); restores the parameters afterwards."""
    names = [n for n, _ in layer.named_parameters()]
    saved = {n: layer._parameters[n] for n in names}
    saved_buffers = {n: b.data.copy() for n, b in layer.named_buffers()}
    try:
        for n, p in zip(names, ps):
            layer._parameters[n] = p
        return layer(x)
    finally:
        layer._parameters.update(saved)
        for n, b in layer.named_buffers():       # gradcheck's many calls must not drift them
            b.data = saved_buffers[n]

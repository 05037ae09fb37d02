"""nn.Module, Parameter, Buffer and the containers against PyTorch: the same nested model is
built with both libraries and its names, state dict, repr and loading behaviour compared."""
import copy
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch

import autograd as ag
import nn


def build(lib, T):
    """The same nested model in nn (lib=nn, T=ag) or torch.nn (lib=torch.nn, T=torch)."""

    class Custom(lib.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = lib.Parameter(T.ones(n, 2))
            self.register_parameter("bias", None)
            self.register_buffer("running", T.zeros(n))
            self.register_buffer("scratch", T.zeros(n), persistent=False)
            self.register_buffer("count", T.tensor(0))
            self.register_buffer("absent", None)

        def forward(self, x):
            return x @ self.weight

    shared = Custom(2)
    return lib.Sequential(OrderedDict([
        ("stem", Custom(3)),
        ("body", lib.Sequential(lib.Identity(), Custom(2), lib.Flatten(),
                                lib.Unflatten(1, (2, 1)))),
        ("blocks", lib.ModuleList([lib.Identity(), lib.Identity(), lib.Identity(), shared,
                                   Custom(4)])),
        ("heads", lib.ModuleDict({"b": shared, "a": Custom(1)})),
        ("plist", lib.ParameterList([lib.Parameter(T.ones(2, 3)), T.zeros(4)])),
        ("pdict", lib.ParameterDict({"z": lib.Parameter(T.ones(1)), "y": T.zeros(2, 2)})),
        ("tail", shared),
    ]))


@pytest.fixture
def models():
    return build(nn, ag), build(torch.nn, torch)


def names(pairs):
    return [name for name, _ in pairs]


def torch_text(s):
    """PyTorch's wording in our terms: torch.Size([2, 3]) -> (2, 3), torch.float32 -> float32."""
    s = re.sub(r"torch\.Size\(\[(\d+)\]\)", r"(\1,)", s)
    s = re.sub(r"torch\.Size\(\[([\d, ]*)\]\)", r"(\1)", s)
    return s.replace("torch.FloatTensor", "float32").replace("torch.", "")


# -- registration and traversal ----------------------------------------------------------------
@pytest.mark.parametrize("method", ["named_parameters", "named_buffers", "named_modules",
                                    "named_children"])
def test_traversal_names_like_torch(models, method):
    ours, ref = models
    assert names(getattr(ours, method)()) == names(getattr(ref, method)())


@pytest.mark.parametrize("method", ["named_parameters", "named_buffers", "named_modules"])
def test_traversal_with_duplicates_like_torch(models, method):
    ours, ref = models
    assert (names(getattr(ours, method)(remove_duplicate=False))
            == names(getattr(ref, method)(remove_duplicate=False)))
    assert (names(getattr(ours, method)(prefix="model"))
            == names(getattr(ref, method)(prefix="model")))


def test_non_recursive_and_counts_like_torch(models):
    ours, ref = models
    for o, r in [(ours.heads.a, ref.heads.a), (ours.plist, ref.plist)]:
        assert names(o.named_parameters(recurse=False)) == names(r.named_parameters(recurse=False))
        assert names(o.named_buffers(recurse=False)) == names(r.named_buffers(recurse=False))
    assert len(list(ours.parameters())) == len(list(ref.parameters()))
    assert len(list(ours.buffers())) == len(list(ref.buffers()))
    assert len(list(ours.modules())) == len(list(ref.modules()))
    assert len(list(ours.children())) == len(list(ref.children()))
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in ref.parameters()]


def test_state_dict_keys_shapes_dtypes_like_torch(models):
    ours, ref = models
    sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == list(ref_sd)
    for key, value in sd.items():
        assert type(value) is ag.Tensor and not value.requires_grad
        assert value.shape == tuple(ref_sd[key].shape)
        assert value.dtype == ref_sd[key].numpy().dtype
    assert "stem.scratch" not in sd and "stem.absent" not in sd
    assert ours.state_dict(keep_vars=True)["stem.weight"] is ours.stem.weight
    assert sd["stem.weight"].data is ours.stem.weight.data      # detached, shared memory


def test_repr_like_torch(models):
    ours, ref = models
    assert repr(ours) == torch_text(repr(ref))
    assert "(0-2): 3 x Identity()" in repr(ours.blocks)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())


def test_attribute_registration_rules():
    m = nn.Module()
    m.p = nn.Parameter(ag.ones(2))
    m.sub = nn.Identity()
    m.buf = nn.Buffer(ag.zeros(3))
    m.hidden = nn.Buffer(ag.zeros(3), persistent=False)
    m.plain = ag.zeros(1)                    # a plain tensor is an ordinary attribute
    assert list(m._parameters) == ["p"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["buf", "hidden"] and list(m.state_dict()) == ["p", "buf"]
    assert isinstance(m.buf, nn.Buffer) and not isinstance(m.plain, nn.Buffer)
    m.buf = ag.ones(3)                       # re-assigning a buffer name keeps it a buffer
    assert m._buffers["buf"].data.sum() == 3
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'p'"):
        m.p = ag.ones(2)
    with pytest.raises(TypeError, match="as child module 'sub'"):
        m.sub = 3
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", ag.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="empty"):
        m.add_module("", nn.Identity())
    with pytest.raises(TypeError, match="buffer name should be a string"):
        m.register_buffer(1, ag.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(TypeError, match="object to parameter"):
        m.register_parameter("q", ag.ones(1))
    m.p = None                               # a declared, absent parameter
    assert m.p is None and "p" in m._parameters and list(m.parameters()) == []
    m.sub = nn.Parameter(ag.ones(1))         # a name moves from modules to parameters
    assert "sub" not in m._modules and "sub" in m._parameters
    del m.sub, m.buf
    assert "sub" not in m._parameters and "buf" not in m._buffers
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        m.nothing  # noqa: B018
    assert "hidden" in dir(m) and "p" in dir(m)


def test_assign_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ag.ones(1))
            super().__init__()

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_get_submodule_parameter_buffer(models):
    ours, _ = models
    assert ours.get_submodule("body.1") is ours.body[1]
    assert ours.get_submodule("") is ours
    assert ours.get_parameter("heads.a.weight") is ours.heads.a.weight
    assert ours.get_buffer("stem.running") is ours.stem.running
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        ours.get_submodule("body.nope")
    with pytest.raises(AttributeError, match="is not an nn.Module"):
        ours.get_submodule("stem.weight")
    with pytest.raises(AttributeError, match="is not an nn.Parameter"):
        ours.get_parameter("stem.running")
    with pytest.raises(AttributeError, match="is not a buffer"):
        ours.get_buffer("stem.weight")


# -- Parameter and Buffer ------------------------------------------------------------------------
def test_parameter_is_a_leaf_sharing_data():
    t = ag.randn(2, 3)
    with ag.no_grad():
        p = nn.Parameter(t)
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data and p._vc is t._vc
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert repr(p).endswith("requires_grad=True)")
    y = (p * 2).sum()
    assert type(y) is ag.Tensor and type(p.detach()) is ag.Tensor
    y.backward()
    np.testing.assert_array_equal(p.grad.data, np.full((2, 3), 2, np.float32))
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ag.arange(3))
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.data is not p.data and q.requires_grad


def test_deepcopy_module_keeps_sharing(models):
    ours, _ = models
    twin = copy.deepcopy(ours)
    assert twin.tail is twin.heads.b and twin.tail is not ours.tail
    assert twin.tail.weight is twin.blocks[3].weight
    np.testing.assert_array_equal(twin.stem.weight.data, ours.stem.weight.data)
    assert names(twin.named_parameters()) == names(ours.named_parameters())


# -- loading state dicts ---------------------------------------------------------------------
def test_load_torch_state_dict_as_numpy(models):
    ours, ref = models
    torch.manual_seed(0)
    with torch.no_grad():
        for p in ref.parameters():
            p.normal_()
        for b in ref.buffers():
            b.add_(3)
    result = ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.data, ref.state_dict()[key].numpy())
        assert value.dtype == ref.state_dict()[key].numpy().dtype
    # and back: our state dict loads into PyTorch
    ref2 = build(torch.nn, torch)
    ref2.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in
                          ours.state_dict().items()})
    for key, value in ref2.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ref.state_dict()[key].numpy())


def test_load_keeps_identity_and_bumps_version(models):
    ours, _ = models
    w = ours.stem.weight
    version = w._version
    sd = {k: v.data + 1 for k, v in ours.state_dict().items()}
    ours.load_state_dict(sd)
    assert ours.stem.weight is w and w._version > version and w.requires_grad
    np.testing.assert_array_equal(w.data, np.full((3, 2), 2, np.float32))


def _error(model, sd, strict=True):
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(sd, strict=strict)
    return str(info.value)


def _broken(sd, convert):
    sd = OrderedDict((k, convert(v)) for k, v in sd.items())
    del sd["stem.weight"], sd["heads.a.count"]
    sd["stem.extra"] = convert(torch.zeros(1))
    sd["nosuch.weight"] = convert(torch.zeros(1))
    sd["body.1.running"] = convert(torch.zeros(5))       # size mismatch
    return sd


def test_load_strict_errors_like_torch(models):
    ours, ref = models
    ref_sd = ref.state_dict()
    ref_msg = _error(ref, _broken(ref_sd, lambda v: v))
    msg = _error(ours, _broken(ref_sd, lambda v: v.numpy()))
    assert msg == torch_text(ref_msg)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:\n\tMissing key(s) "
                          'in state_dict: "stem.weight", "heads.a.count". ')
    assert "size mismatch for body.1.running: copying a param with shape (5,)" in msg
    # size mismatches raise with strict=False too; missing/unexpected alone do not
    ref_msg = _error(ref, _broken(ref_sd, lambda v: v), strict=False)
    assert _error(ours, _broken(ref_sd, lambda v: v.numpy()), strict=False) == torch_text(ref_msg)
    sd = _broken(ref_sd, lambda v: v.numpy())
    ref_sd2 = _broken(ref_sd, lambda v: v)
    del sd["body.1.running"], ref_sd2["body.1.running"]
    result, ref_result = ours.load_state_dict(sd, strict=False), ref.load_state_dict(ref_sd2,
                                                                                      strict=False)
    assert result.missing_keys == ["stem.weight", "body.1.running", "heads.a.count"]
    assert result.unexpected_keys == ["nosuch.weight", "stem.extra"]
    assert result == tuple(ref_result)
    assert repr(result) == repr(ref_result)


def test_load_rejects_non_mapping_and_non_tensor_values(models):
    ours, _ = models
    with pytest.raises(TypeError, match="dict-like"):
        ours.load_state_dict([1, 2])
    sd = ours.state_dict()
    sd["stem.weight"] = "text"
    assert 'While copying the parameter named "stem.weight"' in _error(ours, sd)


def test_load_assign_replaces_tensors(models):
    ours, _ = models
    sd = {k: v.data * 0 + 5 for k, v in ours.state_dict().items()}
    ours.load_state_dict(sd, assign=True)
    assert isinstance(ours.stem.weight, nn.Parameter) and ours.stem.weight.requires_grad
    assert ours.stem.weight.data is sd["stem.weight"]


# -- modes, gradients, apply, dtype --------------------------------------------------------------
def test_train_eval_propagate(models):
    ours, _ = models
    assert all(m.training for m in ours.modules())
    assert ours.eval() is ours and not any(m.training for m in ours.modules())
    ours.body.train()
    assert [n for n, m in ours.named_modules() if m.training] == ["body", "body.0", "body.1",
                                                                    "body.2", "body.3"]
    with pytest.raises(ValueError, match="boolean"):
        ours.train("yes")


def test_zero_grad_both_modes():
    m = nn.Sequential(nn.ParameterList([nn.Parameter(ag.ones(3)), nn.Parameter(ag.ones(2))]))
    (m[0][0].sum() * 2 + m[0][1].sum()).backward()
    grad = m[0][0].grad
    m.zero_grad(set_to_none=False)
    assert m[0][0].grad is grad and grad.data.tolist() == [0, 0, 0]
    m.zero_grad()
    assert m[0][0].grad is None and m[0][1].grad is None


def test_requires_grad_(models):
    ours, _ = models
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())
    ours.heads.requires_grad_()
    assert [n for n, p in ours.named_parameters() if p.requires_grad] == ["blocks.3.weight",
                                                                           "heads.a.weight"]


def test_apply_visits_like_torch(models):
    ours, ref = models
    ours_names = {id(m): n for n, m in ours.named_modules()}
    ref_names = {id(m): n for n, m in ref.named_modules()}
    seen, ref_seen = [], []
    assert ours.apply(lambda m: seen.append(ours_names[id(m)])) is ours
    ref.apply(lambda m: ref_seen.append(ref_names[id(m)]))
    assert seen == ref_seen


def test_to_float64_keeps_parameter_identity(models):
    ours, ref = models
    before = list(ours.parameters())
    w = ours.stem.weight
    (ours.stem(ag.ones(4, 3)).sum()).backward()
    assert ours.to(ag.float64) is ours
    ref.to(torch.float64)
    assert all(a is b for a, b in zip(before, ours.parameters()))
    assert w.dtype == ag.float64 and w.grad.dtype == ag.float64 and w.requires_grad
    for (key, value), ref_value in zip(ours.state_dict().items(), ref.state_dict().values()):
        assert value.dtype == ref_value.numpy().dtype, key      # count stays int64
    assert ours.stem(ag.ones(4, 3, dtype=ag.float64)).dtype == ag.float64
    ours.float()
    assert w.dtype == ag.float32 and ours.stem.running.dtype == ag.float32
    assert ours.double().stem.scratch.dtype == ag.float64
    with pytest.raises(TypeError, match="floating point"):
        ours.to(ag.int32)
    assert ours.to("cpu") is ours


# -- calling and hooks -----------------------------------------------------------------------
class Scale(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x, y=0.0):
        return x * self.k + y


def test_forward_pre_hook_and_hook_modify_and_remove():
    m = Scale(2.0)
    x = ag.ones(2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: args[0] + 1)      # non-tuple: wrapped
    h2 = m.register_forward_hook(lambda mod, args, out: out * 10)
    h3 = m.register_forward_hook(lambda mod, args, out: calls.append(args[0].data.tolist()))
    assert m(x).data.tolist() == [40.0, 40.0]          # ((1 + 1) * 2) * 10
    assert calls == [[2.0, 2.0]]                        # hooks see the modified args
    h1.remove()
    assert m(x).data.tolist() == [20.0, 20.0]
    h2.remove()
    h2.remove()                                         # removing twice is harmless
    h3.remove()
    assert m(x).data.tolist() == [2.0, 2.0] and not m._forward_hooks


def test_hook_order_prepend_kwargs_and_context_manager():
    m = Scale(1.0)
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append("first"))
    m.register_forward_hook(lambda mod, a, o: order.append("prepended"), prepend=True)
    m(ag.ones(1))
    assert order == ["prepended", "first"]

    def pre(mod, args, kwargs):
        return args, {"y": ag.ones(1) * 5}
    with m.register_forward_pre_hook(pre, with_kwargs=True):
        assert m(ag.ones(1)).item() == 6.0
    assert m(ag.ones(1)).item() == 1.0

    def post(mod, args, kwargs, out):
        return out + kwargs["y"]
    with m.register_forward_hook(post, with_kwargs=True):
        assert m(ag.ones(1), y=ag.ones(1)).item() == 3.0
    assert not m._forward_hooks_with_kwargs


def test_forward_hook_always_call_runs_on_error():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m, seen = Boom(), []
    m.register_forward_hook(lambda mod, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(1)
    assert seen == [None]


def test_missing_forward_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)
    with pytest.raises(RuntimeError, match="should not be called"):
        nn.ParameterList()(1)


def test_custom_modules_forward_backward_like_torch():
    """A Sequential of custom modules trains like torch's: same output and parameter grads."""
    def make(lib, T, w1, w2):
        class Lin(lib.Module):
            def __init__(self, w):
                super().__init__()
                self.weight = lib.Parameter(T.tensor(w))

            def forward(self, x):
                return (x @ self.weight).tanh()
        return lib.Sequential(Lin(w1), lib.Flatten(0), lib.Unflatten(0, (4, 2)), Lin(w2))

    rng = np.random.default_rng(0)
    w1, w2, x = rng.normal(size=(3, 2)), rng.normal(size=(2, 2)), rng.normal(size=(4, 3))
    ours, ref = make(nn, ag, w1, w2), make(torch.nn, torch, w1, w2)
    out, ref_out = ours(ag.tensor(x)), ref(torch.tensor(x))
    np.testing.assert_allclose(out.data, ref_out.detach().numpy(), rtol=1e-12)
    g = rng.normal(size=(4, 2))
    out.backward(ag.tensor(g))
    ref_out.backward(torch.tensor(g))
    for p, rp in zip(ours.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.data, rp.grad.numpy(), rtol=1e-12)


# -- containers --------------------------------------------------------------------------------
def _seq(lib):
    return lib.Sequential(OrderedDict([("a", lib.Identity()), ("b", lib.Flatten()),
                                       ("c", lib.Identity()), ("d", lib.Flatten(0))]))


def test_sequential_indexing_and_slicing_like_torch():
    ours, ref = _seq(nn), _seq(torch.nn)
    assert ours[0] is ours.a and ours[-1] is ours.d and ours[-4] is ours.a
    for s in [slice(1, 3), slice(None, None, -1), slice(-2, None), slice(0, 4, 2)]:
        part = ours[s]
        assert type(part) is nn.Sequential
        assert names(part.named_children()) == names(ref[s].named_children())
        assert repr(part) == repr(ref[s])
    with pytest.raises(IndexError, match="out of range"):
        ours[4]
    assert len(ours) == 4 and list(ours) == [ours.a, ours.b, ours.c, ours.d]
    ours[1] = nn.Identity()
    assert isinstance(ours.b, nn.Identity)


def test_sequential_mutation_names_like_torch():
    results = []
    for lib in (nn, torch.nn):
        s = lib.Sequential(lib.Identity(), lib.Flatten(), lib.Flatten(0))
        s.append(lib.Identity())
        s.insert(1, lib.Flatten())
        s.extend([lib.Identity()])
        popped = s.pop(0)
        del s[-1]
        t = s + lib.Sequential(lib.Identity())
        s += lib.Sequential(lib.Identity())
        results.append((names(s.named_children()), names(t.named_children()),
                        type(popped).__name__, repr(s)))
    assert results[0] == results[1]


def test_sequential_forward_and_dir():
    s = nn.Sequential(Scale(2.0), Scale(3.0))
    assert s(ag.ones(2)).data.tolist() == [6.0, 6.0]
    assert "0" not in dir(s) and "forward" in dir(s)


def test_modulelist_like_torch():
    results = []
    for lib in (nn, torch.nn):
        ml = lib.ModuleList([lib.Identity(), lib.Flatten()])
        ml.append(lib.Identity())
        ml.extend([lib.Flatten(0), lib.Identity()])
        ml.insert(1, lib.Unflatten(1, (2, 2)))
        ml += [lib.Identity()]
        both = ml + lib.ModuleList([lib.Flatten()])
        del ml[0]
        del ml[1:3]
        part = ml[1:]
        ml[-1] = lib.Flatten(2)
        results.append((names(ml.named_children()), repr(ml), len(ml), type(part).__name__,
                        repr(part), repr(both), type(ml[-2]).__name__))
    assert results[0] == results[1]
    with pytest.raises(TypeError, match="iterable"):
        nn.ModuleList().extend(3)


def test_moduledict_like_torch():
    results = []
    for lib in (nn, torch.nn):
        md = lib.ModuleDict({"z": lib.Identity(), "a": lib.Flatten()})
        md.update([("m", lib.Identity())])
        md["b"] = lib.Flatten(0)
        popped = md.pop("a")
        results.append((list(md.keys()), names(md.named_children()), repr(md),
                        type(popped).__name__, "m" in md, len(md)))
    assert results[0] == results[1]
    with pytest.raises(ValueError, match="length"):
        nn.ModuleDict([("a", nn.Identity(), 1)])


def test_parameterlist_and_dict_like_torch():
    results = []
    for lib, T in ((nn, ag), (torch.nn, torch)):
        pl = lib.ParameterList([T.ones(2), lib.Parameter(T.zeros(3))])
        pl.append(T.ones(1, 2))
        pl.extend([lib.Parameter(T.ones(4))])
        pl += [T.zeros(5)]
        sub = pl[1:4:2]
        pd = lib.ParameterDict({"w": T.ones(2), "b": T.zeros(1)})     # plain dict: sorted
        pd.update(OrderedDict([("z", T.ones(3)), ("c", T.ones(1))]))  # ordered: kept
        pd["a"] = lib.Parameter(T.ones(2, 2))
        del pd["b"]
        results.append((names(pl.named_parameters()), len(pl), len(sub),
                        [tuple(p.shape) for p in sub], list(pd.keys()),
                        names(pd.named_parameters()), tuple(pd["a"].shape),
                        all(isinstance(p, lib.Parameter) for p in pl),
                        torch_text(repr(pl)), torch_text(repr(pd))))
    assert results[0] == results[1]


def test_identity_flatten_unflatten_like_torch():
    x = np.arange(24.0).reshape(2, 3, 4)
    cases = [(nn.Flatten(), torch.nn.Flatten()), (nn.Flatten(0, 1), torch.nn.Flatten(0, 1)),
             (nn.Unflatten(2, (2, 2)), torch.nn.Unflatten(2, (2, 2))),
             (nn.Unflatten(-1, [4, 1]), torch.nn.Unflatten(-1, [4, 1])),
             (nn.Identity(3, k=1), torch.nn.Identity(3, k=1))]
    for ours, ref in cases:
        np.testing.assert_array_equal(ours(ag.tensor(x)).data, ref(torch.tensor(x)).numpy())
        assert repr(ours) == repr(ref)
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, (2, 2.0))
    xt = ag.tensor(x, requires_grad=True)
    nn.Flatten()(xt).sum().backward()
    np.testing.assert_array_equal(xt.grad.data, np.ones_like(x))

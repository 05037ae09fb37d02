"""Global module hooks (nn.module.register_module_forward_*hook), which ag.viz.trace uses."""
import pytest

import autograd as ag
import autograd.profiler  # noqa: F401 - ag.profiler
import autograd.viz  # noqa: F401 - ag.viz
import nn
from nn.module import register_module_forward_hook, register_module_forward_pre_hook


class Double(nn.Module):
    def forward(self, x):
        return x * 2


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Double()

    def forward(self, x):
        return self.inner(x) + 1


def test_global_hooks_run_for_every_module_before_local_ones():
    order = []
    m = Outer()
    m.register_forward_pre_hook(lambda mod, args: order.append("local pre"))
    m.register_forward_hook(lambda mod, args, out: order.append("local post"))
    h1 = register_module_forward_pre_hook(
        lambda mod, args: order.append(f"pre {type(mod).__name__}"))
    h2 = register_module_forward_hook(
        lambda mod, args, out: order.append(f"post {type(mod).__name__}"))
    try:
        m(ag.ones(2))
    finally:
        h1.remove()
        h2.remove()
    assert order == ["pre Outer", "local pre", "pre Double", "post Double", "post Outer",
                     "local post"]
    order.clear()
    m(ag.ones(2))
    assert order == ["local pre", "local post"]


def test_global_hooks_modify_args_and_output_and_always_call():
    m = Double()
    with register_module_forward_pre_hook(lambda mod, args: (args[0] + 1,)), \
            register_module_forward_hook(lambda mod, args, out: out * 10):
        assert m(ag.ones(2)).tolist() == [40.0, 40.0]
    assert m(ag.ones(2)).tolist() == [2.0, 2.0]

    class Boom(nn.Module):
        def forward(self, x, flag=False):
            raise ValueError("boom")

    seen = []
    with register_module_forward_hook(lambda mod, a, kw, out: seen.append((kw, out)),
                                      with_kwargs=True, always_call=True):
        with pytest.raises(ValueError):
            Boom()(ag.ones(1), flag=True)
    assert seen == [({"flag": True}, None)]


def test_trace_leaves_no_global_hooks_behind():
    from nn import hooks
    with ag.viz.trace():
        assert hooks._global_forward_pre_hooks and hooks._global_forward_hooks
    assert not hooks._global_forward_pre_hooks and not hooks._global_forward_hooks


def test_trace_and_profiler_nest_in_any_order():
    from autograd import engine
    run = engine._run
    x = ag.randn(3, requires_grad=True)
    tracer = ag.viz.trace().start()
    with ag.profiler.profile():
        tracer.stop()                 # stopped while the profiler's wrapper sits on top
    assert engine._run is not run     # the trace's wrapper remains, inert
    y = (x * 2.0).sum()
    y.backward()
    assert not y.grad_fn._tensor_hooks

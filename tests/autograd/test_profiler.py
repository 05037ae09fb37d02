"""ag.profiler.profile: per-op counts and times, wall-time consistency, chrome trace."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import autograd as ag
import autograd.profiler  # noqa: F401 - ag.profiler
from autograd.function import Function

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mlp_step(x, w1, w2):
    h = (x @ w1).relu()
    loss = (h @ w2).tanh().sum()
    loss.backward()


def test_counts_per_op_forward_and_backward():
    x = ag.randn(16, 8)
    w1, w2 = ag.randn(8, 32, requires_grad=True), ag.randn(32, 4, requires_grad=True)
    with ag.profiler.profile() as prof:
        for _ in range(3):
            mlp_step(x, w1, w2)
    s = prof.stats
    assert (s["MatMul"].calls, s["MatMul"].bwd_calls) == (6, 6)
    assert (s["Relu"].calls, s["Tanh"].calls, s["Sum"].calls) == (3, 3, 3)
    assert (s["Relu"].bwd_calls, s["Tanh"].bwd_calls, s["Sum"].bwd_calls) == (3, 3, 3)
    # the ops run inside backward (g @ w.T, masked_fill, ...) count towards the backward
    assert set(s) == {"MatMul", "Relu", "Tanh", "Sum"}
    for stat in s.values():
        assert stat.fwd_kernel >= 0 and stat.fwd_overhead >= 0 and stat.bwd_kernel >= 0
        assert stat.bwd_overhead >= 0


def test_totals_consistent_with_wall_time():
    x = ag.randn(64, 128)
    w1, w2 = ag.randn(128, 128, requires_grad=True), ag.randn(128, 10, requires_grad=True)
    mlp_step(x, w1, w2)
    with ag.profiler.profile() as prof:
        t0 = time.perf_counter()
        for _ in range(10):
            mlp_step(x, w1, w2)
        inner = time.perf_counter() - t0
    assert prof.tracked <= prof.wall
    assert prof.tracked <= inner * 1.02 + 1e-4
    assert prof.tracked >= 0.5 * inner       # nearly all of this loop is inside ops
    assert prof.untracked == pytest.approx(prof.wall - prof.tracked)
    ranked = prof.key_averages()
    totals = [s.total for s in ranked]                # ranked by total time, largest first
    assert totals == sorted(totals, reverse=True) and {s.name for s in ranked} >= {"MatMul"}


def test_chrome_trace_is_valid_json_with_one_event_per_op(tmp_path):
    x = ag.randn(4, 3)
    w = ag.randn(3, 2, requires_grad=True)
    with ag.profiler.profile(record_shapes=True) as prof:
        (x @ w).exp().sum().backward()
    path = prof.export_chrome_trace(tmp_path / "trace.json")
    with open(path) as f:
        trace = json.load(f)
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    fwd = [e for e in events if e["cat"] == "forward"]
    bwd = [e for e in events if e["cat"] == "backward"]
    assert [e["name"] for e in fwd] == ["MatMul", "Exp", "Sum"]
    assert sorted(e["name"] for e in bwd) == ["ExpBackward", "MatMulBackward", "SumBackward"]
    assert len(fwd) == sum(s.calls for s in prof.stats.values())
    assert len(bwd) == sum(s.bwd_calls for s in prof.stats.values())
    assert fwd[0]["args"]["shapes"] == [[4, 3], [3, 2]]
    for e in events:
        assert e["dur"] >= 0 and e["ts"] >= 0 and isinstance(e["pid"], int)
    starts = [e["ts"] for e in fwd]
    assert starts == sorted(starts)


def test_table_sorting_and_errors():
    x = ag.randn(5, requires_grad=True)
    with ag.profiler.profile() as prof:
        for _ in range(4):
            (x * 2.0).exp().sum().backward()
    table = prof.table(sort_by="calls")
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["op", "calls"]
    assert {ln.split()[0] for ln in lines[2:5]} == {"Mul", "Exp", "Sum"}
    assert "wall" in table
    names = [ln.split()[0] for ln in prof.table(sort_by="name").splitlines()[2:5]]
    assert names == sorted(names)
    with pytest.raises(ValueError, match="sort_by"):
        prof.table(sort_by="speed")


def test_patches_removed_on_exit_even_after_an_error():
    original_apply = Function.__dict__["apply"]
    run = ag.engine._run
    with pytest.raises(ZeroDivisionError):
        with ag.profiler.profile():
            (ag.randn(2, requires_grad=True) * 3.0).sum().backward()
            raise ZeroDivisionError("inside the profile")
    assert Function.__dict__["apply"] is original_apply and ag.engine._run is run
    from autograd.ops.arithmetic import Mul
    assert "profiled" not in Mul.forward.__qualname__


class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _cube_kernel()(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3.0 * x * x


def _cube_kernel():
    from autograd.kernels._jit import jit

    @jit(cache=False)
    def cube(a):
        out = np.empty_like(a)
        for i in range(a.size):
            out.flat[i] = a.flat[i] ** 3
        return out
    return cube


def test_numba_compile_time_is_counted_and_attributed_to_the_op():
    pytest.importorskip("numba")
    x = ag.randn(6, dtype=ag.float64, requires_grad=True)
    with ag.profiler.profile() as prof:
        y = Cube.apply(x)
        y.sum().backward()
    np.testing.assert_allclose(y.data, x.data ** 3)
    assert prof.numba["compiles"] >= 1 and prof.numba["compile_time"] > 0
    assert prof.stats["Cube"].jit >= prof.numba["compile_time"] * 0.99
    assert "numba: " in prof.table() and "cube" in prof.table()


def test_numba_cache_hits_or_compiles_of_library_kernels_in_a_fresh_process(tmp_path):
    pytest.importorskip("numba")
    code = (
        "import autograd as ag, autograd.profiler\n"
        "import nn.functional as F\n"
        "x = ag.randn(1, 2, 6, 6, requires_grad=True)\n"
        "w = ag.randn(3, 2, 3, 3, requires_grad=True)\n"
        "for _ in range(2):\n"
        "    with ag.profiler.profile() as p:\n"
        "        F.conv2d(x, w).sum().backward()\n"
        "    k = p.numba['kernels']\n"
        "    print(sum(v[0] + v[2] for n, v in k.items() if n in ('im2col', 'col2im')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": ROOT})
    assert out.returncode == 0, out.stderr
    first, second = (int(v) for v in out.stdout.split())
    assert first >= 2 and second == 0      # loaded or compiled once, then in memory


def test_apply_bound_before_profiling_is_still_timed():
    class Square(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.data ** 2

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2.0 * x

    square = Square.apply                    # bound now: profiling cannot wrap this apply
    x = ag.randn(4, requires_grad=True)
    with ag.profiler.profile() as prof:
        square(x).sum().backward()
    stat = prof.stats["Square"]
    assert (stat.calls, stat.bwd_calls) == (1, 1) and stat.fwd_kernel > 0

"""The benchmark runner: it completes, writes valid JSON, filters, and reports failed checks.

Nothing here asserts a speed. The runner runs at its hidden --tiny level (few repeats, short
repeats), in-process with fake workloads where possible and once as a real subprocess.
"""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from benchmarks import machine, runner
from benchmarks.workloads import FULL, QUICK, TINY, Skip, Workload, allclose_check, pick

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(autouse=True)
def _keep_env(monkeypatch):
    """The runner sets *_NUM_THREADS; give them back after each test."""
    for var in runner._THREAD_VARS + ("NUMBA_NUM_THREADS",):
        if var in os.environ:
            monkeypatch.setenv(var, os.environ[var])
        else:
            monkeypatch.delenv(var, raising=False)


def _const(value):
    def setup(quick):
        return lambda: value
    return setup


def _fake(name, ours=1.0, ref=1.0, **kw):
    return Workload(name=name, sizes="tiny", setup_ours=_const(ours),
                    baselines={"ref": _const(ref)}, check=allclose_check(), threaded=False,
                    **kw)


def _run(tmp_path, argv, workloads=None):
    out = tmp_path / "out.json"
    code = runner.main(["--tiny", "--no-progress", "--json", str(out)] + argv, workloads)
    return code, json.loads(out.read_text())


def test_fake_workloads_json_keys(tmp_path, capsys):
    code, doc = _run(tmp_path, [], [_fake("a_ok"), _fake("b_ok", ops=2)])
    assert code == 0 and doc["exit_code"] == 0
    assert set(doc) >= {"schema", "settings", "machine", "results", "exit_code"}
    assert set(doc["machine"]) >= {"date", "cpu", "threads", "thread_control", "peak", "blas",
                                   "versions"}
    assert set(doc["machine"]["versions"]) >= {"python", "numpy", "numba", "scipy", "torch"}
    assert doc["settings"]["level"] == "tiny"
    rows = doc["results"]
    assert [r["name"] for r in rows] == ["a_ok", "b_ok"]
    for r in rows:
        assert r["status"] == "ok" and r["check"].startswith("ok")
        assert set(r["ours"]) >= {"median", "q1", "q3", "min", "max", "iqr_pct", "times"}
        assert r["ours"]["min"] <= r["ours"]["median"] <= r["ours"]["max"]
        assert "ref" in r["baselines"]
    assert rows[1]["us_per_op"]["ours"] > 0
    assert "a_ok" in capsys.readouterr().out


def test_only_filters(tmp_path):
    ws = [_fake("alpha"), _fake("beta_1"), _fake("beta_2"), _fake("gamma")]
    _, doc = _run(tmp_path, ["--only", "gamma", "beta"], ws)
    assert [r["name"] for r in doc["results"]] == ["beta_1", "beta_2", "gamma"]
    _, doc = _run(tmp_path, ["--only", "*a_2"], ws)
    assert [r["name"] for r in doc["results"]] == ["beta_2"]
    ws.append(_fake("beta_big", quick=False))
    _, doc = _run(tmp_path, ["--quick", "--only", "beta"], ws)   # prefix: quick rows only
    assert [r["name"] for r in doc["results"]] == ["beta_1", "beta_2"]
    _, doc = _run(tmp_path, ["--quick", "--only", "beta_big"], ws)   # exact name: any level
    assert [r["name"] for r in doc["results"]] == ["beta_big"]
    with pytest.raises(SystemExit, match="no workload matches nope"):
        runner.main(["--tiny", "--no-progress", "--only", "nope"], ws)


def test_disagreeing_check_is_failed(tmp_path, capsys):
    calls = []

    def counting(quick):
        def run():
            calls.append(1)
            return 1.0
        return run
    bad = Workload(name="bad", sizes="tiny", setup_ours=counting,
                   baselines={"ref": _const(2.0)}, check=allclose_check(), threaded=False)
    code, doc = _run(tmp_path, [], [_fake("good"), bad])
    assert code == 1 and doc["exit_code"] == 1
    good, failed = doc["results"]
    assert good["status"] == "ok"
    assert failed["status"] == "FAILED CHECK" and failed["ours"] is None
    assert len(calls) == 1                       # checked once, never timed
    assert any("disagrees with ref" in m for m in failed["messages"])
    assert "FAILED CHECK" in capsys.readouterr().out


def test_check_forms_and_errors(tmp_path):
    def raising_check(ours, ref):
        raise AssertionError("nope")

    def broken(quick):
        raise ValueError("boom")
    ws = [Workload(name="str_ok", sizes="", setup_ours=_const(1), baselines={"r": _const(1)},
                   check=lambda a, b: "fine", threaded=False),
          Workload(name="false", sizes="", setup_ours=_const(1), baselines={"r": _const(1)},
                   check=lambda a, b: False, threaded=False),
          Workload(name="assert", sizes="", setup_ours=_const(1), baselines={"r": _const(1)},
                   check=raising_check, threaded=False),
          Workload(name="error", sizes="", setup_ours=broken, threaded=False)]
    code, doc = _run(tmp_path, [], ws)
    assert code == 1
    assert [r["status"] for r in doc["results"]] == ["ok", "FAILED CHECK", "FAILED CHECK",
                                                     "ERROR"]


def test_skip_is_not_a_failure(tmp_path):
    def skipped(quick):
        raise Skip("not here")
    ws = [Workload(name="half", sizes="", setup_ours=skipped, baselines={"r": _const(1)},
                   threaded=False),
          Workload(name="none", sizes="", setup_ours=skipped, threaded=False)]
    code, doc = _run(tmp_path, [], ws)
    assert code == 0
    half, none = doc["results"]
    assert half["ours"] is None and "r" in half["baselines"]
    assert none["status"] == "SKIPPED" and "ours skipped: not here" in none["messages"]


def test_self_timed_and_target(tmp_path):
    w = Workload(name="st", sizes="", setup_ours=_const(0.25), self_timed=True, threaded=False,
                 repeats=lambda q: 4, target=("under 1 s", lambda r: r["ours"]["median"] < 1))
    _, doc = _run(tmp_path, [], [w])
    row = doc["results"][0]
    assert row["ours"]["median"] == 0.25 and len(row["ours"]["times"]) == 4
    assert row["target"] == {"label": "under 1 s", "met": True}


def test_torch_missing_runs_ours_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "torch_available", lambda: False)
    w = Workload(name="t", sizes="", setup_ours=_const(1.0), threaded=False,
                 setup_torch=lambda q: pytest.fail("torch side must not run"))
    code, doc = _run(tmp_path, ["--compare", "torch"], [w])
    assert code == 0 and doc["settings"]["compare"] is None
    assert doc["results"][0]["ratio"] is None
    assert "PyTorch is not installed" in capsys.readouterr().err


def test_markdown_list_and_plot(tmp_path, capsys):
    md, png = tmp_path / "t.md", tmp_path / "t.png"
    code = runner.main(["--tiny", "--no-progress", "--markdown", str(md), "--plot", str(png)],
                       [_fake("m1")])
    assert code == 0
    text = md.read_text()
    assert "| workload |" in text and "| m1 |" in text
    out = capsys.readouterr().out
    if importlib.util.find_spec("matplotlib") is None:
        assert "matplotlib is not installed" in out
    else:
        assert "no ratios to plot" in out       # no --compare torch: nothing to plot
    assert runner.main(["--list"], [_fake("listed")]) == 0
    assert "listed" in capsys.readouterr().out


def test_pick_levels():
    assert [pick(lv, full=3, quick=2, tiny=1) for lv in (FULL, QUICK, TINY)] == [3, 2, 1]
    assert [pick(lv, 3, 2) for lv in (FULL, QUICK, TINY)] == [3, 2, 2]
    assert pick(TINY, 5) == 5


def test_machine_peak_is_described():
    desc = machine.describe(1, ["test"])
    pk = desc["peak"]
    assert pk["cores"] >= 1 and pk["vector_bits"] in (128, 256, 512)
    if pk["clock_ghz"]:
        assert pk["float32"] == pytest.approx(2 * pk["float64"])
        assert "GFLOP/s" in pk["float32_formula"]
    assert any(line.startswith("Peak") for line in machine.summary_lines(desc))
    json.dumps(desc)


def test_registry_has_the_workloads():
    from benchmarks import workloads
    names = {w.name for w in workloads.load()}
    assert {"op_add_4", "expr_4", "gemm_f32_n256", "gemm_f64_n2048",
            "import_autograd"} <= names
    quick = runner.select(workloads.load(), None, QUICK)
    assert "gemm_f32_n2048" not in {w.name for w in quick}


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")
def test_real_overhead_workloads_against_torch(tmp_path):
    code, doc = _run(tmp_path, ["--only", "op_add_4", "expr_4", "--compare", "torch"])
    assert code == 0, doc["results"]
    for row in doc["results"]:
        assert row["status"] == "ok" and row["check"].startswith("ok")
        assert row["ratio"] is not None and row["torch"]["median"] > 0


def test_smoke_subprocess_quick_tiny(tmp_path):
    """The real command line, every quick workload, at tiny size."""
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--tiny", "--json", str(out),
         "--markdown", str(md)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    names = [r["name"] for r in doc["results"]]
    assert names[:2] == ["op_add_4", "expr_4"] and "import_autograd" in names
    assert "gemm_f32_n1024" not in names
    assert all(r["status"] in ("ok", "SKIPPED") for r in doc["results"])
    assert doc["machine"]["threads"] >= 1
    assert "workload" in proc.stdout and md.exists()

"""The benchmark runner: `python -m benchmarks [--quick] [--compare torch] ...`.

For each selected workload: set up every side (ours, PyTorch with --compare torch, extra
baselines such as raw numpy), run the workload's agreement check on the first call's results,
warm up, calibrate how many calls make one repeat, then time the repeats with the sides
interleaved (the order rotates every repeat, so machine noise hits all sides alike). Reports
median and spread (quartiles, min, max) per call. Only the standard library is imported at
module level, so that the thread-count environment variables can be set before numpy loads.
"""
import argparse
import math
import os
import statistics
import sys
import time
import traceback
from dataclasses import dataclass

__all__ = ["main", "parse_args", "run_workload", "Level", "LEVELS"]

TINY_ENV = "TAPEGRAD_BENCH_TINY"


@dataclass(frozen=True)
class Level:
    """Timing effort: warm-up calls and seconds, seconds per repeat, repeats, and the pause
    before switching sides in a multi-threaded workload. The pause lets the thread pool just
    used (OpenBLAS workers spin about 2**28 cycles, ~0.1 s, after a call; OpenMP ones spin
    too) go idle, so it does not steal the cores from the next side's pool."""
    name: str
    warmup_calls: int
    warmup_seconds: float
    min_repeat_seconds: float
    repeats: int
    switch_pause: float


LEVELS = {0: Level("full", 3, 0.2, 0.05, 15, 0.25), 1: Level("quick", 2, 0.05, 0.02, 7, 0.15),
          2: Level("tiny", 1, 0.0, 0.001, 3, 0.0)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks",
                                description="tapegrad benchmarks (median and spread per call)")
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and fewer repeats (under two minutes on 2 cores)")
    p.add_argument("--only", nargs="+", metavar="NAME",
                   help="run only these workloads (exact names, prefixes or glob patterns)")
    p.add_argument("--compare", choices=["torch"],
                   help="also run each workload in PyTorch, interleaved, and report ratios")
    p.add_argument("--json", metavar="FILE", help="write results and machine description")
    p.add_argument("--markdown", metavar="FILE", help="write the table as markdown")
    p.add_argument("--plot", metavar="FILE.png", help="bar chart of ratios (needs matplotlib)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for numpy's BLAS and PyTorch (default: all available CPUs)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)   # test sizes
    p.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    args.level = 2 if (args.tiny or os.environ.get(TINY_ENV)) else 1 if args.quick else 0
    return args


# -- threads ---------------------------------------------------------------------------------
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")
_limits = None    # keeps a threadpoolctl limit alive for the run


def available_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def control_threads(n):
    """Limit every thread pool we can reach to n threads; return how, as text lines."""
    global _limits
    how = []
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    if "numpy" in sys.modules:
        how.append(f"*_NUM_THREADS={n} set after numpy was imported (subprocesses only)")
    else:
        how.append(f"OMP/OPENBLAS/MKL_NUM_THREADS={n} set before numpy import")
    if os.environ.get("OPENBLAS_THREAD_TIMEOUT"):
        how.append(f"OPENBLAS_THREAD_TIMEOUT={os.environ['OPENBLAS_THREAD_TIMEOUT']}")
    if "numba" in sys.modules:
        import numba
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        how.append(f"numba.set_num_threads({min(n, numba.config.NUMBA_NUM_THREADS)})")
    else:
        os.environ["NUMBA_NUM_THREADS"] = str(n)
    try:
        import threadpoolctl
        _limits = threadpoolctl.threadpool_limits(limits=n)
        how.append(f"threadpoolctl.threadpool_limits({n})")
    except ImportError:
        how.append("threadpoolctl not installed")
    return how


def torch_available():
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def load_torch(n, how):
    import torch
    torch.set_num_threads(n)
    how.append(f"torch.set_num_threads({n})")
    return torch


# -- timing ----------------------------------------------------------------------------------
def _stats(times):
    """Median, quartiles, min, max and IQR/median in %; `times` kept in the order taken."""
    med = statistics.median(times)
    if len(times) >= 2:
        q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    else:
        q1 = q3 = med
    return {"median": med, "q1": q1, "q3": q3, "min": min(times), "max": max(times),
            "iqr_pct": 100.0 * (q3 - q1) / med if med else 0.0, "times": list(times)}


def _call_time(fn, number, self_timed):
    if self_timed:
        return sum(fn() for _ in range(number))
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def _calibrate(fn, level, self_timed):
    """Warm up, then the number of calls that makes one repeat last min_repeat_seconds."""
    start, calls = time.perf_counter(), 0
    while calls < level.warmup_calls or time.perf_counter() - start < level.warmup_seconds:
        fn()
        calls += 1
    if self_timed:
        return 1
    number = 1
    while True:
        elapsed = _call_time(fn, number, False)
        if elapsed >= level.min_repeat_seconds or number >= 10 ** 7:
            break
        guess = number * level.min_repeat_seconds / max(elapsed, 1e-9)
        number = max(number * 2, min(int(math.ceil(guess * 1.1)), number * 100))
    return number


def _settle(fn, pause, self_timed):
    """Before a side's turn in a multi-threaded workload: sleep `pause` (the other side's
    thread pool goes idle), then one untimed call. The first call after an idle spell pays
    for waking this side's sleeping threads (on this VM a halted vCPU takes milliseconds to
    resume: a CNN step took 30-55 ms against 18 ms back to back), which a training loop pays
    once, not every step. (A self-timed call, e.g. a fresh process, is not repeated.)"""
    if pause:
        time.sleep(pause)
        if not self_timed:
            fn()


def measure(fns, level, self_timed=False, repeats=None, on_repeat=None, pause=0.0):
    """{side: stats} timing each zero-arg callable in `fns`, interleaved per repeat (the
    order rotates each repeat), sleeping `pause` seconds and making one untimed call before
    each side's turn (`_settle`)."""
    sides = list(fns)
    pause = pause if len(sides) > 1 else 0.0
    numbers = {}
    for side in sides:
        _settle(fns[side], pause, self_timed)
        numbers[side] = _calibrate(fns[side], level, self_timed)
    times = {side: [] for side in sides}
    for r in range(repeats or level.repeats):
        k = r % len(sides)
        for side in sides[k:] + sides[:k]:
            _settle(fns[side], pause, self_timed)
            times[side].append(_call_time(fns[side], numbers[side], self_timed)
                               / numbers[side])
        if on_repeat:
            on_repeat()
    out = {}
    for side in sides:
        out[side] = _stats(times[side])
        out[side]["number"] = numbers[side]
    return out


def _normalize_check(value):
    """A check's return value as (ok, detail)."""
    if isinstance(value, tuple):
        return bool(value[0]), str(value[1]) if len(value) > 1 else ""
    if value is None or isinstance(value, str):
        return True, value or ""
    return bool(value), ""


def run_workload(w, level, compare, peak=None, on_repeat=None, threads=1):
    """Set up, check and time one workload; return its result row (a JSON-able dict)."""
    from .workloads import Skip
    lv = LEVELS[level]
    row = {"name": w.name, "sizes": w.sizes_text(level), "description": w.description,
           "status": "ok", "messages": [], "check": "n/a", "ratio": None, "ours": None,
           "torch": None, "baselines": {}, "meta": dict(w.meta)}
    setups = {"ours": w.setup_ours}
    if compare and w.setup_torch is not None:
        setups["torch"] = w.setup_torch
    setups.update(w.baselines)
    fns = {}
    for side, setup in setups.items():
        try:
            fns[side] = setup(level)
        except Skip as exc:
            row["messages"].append(f"{side} skipped: {exc}")
        except Exception as exc:
            row["status"] = "ERROR"
            row["messages"].append(f"{side} setup failed: {type(exc).__name__}: {exc}")
            row["traceback"] = traceback.format_exc()
            return row
    if "ours" not in fns:
        row["check"] = "ours skipped"
        if not fns:
            row["status"] = "SKIPPED"
            return row
    # the agreement check, on the first call's results, before any timing
    if w.check is not None and "ours" in fns and len(fns) > 1:
        try:
            ours = fns["ours"]()
            details = []
            for side in [s for s in fns if s != "ours"]:
                ok, detail = _normalize_check(w.check(ours, fns[side]()))
                details.append(f"vs {side}: {detail}" if detail else f"vs {side}")
                if not ok:
                    row["status"] = "FAILED CHECK"
                    row["messages"].append(f"ours disagrees with {side}: {detail}")
            row["check"] = ("FAILED" if row["status"] == "FAILED CHECK" else "ok") + \
                (f" ({'; '.join(details)})" if details else "")
        except AssertionError as exc:
            row["status"] = "FAILED CHECK"
            row["check"] = "FAILED"
            row["messages"].append(f"check failed: {exc}")
        except Exception as exc:
            row["status"] = "ERROR"
            row["check"] = "error"
            row["messages"].append(f"check raised {type(exc).__name__}: {exc}")
            row["traceback"] = traceback.format_exc()
        if row["status"] != "ok":   # a wrong result is not timed: it cannot win
            return row
    try:
        reps = w.repeats(level) if w.repeats else lv.repeats
        pause = lv.switch_pause if (w.threaded and threads > 1) else 0.0
        stats = measure(fns, lv, w.self_timed, reps, on_repeat, pause)
    except Exception as exc:
        row["status"] = "ERROR"
        row["messages"].append(f"timing raised {type(exc).__name__}: {exc}")
        row["traceback"] = traceback.format_exc()
        return row
    row["ours"] = stats.pop("ours", None)
    row["torch"] = stats.pop("torch", None)
    row["baselines"] = stats
    if row["ours"] and row["torch"]:
        row["ratio"] = row["ours"]["median"] / row["torch"]["median"]
    _derived(w, level, row, peak)
    return row


def _sides(row):
    sides = {"ours": row["ours"], **row["baselines"], "torch": row["torch"]}
    return {k: v for k, v in sides.items() if v}


def _derived(w, level, row, peak):
    """GFLOP/s and % of peak, per-op µs, and the workload's target."""
    if w.flops is not None:
        flops = w.flops(level)
        row["gflops"] = {s: flops / v["median"] / 1e9 for s, v in _sides(row).items()}
        dtype = w.meta.get("dtype")
        if peak and dtype and peak.get(dtype):
            row["peak_gflops"] = peak[dtype]
            row["pct_of_peak"] = {s: 100 * g / peak[dtype] for s, g in row["gflops"].items()}
    if w.ops:
        row["ops"] = w.ops
        row["us_per_op"] = {s: 1e6 * v["median"] / w.ops for s, v in _sides(row).items()}
    if w.target is not None:
        label, pred = w.target
        met = pred(row) if row["ours"] else None
        row["target"] = {"label": label, "met": met}


# -- selection and main ----------------------------------------------------------------------
def select(workloads, only, level):
    """The workloads to run: those of this size level (--quick leaves out the full-only
    ones), narrowed by the --only patterns if given."""
    import fnmatch
    in_level = [w for w in workloads if level == 0 or w.quick]
    if not only:
        return in_level
    chosen, unknown = [], []
    for pat in only:
        # an exact name runs at any level; a prefix or pattern picks from this level's rows
        hits = [w for w in workloads if w.name == pat] or [
            w for w in in_level if fnmatch.fnmatchcase(w.name, pat) or w.name.startswith(pat)]
        if not hits:
            unknown.append(pat)
        chosen += [w for w in hits if w not in chosen]
    if unknown:
        raise SystemExit(f"--only: no workload matches {', '.join(unknown)}; available: "
                         + ", ".join(w.name for w in workloads))
    return [w for w in workloads if w in chosen]


def _repeats(w, level):
    return w.repeats(level) if w.repeats else LEVELS[level].repeats


def main(argv=None, workloads=None):
    """Run the benchmarks; return the exit code (1 if a check failed or a workload errored).
    `workloads` replaces the registry (tests use it)."""
    args = parse_args(argv)
    threads = args.threads or available_cpus()
    how = control_threads(threads)       # before numpy (imported by the workloads) loads
    try:
        return _main(args, argv, threads, how, workloads)
    finally:
        release_threads()


def _main(args, argv, threads, how, workloads):
    from . import machine, report
    from . import workloads as registry
    all_workloads = registry.load() if workloads is None else list(workloads)
    if args.list:
        for w in all_workloads:
            tag = "" if w.quick else "  (full runs only)"
            print(f"{w.name:<18} {w.sizes_text(args.level):<40} {w.description}{tag}")
        return 0
    chosen = select(all_workloads, args.only, args.level)
    compare = False
    if args.compare == "torch":
        if torch_available():
            load_torch(threads, how)
            compare = True
        else:
            print("PyTorch is not installed: running ours alone (no ratios).", file=sys.stderr)
    desc = machine.describe(threads, how)
    print(f"tapegrad benchmarks ({LEVELS[args.level].name}, {len(chosen)} workloads"
          + (", compared with PyTorch" if compare else "") + ")")
    for line in machine.summary_lines(desc):
        print(line)
    sys.stdout.flush()

    from tqdm import tqdm
    rows = []
    usage_start = machine.usage_snapshot()
    total = sum(_repeats(w, args.level) for w in chosen)
    with tqdm(total=total, unit="repeat", file=sys.stderr, leave=False, dynamic_ncols=True,
              disable=args.no_progress) as bar:
        for w in chosen:
            bar.set_description(w.name)
            end = bar.n + _repeats(w, args.level)
            rows.append(run_workload(w, args.level, compare, desc["peak"],
                                     lambda: bar.update(1), threads))
            bar.update(end - bar.n)           # a skipped or failed row has no repeats
    desc["background"] = machine.background_load(usage_start, machine.usage_snapshot(),
                                                  available_cpus())
    code = 1 if any(r["status"] in ("FAILED CHECK", "ERROR") for r in rows) else 0
    print()
    print(report.table_text(rows, compare))
    print(report.background_text(desc["background"]))
    settings = {"level": LEVELS[args.level].name, "compare": "torch" if compare else None,
                "threads": threads, "only": args.only,
                "argv": list(sys.argv[1:] if argv is None else argv)}
    if args.json:
        report.write_json(args.json, rows, desc, settings, code)
        print(f"wrote {args.json}")
    if args.markdown:
        report.write_markdown(args.markdown, rows, desc, compare)
        print(f"wrote {args.markdown}")
    if args.plot:
        print(report.write_plot(args.plot, rows))
    return code


def release_threads():
    """Undo a threadpoolctl limit (the process may go on, e.g. under pytest)."""
    global _limits
    if _limits is not None:
        _limits.restore_original_limits()
        _limits = None

"""What machine the numbers come from: CPU, cores, clock, theoretical peak, BLAS, versions.

Peak FLOP/s = lanes per vector x 2 (an FMA is a multiply and an add) x FMA units per core
x clock x cores. The vector width comes from the CPU flags (AVX-512, AVX2, AVX, SSE on x86;
NEON on aarch64), the clock from cpufreq's cpuinfo_max_freq or else /proc/cpuinfo's current
"cpu MHz", the cores from os.sched_getaffinity. Every assumption is written into `method`.
"""
import ctypes
import datetime
import importlib.metadata
import os
import platform
import re
import sys

__all__ = ["cpu_info", "peak", "blas_info", "versions", "describe", "summary_lines",
           "usage_snapshot", "background_load"]


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _affinity():
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:       # not Linux
        return list(range(os.cpu_count() or 1))


def cpu_info():
    """Model, vendor, family, flags, logical CPUs available, physical cores among them, MHz."""
    text = _read("/proc/cpuinfo") or ""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    procs = []
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            if ":" in line:
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
        procs.append(fields)
    first = procs[0] if procs else {}
    cpus = _affinity()
    cores = set()
    for cpu in cpus:
        core = _read(f"/sys/devices/system/cpu/cpu{cpu}/topology/core_id")
        pkg = _read(f"/sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id")
        cores.add((pkg and pkg.strip(), core.strip() if core else f"cpu{cpu}"))
    flags = set((first.get("flags") or first.get("features") or "").split())
    return {
        "model": first.get("model name") or first.get("cpu model") or platform.processor()
        or "unknown",
        "vendor": first.get("vendor_id", ""),
        "family": first.get("cpu family", ""),
        "model_id": first.get("model", ""),
        "arch": platform.machine(),
        "logical_cpus_total": os.cpu_count(),
        "cpus_available": len(cpus),
        "physical_cores_available": len(cores) if cores else len(cpus),
        "cpu_mhz_current": float(first["cpu mhz"]) if "cpu mhz" in first else None,
        "flags": flags,
    }


def _clock(info):
    """(GHz, how it was found)."""
    khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if khz and khz.strip().isdigit():
        return int(khz) / 1e6, "cpufreq cpuinfo_max_freq"
    if info["cpu_mhz_current"]:
        return (info["cpu_mhz_current"] / 1e3,
                "/proc/cpuinfo 'cpu MHz' (current clock; cpufreq max not available)")
    m = re.search(r"@\s*([\d.]+)\s*GHz", info["model"])
    if m:
        return float(m.group(1)), "the GHz in the CPU model name"
    return None, "unknown (no cpufreq, no 'cpu MHz', no GHz in the model name)"


def _vector(info):
    """(vector bits used for the peak, FMA units per core, flop per lane per unit, notes)."""
    flags, arch, notes = info["flags"], info["arch"], []
    if arch in ("aarch64", "arm64"):
        notes.append("NEON/ASIMD 128-bit (SVE, if present, is not counted); 2 FMA units per "
                     "core assumed (cores have 1 to 4)")
        return 128, 2, 2, notes
    fma = "fma" in flags
    if "avx512f" in flags:
        bits, isa = 512, "AVX-512 (avx512f)"
        if info["vendor"] == "AuthenticAMD" and info["family"] == "25":
            bits = 256
            notes.append("AVX-512 (avx512f) on AMD family 25 (Zen 4): 512-bit FMAs run on "
                         "256-bit datapaths, so 256-bit effective width")
        else:
            notes.append(f"{isa}; some Xeon SKUs have only 1 512-bit FMA unit")
    elif "avx2" in flags or "avx" in flags:
        bits, isa = 256, "AVX2" if "avx2" in flags else "AVX"
        notes.append(f"{isa} 256-bit")
    elif "sse2" in flags or arch in ("x86_64", "AMD64"):
        bits, isa = 128, "SSE"
        notes.append("SSE 128-bit")
    else:
        notes.append(f"unknown architecture {arch}: 128-bit vectors, 1 unit assumed")
        return 128, 1, 2, notes
    if fma:
        notes.append("2 FMA units per core assumed (typical for AVX2/AVX-512 x86 cores; "
                     "not detectable from /proc/cpuinfo)")
        return bits, 2, 2, notes
    notes.append("no FMA: 1 vector add + 1 vector multiply per cycle assumed")
    return bits, 1, 2, notes


def peak(threads=None, info=None):
    """Theoretical peak GFLOP/s for float32 and float64 on `threads` cores (default: all)."""
    info = info or cpu_info()
    ghz, clock_method = _clock(info)
    bits, units, per_lane, notes = _vector(info)
    cores_avail = info["physical_cores_available"]
    cores = min(threads or cores_avail, cores_avail)
    result = {"vector_bits": bits, "fma_units": units, "clock_ghz": ghz,
              "clock_method": clock_method, "cores": cores, "notes": notes}
    if "cpu MHz" in clock_method:
        notes.append("the reported clock is the nominal one; boost clocks can exceed it, so a "
                     "measured % of peak above 100% is possible")
    if info["cpus_available"] != cores_avail:
        notes.append(f"{info['cpus_available']} logical CPUs are {cores_avail} physical cores "
                     "(SMT siblings share FMA units): physical cores counted")
    for dtype, size in (("float32", 32), ("float64", 64)):
        lanes = bits // size
        if ghz is None:
            result[dtype] = None
            continue
        gflops = lanes * per_lane * units * ghz * cores
        result[dtype] = gflops
        result[f"{dtype}_formula"] = (f"{lanes} lanes x {per_lane} flop/FMA x {units} units x "
                                      f"{ghz:.3f} GHz x {cores} cores = {gflops:.1f} GFLOP/s")
    return result


def _openblas_corename():
    """OpenBLAS's kernel (core) name from the loaded library, without threadpoolctl."""
    maps = _read("/proc/self/maps") or ""
    libs = sorted({line.split()[-1] for line in maps.splitlines()
                   if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    for lib in libs:
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for prefix in ("", "scipy_"):
            for suffix in ("", "64_"):
                fn = getattr(handle, f"{prefix}openblas_get_corename{suffix}", None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    return fn().decode(), lib
    return None, None


def blas_info():
    """numpy's BLAS (numpy.show_config), and its kernel via threadpoolctl or OpenBLAS itself."""
    import numpy as np
    out = {}
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out.update({"name": cfg.get("name"), "version": cfg.get("version"),
                    "config": " ".join(str(cfg.get("openblas configuration", "")).split())})
    except Exception as exc:           # numpy < 1.25 has no mode="dicts"
        out["name"] = f"unknown ({type(exc).__name__})"
    try:
        import threadpoolctl
        out["threadpoolctl"] = [
            {k: v for k, v in d.items() if k in ("internal_api", "prefix", "version",
                                                  "architecture", "num_threads",
                                                  "threading_layer", "filepath")}
            for d in threadpoolctl.threadpool_info()]
    except ImportError:
        out["threadpoolctl"] = "not installed"
    core, lib = _openblas_corename()
    if core:
        out["openblas_core"] = core
        out["library"] = lib
    forced = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
              if k in os.environ}
    if forced:
        # set on some machines for older OpenBLAS builds; they slow a current one (here:
        # Haswell kernels, half the float32 GEMM rate of the SkylakeX ones it picks itself)
        out["forced_by_environment"] = forced
    return out


def versions():
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("numpy", "numba", "scipy", "torch", "tqdm", "threadpoolctl", "matplotlib"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def describe(threads, thread_control=()):
    info = cpu_info()
    cpu = {k: v for k, v in info.items() if k != "flags"}
    cpu["simd_flags"] = sorted(f for f in info["flags"]
                               if re.match(r"(avx|sse|fma|asimd|sve|neon)", f))
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu,
        "threads": threads,
        "thread_control": list(thread_control),
        "peak": peak(threads, info),
        "blas": blas_info(),
        "versions": versions(),
        "executable": sys.executable,
    }


def _forced_note(forced):
    if "OPENBLAS_CORETYPE" not in forced:
        return ""
    names = " and ".join(sorted(forced))
    return (f"; OPENBLAS_CORETYPE={forced['OPENBLAS_CORETYPE']} set in the environment forces "
            f"that kernel (unset {names} for this command to let OpenBLAS choose)")


def summary_lines(desc):
    """The machine description as lines of text for the terminal and the markdown report."""
    cpu, pk, blas, v = desc["cpu"], desc["peak"], desc["blas"], desc["versions"]
    lines = [
        f"CPU: {cpu['model']} ({cpu['vendor']} family {cpu['family']} model "
        f"{cpu['model_id']}, {cpu['arch']}); {cpu['cpus_available']} CPUs available of "
        f"{cpu['logical_cpus_total']}, {cpu['physical_cores_available']} physical cores",
        f"Threads: {desc['threads']} ({'; '.join(desc['thread_control']) or 'no control'})",
        f"BLAS: {blas.get('name')} {blas.get('version') or ''} {blas.get('config') or ''}"
        .rstrip() + (f"; kernel {blas['openblas_core']}" if blas.get("openblas_core") else "")
        + _forced_note(blas.get("forced_by_environment", {})),
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()
                                 if k != "platform" and val),
        f"Peak (theoretical, {pk['cores']} cores): vector {pk['vector_bits']}-bit, "
        f"{pk['fma_units']} FMA units/core, clock "
        + (f"{pk['clock_ghz']:.3f} GHz" if pk["clock_ghz"] else "unknown")
        + f" from {pk['clock_method']}",
    ]
    lines += [f"  - {note}" for note in pk["notes"]]
    for dtype in ("float32", "float64"):
        if pk.get(f"{dtype}_formula"):
            lines.append(f"  {dtype}: {pk[f'{dtype}_formula']}")
    return lines


def usage_snapshot():
    """(wall time, machine busy CPU-seconds from /proc/stat, this process's CPU-seconds
    including finished children), to tell how much else ran during the benchmarks."""
    stat = _read("/proc/stat")
    busy = None
    if stat:
        fields = [int(x) for x in stat.splitlines()[0].split()[1:]]
        # user nice system idle iowait irq softirq steal ...: all but idle and iowait
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    t = os.times()
    import time
    return time.time(), busy, t.user + t.system + t.children_user + t.children_system


def background_load(start, end, cpus):
    """What other processes (and the hypervisor's steal) used between two snapshots."""
    wall = end[0] - start[0]
    out = {"wall_seconds": round(wall, 2), "load_average": list(os.getloadavg())
           if hasattr(os, "getloadavg") else None}
    if start[1] is not None and end[1] is not None and wall > 0:
        other = max(0.0, (end[1] - start[1]) - (end[2] - start[2]))
        out["other_cpu_seconds"] = round(other, 2)
        out["other_fraction"] = round(other / (wall * cpus), 3)
    return out

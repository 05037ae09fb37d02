"""The profile's per-op table as text."""


def _ms(seconds):
    return f"{seconds * 1e3:.3f}"


def format_table(prof, sort_by, row_limit):
    keys = {"total": lambda s: -s.total, "calls": lambda s: -s.calls,
            "forward": lambda s: -s.forward, "backward": lambda s: -s.backward,
            "kernel": lambda s: -s.kernel, "overhead": lambda s: -s.overhead,
            "jit": lambda s: -s.jit, "name": lambda s: s.name}
    stats = sorted(prof.stats.values(), key=keys[sort_by])
    if row_limit is not None:
        stats = stats[:row_limit]
    header = ["op", "calls", "fwd kernel", "fwd overhead", "bwd calls", "bwd kernel",
              "bwd overhead", "jit", "total", "%"]
    wall = prof.wall if prof.wall else prof.tracked or 1.0
    rows = [[s.name, str(s.calls), _ms(s.fwd_kernel), _ms(s.fwd_overhead), str(s.bwd_calls),
             _ms(s.bwd_kernel), _ms(s.bwd_overhead), _ms(s.jit), _ms(s.total),
             f"{100 * s.total / wall:.1f}"] for s in stats]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths))), line]
    out += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    out.append(line)
    tracked = prof.tracked
    if prof.wall is not None:
        out.append(f"times in ms; wall {_ms(prof.wall)}, in ops {_ms(tracked)}, "
                   f"outside ops {_ms(prof.wall - tracked)}")
    numba = prof.numba
    if prof.with_numba and (numba["compiles"] or numba["cache_hits"] or numba["load_time"]):
        out.append(f"numba: {numba['compiles']} compilations ({_ms(numba['compile_time'])} "
                   f"ms), {numba['cache_hits']} cache hits (loading {_ms(numba['load_time'])}"
                   " ms)")
        for name, (compiles, seconds, hits) in sorted(numba["kernels"].items()):
            out.append(f"  {name}: {compiles} compiled ({_ms(seconds)} ms), {hits} cache hits")
    return "\n".join(out)

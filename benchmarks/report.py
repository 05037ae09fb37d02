"""Writing results: the terminal table, markdown, JSON and the ratio bar chart."""
import json
import math

__all__ = ["table_text", "table_rows", "background_text", "write_json", "write_markdown",
           "write_plot"]

HEADER = ["workload", "sizes", "ours", "IQR", "torch", "IQR", "ours/torch", "check", "notes"]


def fmt_time(seconds):
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _spread(stats):
    return f"{stats['iqr_pct']:.1f}%" if stats else "-"


def _notes(row):
    parts = []
    if "gflops" in row:
        g = ", ".join(f"{s} {v:.1f}" for s, v in row["gflops"].items())
        text = f"GFLOP/s {g}"
        if "pct_of_peak" in row:
            pct = ", ".join(f"{s} {v:.0f}%" for s, v in row["pct_of_peak"].items())
            text += f"; of peak {row['peak_gflops']:.1f}: {pct}"
        parts.append(text)
    else:
        for side, stats in row["baselines"].items():
            parts.append(f"{side} {fmt_time(stats['median'])}")
    if "us_per_op" in row:
        per = ", ".join(f"{s} {v:.2f}" for s, v in row["us_per_op"].items())
        parts.append(f"µs/op ({row['ops']} op{'s' if row['ops'] > 1 else ''}): {per}")
    if row.get("target"):
        met = row["target"]["met"]
        verdict = "n/a" if met is None else "met" if met else "MISSED"
        parts.append(f"target {row['target']['label']}: {verdict}")
    return "; ".join(parts)


def _check_cell(row):
    if row["status"] != "ok":
        return row["status"]
    return row["check"].split(" (")[0]


def table_rows(rows):
    """The table as lists of cells (footnote markers added to the notes), and the footnotes."""
    cells, notes = [], []
    for row in rows:
        note = _notes(row)
        for msg in row["messages"]:
            notes.append(f"[{len(notes) + 1}] {row['name']}: {msg}")
            note = (note + " " if note else "") + f"[{len(notes)}]"
        ours = row["ours"]["median"] if row["ours"] else None
        torch = row["torch"]["median"] if row["torch"] else None
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else "-"
        cells.append([row["name"], row["sizes"], fmt_time(ours), _spread(row["ours"]),
                      fmt_time(torch), _spread(row["torch"]), ratio, _check_cell(row), note])
    return cells, notes


def table_text(rows, compare=True):
    cells, notes = table_rows(rows)
    widths = [max(len(str(r[i])) for r in [HEADER] + cells) for i in range(len(HEADER))]

    def line(r):
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    out = [line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append("times are per call (median of repeats); IQR = interquartile range / median; "
               "ours/torch below 1 means ours is faster")
    if not compare:
        out.append("PyTorch not compared (use --compare torch)")
    return "\n".join(out + notes)


def background_text(bg):
    """One line on what else ran meanwhile: timings on a busy machine are noisy."""
    if "other_fraction" not in bg:
        return f"run took {bg['wall_seconds']:.1f} s (background load unknown)"
    frac = bg["other_fraction"]
    text = (f"run took {bg['wall_seconds']:.1f} s; other processes used "
            f"{bg['other_cpu_seconds']:.1f} CPU-s meanwhile ({100 * frac:.0f}% of the CPUs)")
    if frac > 0.1:
        text += ": WARNING, a busy machine makes multi-threaded timings (GEMM) noisy"
    return text


def write_json(path, rows, machine, settings, exit_code):
    doc = {"schema": 1, "settings": settings, "machine": machine, "results": rows,
           "exit_code": exit_code}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, default=str, allow_nan=False)
        f.write("\n")


def write_markdown(path, rows, machine, compare):
    from .machine import summary_lines
    cells, notes = table_rows(rows)

    def md(r):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |"
    lines = ["# tapegrad benchmarks", "", f"Date: {machine['date']}", ""]
    for x in summary_lines(machine):       # indented lines are sub-items
        lines.append(f"  - {x.strip().lstrip('- ')}" if x.startswith(" ") else f"- {x}")
    if "background" in machine:
        lines.append(f"- {background_text(machine['background'])}")
    lines += ["", md(HEADER), md(["---"] * len(HEADER))] + [md(r) for r in cells]
    lines += ["", "Times are per call (median of repeats); IQR = interquartile range / median; "
              "ours/torch below 1 means ours is faster."]
    if not compare:
        lines.append("PyTorch was not compared.")
    if notes:
        lines += [""] + [f"{n}  " for n in notes]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_plot(path, rows):
    """A horizontal bar chart of ours/torch ratios (log scale); returns a message."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return f"matplotlib is not installed: skipping the plot {path} (pip install matplotlib)"
    data = [(r["name"], r["ratio"]) for r in rows if r["ratio"] is not None]
    if not data:
        return f"no ratios to plot (run with --compare torch): skipping the plot {path}"
    names, ratios = zip(*data)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(data) + 1.5))
    colors = ["tab:green" if x <= 1 else "tab:red" for x in ratios]
    ax.barh(range(len(data)), ratios, color=colors)
    ax.set_yticks(range(len(data)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    lo, hi = min(ratios + (1.0,)), max(ratios + (1.0,))
    ax.set_xlim(10 ** math.floor(math.log10(lo) - 0.1), 10 ** math.ceil(math.log10(hi) + 0.1))
    for i, x in enumerate(ratios):
        ax.text(x, i, f" {x:.2f}x", va="center", fontsize=8)
    ax.set_xlabel("ours / PyTorch time (below 1: ours faster)")
    ax.set_title("tapegrad vs PyTorch")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"wrote {path}"

"""summary(): the tape as text, in tape order, for terminals.

      #  op           output             held       module      inputs
      0  MatMul       (8, 16) float32    512 B      fc1         x, fc1.weight
      1  Add          (8, 16) float32    0 B        fc1         #0, fc1.bias
    ...
    5 ops, 5 leaves; held for backward: 1.5 KiB (shared memory counted once)
"""
from . import tracing
from ._graph import (Tape, dedup_bytes, describe_outputs, format_bytes, held_arrays,
                     held_bytes, op_name)

__all__ = ["summary"]


def summary(*roots, params=None, show_grads=True, max_rows=None):
    """The recorded graph of `roots` as a text table, one line per op in tape order: index,
    op, output shape and dtype, bytes held for backward, creating module (needs
    `ag.viz.trace()` around the forward), inputs (`#i`: op i; names from `params`) and,
    when recorded (`ag.viz.trace()` / `watch`), the norm of the gradient that reached it."""
    roots = tracing._flatten(roots)
    if not roots:
        raise ValueError("viz.summary: expected at least one Tensor")
    tape = Tape(roots, params)
    index = tape.index
    unnamed = {}

    def leaf_label(leaf):
        name = tape.leaf_name(leaf)
        if name is None:
            name = unnamed.setdefault(id(leaf), f"leaf{len(unnamed)}")
        return name

    rows = []
    nodes = tape.nodes if max_rows is None else tape.nodes[-max_rows:]
    for node in nodes:
        inputs = []
        for edge in node.edges:
            if edge is None:
                continue
            target, nr = edge
            if nr < 0:
                inputs.append(leaf_label(target))
            else:
                inputs.append(f"#{index[id(target)]}" + (f"[{nr}]" if nr else ""))
        grad = ""
        stats = tracing.node_grad_stats(node) if show_grads else None
        if stats:
            parts = [f"{s[0]:.2e}" + (f" nan={s[1]} inf={s[2]}" if s[1] or s[2] else "")
                     for s in stats if s is not None]
            grad = ", ".join(parts)
        rows.append([_one_line(cell) for cell in (
            str(index[id(node)]), op_name(node), "; ".join(describe_outputs(node)),
            format_bytes(held_bytes(node)), tape.node_path(node) or "-", ", ".join(inputs),
            grad)])
    header = ["#", "op", "output", "held", "module", "inputs", "|grad|"]
    if not any(r[6] for r in rows):
        header, rows = header[:-1], [r[:-1] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = [_fmt(header, widths)]
    if max_rows is not None and len(tape.nodes) > max_rows:
        lines.append(f"... {len(tape.nodes) - max_rows} earlier ops not shown")
    lines += [_fmt(r, widths) for r in rows]
    total = dedup_bytes([a for n in tape.nodes for a in held_arrays(n)])
    lines.append(f"{len(tape.nodes)} ops, {len(tape.leaves)} leaves; held for backward: "
                 f"{format_bytes(total)} (shared memory counted once)")
    return "\n".join(lines)


def _one_line(text):
    """A cell on one row: control characters (a newline in a parameter name) escaped."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _fmt(cells, widths):
    first = cells[0].rjust(widths[0])
    rest = [c.ljust(w) for c, w in zip(cells[1:], widths[1:])]
    return "  ".join([first] + rest).rstrip()

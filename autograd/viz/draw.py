"""draw(): the recorded graph as a graphviz.Digraph.

    with ag.viz.trace():                    # optional: module clusters, per-node gradients
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    dot = ag.viz.draw(loss, params=model)
    dot.render("graph", format="svg")       # or dot.source, or inline in Jupyter

Data flows down (rankdir="TB"): leaves (named from `params`) and op nodes labelled with the
op, output shape and dtype; the gradient norm of each output after backward, coloured on a
log scale (blue: vanishing, white: healthy, red: exploding, magenta: NaN/Inf).
"""
import html
import math
import re

from . import tracing
from ._graph import Tape, describe_outputs, describe_tensor, format_bytes, held_bytes, op_name
from ._view import View
from .render import Graph

__all__ = ["draw", "grad_color"]

FONT = "Helvetica"
OP_FILL = "#f2f2f2"
PARAM_FILL = "#dbe9f6"
INPUT_FILL = "#ffffff"
NONFINITE_FILL = "#ff66cc"
# (log10 |grad|, colour): piecewise linear in between, clamped outside
_SCALE = [(-8.0, (0x21, 0x66, 0xac)), (-5.0, (0x67, 0xa9, 0xcf)), (-3.0, (0xd1, 0xe5, 0xf0)),
          (-2.0, (0xf7, 0xf7, 0xf7)), (1.0, (0xf7, 0xf7, 0xf7)), (2.0, (0xfd, 0xdb, 0xc7)),
          (3.0, (0xef, 0x8a, 0x62)), (4.0, (0xb2, 0x18, 0x2b))]
_HEALTHY = (-2.0, 1.0)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def draw(*roots, params=None, show_grads=True, show_saved=False, cluster_modules=True,
         max_nodes=500, rankdir="TB", collapse_repeats=None):
    """A graphviz.Digraph of the graph that produced `roots` (Tensors, or lists of them).

    params: a Module or a dict name -> Tensor, naming leaves (parameters, buffers).
    show_grads: after backward, each output's gradient norm and NaN/Inf count, and a fill
        colour on a log scale. Leaves read `.grad`; op nodes need their gradients recorded
        during backward: run forward and backward inside `ag.viz.trace()`, or call
        `ag.viz.watch(loss)` before `loss.backward()`.
    show_saved: the bytes each node holds for backward (0 once freed by backward).
    cluster_modules: group the nodes created in each module call (needs `ag.viz.trace()`
        around the forward), labelled with the module path, nested as the module tree.
    max_nodes: draw at most this many nodes (ops and leaves), those nearest the roots; a note
        says what was left out. None: no cap.
    collapse_repeats: draw repeated calls of a module (time steps, identical stacked layers)
        once, with a count. None: only when the graph has more than max_nodes nodes.
    """
    roots = tracing._flatten(roots)
    if not roots:
        raise ValueError("viz.draw: expected at least one Tensor")
    for r in roots:
        if getattr(r, "requires_grad", False) is False:
            raise ValueError(f"viz.draw: a root of shape {tuple(r.shape)} does not require "
                             "grad: no graph was recorded for it")
    tape = Tape(roots, params, modules=cluster_modules)
    if collapse_repeats is None:
        collapse_repeats = max_nodes is not None and \
            len(tape.nodes) + len(tape.leaves) > max_nodes
    view = View(tape, bool(collapse_repeats), max_nodes)
    dot = Graph(name="tapegrad", graph_attr={
        "rankdir": rankdir, "fontname": FONT, "fontsize": "11", "ranksep": "0.3",
        "nodesep": "0.25"}, node_attr={"fontname": FONT, "fontsize": "11",
                                       "style": "filled", "penwidth": "1"},
        edge_attr={"arrowsize": "0.6", "color": "#555555"})
    _Drawer(dot, view, show_grads, show_saved).run()
    return dot


class _Drawer:
    def __init__(self, dot, view, show_grads, show_saved):
        self.dot, self.view, self.tape = dot, view, view.tape
        self.show_grads, self.show_saved = show_grads, show_saved
        self.any_grad = False
        self.leaf_ids = {}
        self.root_ids = {id(r.grad_fn) if r.grad_fn is not None else id(r)
                         for r in self.tape.roots}

    def run(self):
        view, dot = self.view, self.dot
        calls = view.drawn_calls()
        placed = {id(c): [] for c in calls}
        loose = []
        for n in view.kept_nodes:
            call = view.cluster_of(n)
            (placed[id(call)] if call is not None else loose).append(self._node(n))
        by_path = {}
        for c in calls:
            by_path.setdefault(self.tape.call_path(c), []).append(c)
        for i, leaf in enumerate(view.kept_leaves):
            item = self._leaf(leaf, i)
            name = self.tape.leaf_name(leaf) or ""
            owners = by_path.get(name.rpartition(".")[0], [])
            (placed[id(owners[0])] if len(owners) == 1 else loose).append(item)
        for name, attrs in loose:
            dot.node(name, **attrs)
        self._clusters(calls, placed)
        self._edges()
        if view.omitted:
            self._omitted_note()
        if self.show_grads and self.any_grad:
            self._legend()
        dot.info = {"nodes": len(view.kept_nodes), "leaves": len(view.kept_leaves),
                    "clusters": len(calls), "omitted": sum(view.omitted.values()),
                    "total_nodes": len(self.tape.nodes)}

    # -- items -------------------------------------------------------------------------------
    def _node(self, n):
        view = self.view
        members = view.members[id(n)]
        count = len(members)
        rows = [f"<B>{esc(op_name(n))}</B>" + (f" &#215;{count}" if count > 1 else "")]
        outs = describe_outputs(n)
        rows += [esc(o) if len(outs) == 1 else f"[{i}] {esc(o)}" for i, o in enumerate(outs)]
        fill = OP_FILL
        if self.show_grads:
            per_output = [[] for _ in n.out_meta]
            for m in members:
                for i, s in enumerate(tracing.node_grad_stats(m) or ()):
                    if s is not None and i < len(per_output):
                        per_output[i].append(s)
            for i, stats in enumerate(per_output):
                if stats:
                    prefix = f"[{i}] " if len(per_output) > 1 else ""
                    rows.append(prefix + _grad_line(stats)[0])
            every = [s for stats in per_output for s in stats]
            if every:
                self.any_grad = True
                fill = _grad_line(every)[1]
        if self.show_saved:
            if all(m._freed for m in members):
                rows.append("saved: freed by backward")
            else:
                rows.append(f"saved {format_bytes(sum(held_bytes(m) for m in members))}")
        attrs = {"label": _html(rows), "shape": "box", "style": "rounded,filled",
                 "fillcolor": fill, **_font_for(fill)}
        if id(n) in self.root_ids:
            attrs["peripheries"] = "2"
        return node_id(n), attrs

    def _leaf(self, leaf, index):
        members = self.view.leaf_members[id(leaf)]
        name = self.tape.leaf_name(leaf)
        count = len(members)
        title = esc(name) if name is not None else "input"
        rows = [f"<B>{title}</B>" + (f" &#215;{count}" if count > 1 else ""),
                esc(describe_tensor(leaf))]
        fill = PARAM_FILL if name is not None else INPUT_FILL
        if self.show_grads:
            stats = [tracing.grad_stats(m.grad.data) for m in members if m.grad is not None]
            if stats:
                self.any_grad = True
                line, fill = _grad_line(stats)
                rows.append(line)
        attrs = {"label": _html(rows), "shape": "ellipse", "fillcolor": fill, **_font_for(fill)}
        if name is None:
            attrs["style"] = "filled,dashed"
        if id(leaf) in self.root_ids:
            attrs["peripheries"] = "2"
        self.leaf_ids[id(leaf)] = f"l{index}"
        return f"l{index}", attrs

    # -- clusters, edges, notes --------------------------------------------------------------
    def _clusters(self, calls, placed):
        children = {}
        for c in calls:
            parent = c.parent
            while parent is not None and id(parent) not in placed:
                parent = parent.parent
            children.setdefault(id(parent) if parent is not None else None, []).append(c)
        uses = {}
        for c in calls:
            module = c.module_ref()
            uses.setdefault(id(module), []).append(c)

        def emit(graph, call):
            with graph.subgraph(name=f"cluster_{call.start}") as sub:
                sub.attr(label=_html([self._cluster_title(call, uses)]), style="rounded",
                         color="#888888", fontname=FONT, fontsize="11", labeljust="l")
                for name, attrs in placed[id(call)]:
                    sub.node(name, **attrs)
                for child in children.get(id(call), []):
                    emit(sub, child)

        for top in children.get(None, []):
            emit(self.dot, top)

    def _cluster_title(self, call, uses):
        tape = self.tape
        path = tape.call_path(call)
        group = self.view.group.get(id(call))
        kind = f" ({esc(call.module_type)})" if not path.startswith("(") else ""
        if group is not None:
            if all(c.module_ref() is call.module_ref() for c in group):
                return f"<B>{esc(path)}</B>{kind} &#215;{len(group)} calls"
            last = tape.call_path(group[-1])
            return f"<B>{esc(path)} &#8230; {esc(last)}</B>{kind} &#215;{len(group)}"
        same = uses.get(id(call.module_ref()), [call])
        nth = f" call {same.index(call) + 1}/{len(same)}" if len(same) > 1 else ""
        return f"<B>{esc(path)}</B>{kind}{nth}"

    def _edges(self):
        view = self.view
        for src, dst, nr in view.edges:
            if not (view.is_kept(src) and view.is_kept(dst)):
                continue
            tail = node_id(src) if nr >= 0 else self.leaf_ids[id(src)]
            attrs = {}
            if nr >= 0 and len(src.out_meta) > 1:
                attrs["taillabel"] = f"{nr}"
                attrs["fontsize"] = "9"
            self.dot.edge(tail, node_id(dst), **attrs)

    def _omitted_note(self):
        view = self.view
        total = sum(view.omitted.values())
        top = ", ".join(f"{esc(op)} &#215;{k}" for op, k in view.omitted.most_common(6))
        more = ", ..." if len(view.omitted) > 6 else ""
        rows = [f"<B>{total} more not drawn</B> (max_nodes)", f"{top}{more}"]
        self.dot.node("omitted", label=_html(rows), shape="note", fillcolor="#fff7d6")
        for src, dst, _ in view.edges:
            if view.is_kept(dst) and not view.is_kept(src):
                self.dot.edge("omitted", node_id(dst), style="dashed", color="#aaaaaa")
        hint = "raise max_nodes" if view.collapsed else \
            "raise max_nodes or pass collapse_repeats=True"
        self.dot.attr(label=f"{total} of {len(self.tape.nodes) + len(self.tape.leaves)} "
                            f"nodes not drawn: {hint}", labelloc="b")

    def _legend(self):
        cells = []
        for value, text in ((1e-8, "1e-8"), (1e-5, "1e-5"), (1e-2, "1e-2"), (1.0, "1"),
                            (1e2, "1e2"), (1e4, "1e4")):
            cells.append(f'<TD BGCOLOR="{grad_color(value)}">{text}</TD>')
        cells.append(f'<TD BGCOLOR="{NONFINITE_FILL}">NaN/Inf</TD>')
        table = ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
                 '<TR><TD COLSPAN="7">|grad| colour scale</TD></TR>'
                 f'<TR>{"".join(cells)}</TR></TABLE>')
        self.dot.node("legend", label=f"<{table}>", shape="plaintext", style="",
                      fontsize="9")


def node_id(node):
    return f"n{node.seq}"


def esc(text):
    """Text for an HTML-like Graphviz label: &, <, >, quotes escaped; newlines become line
    breaks; other control characters dropped."""
    text = html.escape(_CONTROL.sub("", str(text)).replace("\t", " "), quote=True)
    return text.replace("\r\n", "<BR/>").replace("\n", "<BR/>").replace("\r", "<BR/>")


def _html(rows):
    return "<" + "<BR/>".join(rows) + ">"


def grad_color(norm):
    """Fill colour for a gradient norm, on a log scale (see _SCALE)."""
    if norm is None:
        return OP_FILL
    if not math.isfinite(norm):
        return NONFINITE_FILL
    x = math.log10(norm) if norm > 0 else _SCALE[0][0]
    if x <= _SCALE[0][0]:
        rgb = _SCALE[0][1]
    elif x >= _SCALE[-1][0]:
        rgb = _SCALE[-1][1]
    else:
        for (x0, c0), (x1, c1) in zip(_SCALE, _SCALE[1:]):
            if x0 <= x <= x1:
                t = (x - x0) / (x1 - x0)
                rgb = tuple(round(a + t * (b - a)) for a, b in zip(c0, c1))
                break
    return "#%02x%02x%02x" % rgb


def _font_for(fill):
    """White text on dark fills."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    return {"fontcolor": "white"} if 0.299 * r + 0.587 * g + 0.114 * b < 110 else {}


def _distance(norm):
    """How far a norm lies outside the healthy band, in decades."""
    if not math.isfinite(norm):
        return math.inf
    x = math.log10(norm) if norm > 0 else -math.inf
    return max(_HEALTHY[0] - x, x - _HEALTHY[1], 0.0)


def _grad_line(stats):
    """(label row, colour) for a list of (norm, n_nan, n_inf) over the repeats of an item."""
    norms = [s[0] for s in stats]
    bad_nan = sum(s[1] for s in stats)
    bad_inf = sum(s[2] for s in stats)
    lo, hi = min(norms), max(norms)
    text = f"|grad| {lo:.2e}" if lo == hi else f"|grad| {lo:.1e} &#8230; {hi:.1e}"
    if bad_nan or bad_inf:
        text += f"<BR/><B>NaN {bad_nan}  Inf {bad_inf}</B>"
        return text, NONFINITE_FILL
    worst = max(norms, key=_distance)
    return text, grad_color(worst)

"""ag.viz.draw: DOT structure, module clusters, gradients, escaping, caps and collapsing."""
import html
import re

import numpy as np
import pytest

import autograd as ag
import autograd.viz  # noqa: F401 - ag.viz
import nn
import nn.functional as F

from .dotparse import Dot


class Lin(nn.Module):
    def __init__(self, n_in, n_out, scale=0.5):
        super().__init__()
        self.weight = nn.Parameter(ag.randn(n_out, n_in) * scale)
        self.bias = nn.Parameter(ag.zeros(n_out))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = Lin(4, 4)

    def forward(self, x):
        return self.proj(x).tanh()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Lin(3, 4)
        self.block = Inner()
        self.head = Lin(4, 2)

    def forward(self, x):
        return self.head(self.block(F.relu(self.fc1(x))))


def leaves(*shapes, dtype=ag.float32):
    return [ag.randn(*s, dtype=dtype, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_small_graph_nodes_edges_and_labels(dtype):
    x, y = leaves((3,), (3,), dtype=dtype)
    c = (x * y + x).sum()
    dot = Dot(ag.viz.draw(c, params={"x": x, "y": y}).source)
    ops = dot.ops()
    assert len(ops) == 3 and len(dot.leaves()) == 2
    assert len(dot.edges) == 5              # x->Mul, y->Mul, Mul->Add, x->Add, Add->Sum
    name = np.dtype(dtype).name
    assert [k for k in ops if "<B>Mul</B>" in ops[k] and f"(3) {name}" in ops[k]]
    assert [k for k in ops if "<B>Sum</B>" in ops[k] and f"() {name}" in ops[k]]
    assert dot.find("<B>x</B>") and dot.find("<B>y</B>")
    root = dot.find("<B>Sum</B>")[0]
    assert "peripheries=2" in dot.nodes[root]


def test_shared_subexpression_and_multi_output_node():
    class Split2(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x.data[:2].copy(), x.data[2:].copy()

        @staticmethod
        def backward(ctx, ga, gb):
            return ag.cat([ga, gb])

    (x,) = leaves((5,))
    a, b = Split2.apply(x)
    s = a.exp()
    out = s.sum() + s.sum() + b.sum()
    dot = Dot(ag.viz.draw(out).source)
    split = dot.find("<B>Split2</B>")[0]
    assert "[0] (2) float32" in dot.nodes[split] and "[1] (3) float32" in dot.nodes[split]
    labels = sorted(attrs for src, _, attrs in dot.edges if src == split)
    assert labels == ["fontsize=9 taillabel=0", "fontsize=9 taillabel=1"]
    exp = dot.find("<B>Exp</B>")
    assert len(exp) == 1                    # drawn once though used twice
    assert sum(1 for src, _, _ in dot.edges if src == exp[0]) == 2


def test_module_clusters_nested_with_paths():
    ag.manual_seed(0)
    net = Net()
    with ag.viz.trace():
        loss = net(ag.randn(5, 3)).sum()
    dot = Dot(ag.viz.draw(loss, params=net).source)
    where = {}
    for node_id in dot.ops():
        labels = [html.unescape(c) for c in dot.cluster_of[node_id]]
        where.setdefault(dot.nodes[node_id].split("</B>")[0].split("<B>")[1], []).append(
            labels)
    assert any("<B>fc1</B> (Lin)" in c[-1] for c in where["MatMul"] if c)
    tanh = where["Tanh"][0]
    assert len(tanh) == 1 and "<B>block</B> (Inner)" in tanh[0]
    nested = [c for c in where["MatMul"] if len(c) == 2]
    assert nested and "block</B>" in nested[0][0] and "<B>block.proj</B>" in nested[0][1]
    assert where["Relu"] == [[]] and where["Sum"] == [[]]   # the model's own ops: no cluster
    weight = dot.find("<B>fc1.weight</B>")[0]
    assert "<B>fc1</B>" in dot.cluster_of[weight][-1]
    # without trace() there is nothing to cluster by
    plain = Dot(ag.viz.draw(net(ag.randn(5, 3)).sum(), params=net).source)
    assert not any(plain.cluster_of.values())


def test_module_called_twice_gives_two_clusters():
    lin = Lin(3, 3)
    with ag.viz.trace():
        y = lin(lin(ag.randn(2, 3))).sum()
    source = ag.viz.draw(y, params={"w": lin.weight}, collapse_repeats=False).source
    assert "call 1/2" in source and "call 2/2" in source


def test_gradients_after_backward_match_retained_grads():
    x, y = leaves((4,), (4,), dtype=ag.float64)
    with ag.viz.trace():
        a = x * y
        a.retain_grad()
        out = (a.exp() * 3.0).sum()
        out.backward()
    dot = Dot(ag.viz.draw(out, params={"x": x, "y": y}).source)
    mul = [k for k, v in dot.ops().items() if "<B>Mul</B>" in v and "(4)" in v]
    found = {m for k in mul for m in re.findall(r"\|grad\| ([-+.e0-9]+)", dot.nodes[k])}
    assert f"{np.linalg.norm(a.grad.data):.2e}" in found
    assert f"|grad| {np.linalg.norm(x.grad.data):.2e}" in dot.nodes[dot.find("<B>x</B>")[0]]
    assert "legend" in dot.nodes


def test_watch_records_gradients_and_without_it_only_leaves_have_them():
    (x,) = leaves((3,))
    out = (x.tanh() * 2.0).sum()
    ag.viz.watch(out)
    out.backward()
    assert all("|grad|" in v for v in Dot(ag.viz.draw(out).source).ops().values())
    out2 = (x.tanh() * 2.0).sum()
    out2.backward()
    dot = Dot(ag.viz.draw(out2).source)
    assert not any("|grad|" in v for v in dot.ops().values())
    assert all("|grad|" in v for v in dot.leaves().values())


def test_nan_and_inf_counts_and_colour_scale():
    y = ag.tensor([0.0, 1.0, 4.0], requires_grad=True)
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"), ag.viz.trace():
        z = y.sqrt().sum() + (t * float("nan")).sum()
        z.backward()
    dot = Dot(ag.viz.draw(z, params={"y": y, "t": t}).source)
    y_node, t_node = dot.find("<B>y</B>")[0], dot.find("<B>t</B>")[0]
    assert "NaN 0  Inf 1" in dot.nodes[y_node] and "NaN 2  Inf 0" in dot.nodes[t_node]
    assert 'fillcolor="#ff66cc"' in dot.nodes[y_node]
    sqrt = dot.find("<B>Sqrt</B>")[0]
    assert "NaN" not in dot.nodes[sqrt] and 'fillcolor="#ff66cc"' not in dot.nodes[sqrt]
    small, healthy, large = (ag.viz.grad_color(v) for v in (1e-9, 1e-1, 1e5))
    assert small != healthy != large and healthy == "#f7f7f7"
    assert int(small[5:7], 16) > int(small[1:3], 16)      # blue
    assert int(large[1:3], 16) > int(large[5:7], 16)      # red
    assert ag.viz.grad_color(float("nan")) == "#ff66cc"


def test_labels_are_escaped():
    weird = 'w"<b>{x}\n|y|'
    (w,) = leaves((2,))
    dot = ag.viz.draw((w * 2.0).sum(), params={weird: w})
    assert "w&quot;&lt;b&gt;{x}<BR/>|y|" in dot.source
    assert '"<b>' not in dot.source
    if ag.viz.renderer_available() or ag.viz.pure_renderer():
        svg = dot.pipe(format="svg").decode()
        assert "&lt;b&gt;{x}" in svg


def test_saved_bytes_before_and_after_backward():
    x = ag.randn(10, 10, dtype=ag.float64, requires_grad=True)
    out = x.exp().sum()
    before = Dot(ag.viz.draw(out, show_saved=True).source)
    assert "saved 800 B" in before.nodes[before.find("<B>Exp</B>")[0]]
    out.backward()
    after = Dot(ag.viz.draw(out, show_saved=True).source)
    assert "freed" in after.nodes[after.find("<B>Exp</B>")[0]]


def test_saved_bytes_count_a_fused_kernels_saved_arrays():
    # the LSTM scan keeps its gates, cells, tanh(c) and input rows as saved arrays
    from autograd.ops.scan_lstm import lstm_scan
    from autograd.viz._graph import held_bytes
    x = ag.randn(5, 2, 3, dtype=ag.float64, requires_grad=True)
    w_ih = ag.randn(16, 3, dtype=ag.float64, requires_grad=True)
    w_hh = ag.randn(16, 4, dtype=ag.float64, requires_grad=True)
    out = lstm_scan(x, None, None, w_ih, w_hh)[0]
    node = out.grad_fn
    arrays = sum(a.nbytes for a in node.saved_arrays)
    assert arrays >= 10 * 16 * 8                      # at least the gates: (R, 4H) float64
    assert held_bytes(node) >= arrays + x.data.nbytes + out.data.nbytes
    out.sum().backward()
    assert held_bytes(node) == node.sizes.nbytes       # only the (T,) step sizes stay


def test_ten_thousand_nodes_capped_by_max_nodes():
    (w,) = leaves((2,))
    y = w
    for _ in range(9_999):
        y = y * 1.0001
    y = y.sum()
    dot = ag.viz.draw(y, max_nodes=100)
    parsed = Dot(dot.source)
    assert len(parsed.ops()) + len(parsed.leaves()) == 100
    assert dot.info["omitted"] == 10_001 - 100 and dot.info["total_nodes"] == 10_000
    assert "9901 more not drawn" in parsed.nodes["omitted"]
    assert parsed.find("<B>Sum</B>")                        # the root end is kept


class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.ih = Lin(3, 4)
        self.hh = Lin(4, 4, 0.1)

    def forward(self, x, h):
        return (self.ih(x) + self.hh(h)).tanh()


class Unrolled(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = Cell()

    def forward(self, x):
        h = ag.zeros(x.shape[0], 4)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
        return h.sum()


def test_repeated_calls_collapse_into_one_cluster_with_count():
    model = Unrolled()
    with ag.viz.trace():
        loss = model(ag.randn(2, 20, 3, requires_grad=True))
        loss.backward()
    full = Dot(ag.viz.draw(loss, params=model, collapse_repeats=False, max_nodes=None).source)
    small = ag.viz.draw(loss, params=model, collapse_repeats=True)
    dot = Dot(small.source)
    assert len(full.ops()) > 20 * 8 and len(dot.ops()) <= 10
    assert "<B>cell</B> (Cell) &#215;20 calls" in small.source
    tanh = dot.find("<B>Tanh</B>")[0]
    assert "&#215;20" in dot.nodes[tanh] and "&#8230;" in dot.nodes[tanh]  # a range of norms
    assert any(src == tanh and dot.nodes[dst].count("MatMul") for src, dst, _ in dot.edges)


def test_identical_stacked_layers_collapse():
    class Stack(nn.Module):
        def __init__(self, n):
            super().__init__()
            for i in range(n):
                self.add_module(f"l{i}", Lin(4, 4))

        def forward(self, x):
            for layer in self.children():
                x = F.relu(layer(x))
            return x.sum()

    model = Stack(6)
    with ag.viz.trace():
        out = model(ag.randn(2, 4))
    src = ag.viz.draw(out, params=model, collapse_repeats=True).source
    assert "<B>l0 &#8230; l5</B> (Lin) &#215;6" in src
    assert "<B>l0.weight</B> &#215;6" in src
    expanded = ag.viz.draw(out, params=model, collapse_repeats=False).source
    assert all(f"<B>l{i}</B> (Lin)" in expanded for i in range(6))


def test_bad_roots():
    with pytest.raises(ValueError, match="does not require grad"):
        ag.viz.draw(ag.randn(3))
    with pytest.raises(ValueError, match="at least one"):
        ag.viz.draw()
    with pytest.raises(TypeError, match="params"):
        ag.viz.draw(leaves((2,))[0] * 2, params=[1, 2])

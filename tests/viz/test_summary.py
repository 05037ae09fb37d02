"""ag.viz.summary: the tape as text, in tape order."""
import autograd as ag
import autograd.viz  # noqa: F401 - ag.viz
import nn


class Lin(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(ag.randn(4, 3))
        self.bias = nn.Parameter(ag.zeros(4))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = Lin()

    def forward(self, x):
        return self.fc(x).exp().sum()


def test_rows_in_tape_order_with_modules_bytes_and_inputs():
    model = Model()
    with ag.viz.trace():
        loss = model(ag.randn(8, 3, dtype=ag.float32))
    text = ag.viz.summary(loss, params=model)
    lines = text.splitlines()
    header, rows, footer = lines[0], lines[1:-1], lines[-1]
    assert header.split()[:6] == ["#", "op", "output", "held", "module", "inputs"]
    ops = [r.split()[1] for r in rows]
    assert ops[-2:] == ["Exp", "Sum"] and "MatMul" in ops
    assert [int(r.split()[0]) for r in rows] == list(range(len(rows)))
    exp = next(r for r in rows if r.split()[1] == "Exp")
    assert "(8, 4) float32" in exp and "128 B" in exp          # saves its output: 8*4*4 B
    matmul = next(r for r in rows if r.split()[1] == "MatMul")
    assert " fc " in matmul
    add = next(r for r in rows if r.split()[1] == "Add")
    assert "fc.bias" in add and "#" in add
    assert footer.startswith(f"{len(rows)} ops, 2 leaves")


def test_gradient_column_and_max_rows():
    x = ag.randn(5, requires_grad=True)
    with ag.viz.trace():
        y = (x * 2.0).tanh().sum()
        y.backward()
    text = ag.viz.summary(y, params={"x": x})
    assert "|grad|" in text.splitlines()[0] and "1.00e+00" in text
    short = ag.viz.summary(y, max_rows=1).splitlines()
    assert "2 earlier ops not shown" in short[1] and short[2].split()[1] == "Sum"


def test_optional_saved_arrays_and_write_view_nodes():
    # an op that saves None among its arrays (Embedding without max_norm); a write through a
    # view keeps no tensor after backward: nothing is held once it ran
    emb, lin = nn.Embedding(10, 4), nn.Linear(4, 3)
    loss = lin(emb(ag.tensor([1, 2, 3]))).sum()
    assert "Embedding" in ag.viz.summary(loss)
    h = ag.randn(1000, 100, dtype=ag.float64, requires_grad=True) * 1.0
    h[0:500].add_(1.0)
    total = h.sum()
    total.backward()
    assert "held for backward: 0 B" in ag.viz.summary(total)


def test_a_newline_in_a_name_stays_on_its_row():
    x = ag.randn(3, requires_grad=True)
    y = (x * 2.0).sum()
    text = ag.viz.summary(y, params={"odd\nname": x})
    assert len(text.splitlines()) == 4 and "odd\\nname" in text       # header, 2 ops, footer

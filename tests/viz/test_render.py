"""Rendering: Graphviz's dot, the pip-only graphviz-pure fallback, and no renderer at all."""
import pytest

import autograd as ag
import autograd.viz  # noqa: F401 - ag.viz
from autograd.viz import render


def small_graph():
    w = ag.randn(3, 2, requires_grad=True)
    return ag.viz.draw((ag.randn(4, 3) @ w).tanh().sum(), params={"w": w})


@pytest.mark.skipif(not render.renderer_available(), reason="Graphviz `dot` is not installed")
def test_svg_and_png_with_dot(tmp_path):
    dot = small_graph()
    svg = dot.pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "MatMul" in svg
    path = dot.render(tmp_path / "graph", format="png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "image/svg+xml" in dot._repr_mimebundle_()


@pytest.mark.skipif(render.pure_renderer() is None, reason="graphviz-pure is not installed")
def test_pip_only_renderer_without_dot(tmp_path, monkeypatch):
    exe = render.pure_renderer()
    monkeypatch.setenv("PATH", str(tmp_path))            # no `dot` on PATH
    monkeypatch.setattr(render, "pure_renderer", lambda: exe)
    dot = small_graph()
    svg = dot.pipe(format="svg", encoding="utf-8")
    assert "<svg" in svg and "MatMul" in svg and "<B>" not in svg
    path = dot.render(tmp_path / "g", format="png")
    with open(path, "rb") as f:
        assert f.read(4) == b"\x89PNG"
    assert (tmp_path / "g").read_text() == dot.source
    assert "image/svg+xml" in dot._repr_mimebundle_()


def test_no_renderer_keeps_source_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(render, "pure_renderer", lambda: None)
    dot = small_graph()
    assert dot.source.startswith("digraph")
    with pytest.raises(render.RendererNotFound, match="apt-get install graphviz"):
        dot.pipe(format="svg")
    with pytest.raises(RuntimeError, match="pip install graphviz-pure"):
        dot.render(tmp_path / "g", format="png")
    bundle = dot._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "digraph" in bundle["text/plain"]

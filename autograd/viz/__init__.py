"""See inside the tape: `draw` (a graphviz picture of the recorded graph), `summary` (the
tape as text), `trace` (module clusters and per-node gradients), `watch`.

    with ag.viz.trace():
        loss = F.cross_entropy(model(x), y)
        loss.backward()
    ag.viz.draw(loss, params=model)          # graphviz.Digraph: .source, .render(), Jupyter
    print(ag.viz.summary(loss, params=model))
"""
from .draw import draw, grad_color
from .render import Graph, RendererNotFound, pure_renderer, renderer_available
from .summary import summary
from .tracing import trace, watch

__all__ = ["draw", "summary", "trace", "watch", "Graph", "RendererNotFound",
           "renderer_available", "pure_renderer", "grad_color"]

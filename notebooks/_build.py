"""Build the notebooks from their sources: notebooks/_src/NAME.py -> notebooks/NAME.ipynb.

A source is a Python script in the "percent" format: a line `# %%` starts a code cell, a line
`# %% [markdown]` starts a markdown cell whose lines are comments (`# ` is stripped). The
script runs as it is (`python notebooks/_src/01-mlp-backprop.py`), which is handy while
writing; the built notebook has no outputs and fixed cell ids, so rebuilding an unchanged
source gives the same file.

    python notebooks/_build.py                 # build every source
    python notebooks/_build.py 03-cnn          # build some
    python notebooks/_build.py --check         # exit 1 if a notebook differs from its source
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_src"
_MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?\s*$")
_KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _markdown_line(line):
    if line in ("", "#"):
        return ""
    if not line.startswith("# "):
        raise ValueError(f"markdown line does not start with '# ': {line!r}")
    return line[2:]


def parse_cells(text):
    """The cells of a percent-format source -> list of (kind, source text); text before the
    first marker is ignored (a module docstring or a shebang)."""
    cells, kind, lines = [], None, []

    def close():
        if kind is not None:
            body = "\n".join(lines).strip("\n")
            if body:
                cells.append((kind, body))

    for line in text.splitlines():
        m = _MARKER.match(line)
        if m:
            close()
            kind, lines = ("markdown" if m.group("markdown") else "code"), []
        elif kind == "markdown":
            lines.append(_markdown_line(line))
        elif kind == "code":
            lines.append(line)
    close()
    return cells


def build(source):
    """A notebook (nbformat v4, no outputs, cell ids cell-0, cell-1, ...) from a source file."""
    nb = new_notebook(metadata={"kernelspec": dict(_KERNEL),
                                "language_info": {"name": "python"}})
    for i, (kind, body) in enumerate(parse_cells(Path(source).read_text(encoding="utf-8"))):
        cell = new_markdown_cell(body) if kind == "markdown" else new_code_cell(body)
        cell["id"] = f"cell-{i}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(nb):
    return nbformat.writes(nb) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: every source)")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("*.py"))
    if args.names:
        sources = [SOURCES / f"{name.removesuffix('.py')}.py" for name in args.names]
    stale = []
    for src in sources:
        target = HERE / f"{src.stem}.ipynb"
        text = render(build(src))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if text == current:
            continue
        if args.check:
            stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(HERE.parent)}")
    if stale:
        print("out of date (run python notebooks/_build.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

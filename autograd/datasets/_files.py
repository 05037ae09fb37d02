"""Where the file-based loaders look for their files: a `root` argument, else the directory
named by the TAPEGRAD_DATA environment variable. Never a hard-coded path."""
import os

__all__ = ["data_dir", "find_file", "DatasetError"]


class DatasetError(ValueError):
    """A dataset file exists but its contents are not what the loader expects."""


def data_dir(root=None):
    """The data directory: root if given, else $TAPEGRAD_DATA (FileNotFoundError if neither
    names an existing directory)."""
    if root is None:
        root = os.environ.get("TAPEGRAD_DATA")
        if not root:
            raise FileNotFoundError("no data directory: pass root=... or set the TAPEGRAD_DATA "
                                    "environment variable")
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"data directory {root!r} does not exist")
    return root


def find_file(root, candidates, what):
    """The first existing file among root/<candidate>; FileNotFoundError naming them all."""
    for name in candidates:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    tried = ", ".join(repr(os.path.join(root, c)) for c in candidates)
    raise FileNotFoundError(f"{what}: file not found; looked for {tried}")

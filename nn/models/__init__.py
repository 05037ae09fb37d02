"""nn.models: the course's models built from nn layers (one module per family)."""
from . import gnn  # noqa: F401

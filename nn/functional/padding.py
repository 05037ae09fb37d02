"""pad: constant, reflect, replicate, circular."""
__all__ = []

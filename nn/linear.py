"""Linear and Bilinear layers."""
__all__ = []

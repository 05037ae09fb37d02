"""Recurrent layers and cells."""
__all__ = []

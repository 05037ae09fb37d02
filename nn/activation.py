"""Activation modules."""
__all__ = []

"""Pooling, unpooling and upsampling layers."""
__all__ = []

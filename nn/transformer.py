"""Attention and Transformer layers."""
__all__ = []

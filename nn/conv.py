"""Conv1d/2d/3d and ConvTranspose1d/2d/3d layers."""
__all__ = []

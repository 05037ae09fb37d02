"""BatchNorm, LayerNorm, GroupNorm, InstanceNorm layers."""
__all__ = []

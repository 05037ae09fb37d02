"""Margin and embedding losses: margin_ranking, hinge_embedding, cosine_embedding, triplet."""
__all__ = []

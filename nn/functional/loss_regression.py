"""Regression and distribution losses: mse, l1, smooth_l1, huber, kl_div, gaussian_nll."""
__all__ = []

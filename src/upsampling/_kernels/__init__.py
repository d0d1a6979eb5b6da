"""Numba kernels, one module per operator family, forward and backward side by side."""

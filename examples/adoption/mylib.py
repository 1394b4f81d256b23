"""A tiny JAX library, standing for the library whose suite is adopted: a few array functions."""

from __future__ import annotations

import jax.numpy as jnp


def scale(x, factor):
    """``x`` times ``factor``, in ``x``'s dtype."""
    return x * jnp.asarray(factor, x.dtype)


def softplus(x):
    """``log(1 + exp(x))``, without overflow for large ``x``."""
    return jnp.logaddexp(x, jnp.zeros((), x.dtype))


def normalize(x, axis=-1):
    """``x`` scaled to unit Euclidean norm along ``axis``."""
    return x / jnp.linalg.norm(x, axis=axis, keepdims=True)

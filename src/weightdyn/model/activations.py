"""Activation functions, in a registry: adding an activation is one `register` call.

Each activation writes sigma(d), sigma'(d) and sigma''(d) into given arrays a, p, q (q
may be None when sigma'' is not needed), so that the hot loop allocates nothing. Its
entry also says what the fast kernel may exploit: `curved` (sigma'' is not identically
0) and `binary_derivative` (sigma' takes only the values 0 and 1).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import ndtr

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class Activation:
    """A registered activation: its config name, display label and f(d, a, p, q)."""

    name: str
    label: str
    into: Callable
    curved: bool
    binary_derivative: bool


ACTIVATIONS: dict[str, Activation] = {}


def register(act: Activation) -> Activation:
    """Add an activation to the registry (the config, CLI, figures and kernel read it)."""
    if not re.fullmatch(r"[a-z]+", act.name):
        raise ValueError(f"activation name {act.name!r}: lower-case letters only (it names settings such as "
                         "relu_he, result directories and Snakemake wildcards)")
    if act.name in ACTIVATIONS:
        raise ValueError(f"activation {act.name!r} is registered already")
    ACTIVATIONS[act.name] = act
    return act


def get(name: str) -> Activation:
    """The registered activation `name` (ValueError naming the choices otherwise)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


def activation_into(name: str):
    """Return f(d, a, p, q) writing sigma(d), sigma'(d), sigma''(d) into a, p, q."""
    return get(name).into


def activation(name: str):
    """Return f(d) -> (sigma(d), sigma'(d), sigma''(d)) for a named activation."""
    into = activation_into(name)

    def sigma(d):
        d = np.asarray(d, dtype=np.float64)
        a, p, q = np.empty_like(d), np.empty_like(d), np.empty_like(d)
        into(d, a, p, q)
        return a, p, q

    return sigma


def _relu(d, a, p, q):
    np.greater(d, 0.0, out=p, casting="unsafe")  # 1 where d > 0, else 0 (sigma'(0) = 0)
    np.multiply(d, p, out=a)
    if q is not None:
        q.fill(0.0)


def _tanh(d, a, p, q):
    np.tanh(d, out=a)
    np.multiply(a, a, out=p)
    np.subtract(1.0, p, out=p)
    if q is not None:
        np.multiply(a, p, out=q)
        q *= -2.0


def _gelu(d, a, p, q):
    """Exact GELU, x * Phi(x): sigma' = Phi + x phi, sigma'' = phi (2 - x^2)."""
    phi = np.multiply(d, d)
    if q is not None:
        np.subtract(2.0, phi, out=q)
    phi *= -0.5
    np.exp(phi, out=phi)
    phi *= _INV_SQRT_2PI
    ndtr(d, out=p)
    np.multiply(d, p, out=a)
    if q is not None:
        q *= phi
    phi *= d
    p += phi


def _sigmoid(d, a, p, q):
    np.multiply(d, 0.5, out=a)
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    np.subtract(1.0, a, out=p)
    p *= a
    if q is not None:
        np.multiply(a, -2.0, out=q)
        q += 1.0
        q *= p


register(Activation("relu", "ReLU", _relu, curved=False, binary_derivative=True))
register(Activation("tanh", "tanh", _tanh, curved=True, binary_derivative=False))
register(Activation("gelu", "GELU", _gelu, curved=True, binary_derivative=False))
register(Activation("sigmoid", "sigmoid", _sigmoid, curved=True, binary_derivative=False))

"""Paths between latent vectors."""
import numpy as np


def lerp(a, b, num):
  """`num` points on the segment from a to b, endpoints included: [num, D]."""
  t = np.linspace(0.0, 1.0, num)[:, None]
  return (1 - t) * np.asarray(a, np.float64)[None] + t * np.asarray(b, np.float64)[None]


def slerp(a, b, num):
  """`num` points on the great-circle arc from a to b (Shoemake 1985), endpoints included; the
  norm is interpolated linearly, so a path between two typical Gaussian samples stays near the
  shell where the prior's mass is, unlike `lerp`, whose midpoint is shorter by ~1/sqrt(2)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  na, nb = np.linalg.norm(a), np.linalg.norm(b)
  ua, ub = a / na, b / nb
  omega = np.arccos(np.clip(np.dot(ua, ub), -1.0, 1.0))
  t = np.linspace(0.0, 1.0, num)[:, None]
  if omega < 1e-6:  # (anti)parallel: the arc is the segment
    return lerp(a, b, num)
  direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
  return direction * ((1 - t) * na + t * nb)

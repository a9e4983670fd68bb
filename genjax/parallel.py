"""Data parallelism with jax.sharding: one Mesh axis 'data' over every device.

The same code runs on 1 CPU, on fake CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=8),
on a GPU or on a TPU slice: parameters are replicated, batches are split along their first axis.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from genjax.errors import ConfigError


def data_mesh(devices=None):
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), ('data',))


def batch_sharding(mesh):
  return NamedSharding(mesh, P('data'))


def replicated(mesh):
  return NamedSharding(mesh, P())


def check_batch_size(batch_size, mesh, name='train.batch_size'):
  n = mesh.devices.size
  if batch_size % n:
    raise ConfigError(f'{name}={batch_size} does not split evenly over {n} devices; use a '
                      f'multiple of {n}.')

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


def cpu_cores():
  """The cores this process may run on."""
  import os
  cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
  return cores or 1


def one_thread_per_cpu_device():
  """XLA_FLAGS: each CPU device's share computed by one thread (Eigen's matrix products
  otherwise take the threads free at the time). Call before JAX's backends start."""
  import os
  flag = '--xla_cpu_multi_thread_eigen=false'
  current = os.environ.get('XLA_FLAGS', '')
  if flag not in current:
    os.environ['XLA_FLAGS'] = f'{current} {flag}'.strip()


def use_cpu_devices(count):
  """Start the CPU backend with `count` devices of one thread each (count > 1; call before JAX's
  backends start). On a CPU, work split over them ran faster than on XLA's one multi-threaded
  device (results/benchmarks/inception_cpu.json); only the CPU backend reads these settings."""
  if count <= 1:
    return
  jax.config.update('jax_num_cpu_devices', count)
  one_thread_per_cpu_device()


def batch_sharding(mesh):
  return NamedSharding(mesh, P('data'))


def replicated(mesh):
  return NamedSharding(mesh, P())


def check_batch_size(batch_size, mesh, name='train.batch_size'):
  n = mesh.devices.size
  if batch_size % n:
    raise ConfigError(f'{name}={batch_size} does not split evenly over {n} devices; use a '
                      f'multiple of {n}.')


def put_replicated(tree, mesh):
  """Places every array of `tree` on every device of `mesh`. In a multi-process run the mesh
  spans other processes' devices, which a local array cannot be moved to: each process then puts
  its host copy of the same values (every process computed them from the same seed), as
  jax.device_put allows for host data. PRNG key arrays travel as their key data."""
  sharding = replicated(mesh)
  if jax.process_count() == 1:
    return jax.device_put(tree, sharding)

  def put(x):
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
      impl = jax.random.key_impl(x)
      return jax.random.wrap_key_data(put(jax.random.key_data(x)), impl=impl)
    return jax.device_put(np.asarray(jax.device_get(x)), sharding)

  return jax.tree_util.tree_map(put, tree)

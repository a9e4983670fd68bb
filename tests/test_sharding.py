"""Data parallelism: 8 fake CPU devices give the single-device result within float tolerance, for
the IWAE step and for the adversarial step (BatchNorm statistics and n_critic batches included)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.conftest import REPO

SCRIPT = textwrap.dedent('''
    import sys
    import jax, numpy as np
    from ml_collections import ConfigDict
    from genjax import parallel
    from genjax.methods import iwae
    assert jax.device_count() == 8, jax.devices()
    x = np.load(sys.argv[1])
    model = iwae.build_model(ConfigDict(dict(stochastic_layers=1)))
    tx = iwae.make_optimizer(ConfigDict(dict(schedule='constant', learning_rate=1e-3, b1=0.9,
                                             b2=0.999, eps=1e-4)), 100)
    out = {}
    for n in (1, 8):
      mesh = parallel.data_mesh(jax.devices()[:n])
      state = jax.device_put(iwae.create_train_state(jax.random.key(0), model, tx),
                             parallel.replicated(mesh))
      step = jax.jit(iwae.make_train_step(model, 'iwae', 5))
      for i in range(5):
        batch = jax.device_put(x[i * 40:(i + 1) * 40], parallel.batch_sharding(mesh))
        state, metrics = step(state, batch, jax.random.key(1))
      assert len(batch.sharding.device_set) == n
      assert len(state.params['pixel_decoder']['Dense_0']['kernel'].sharding.device_set) == n
      leaves = jax.tree.leaves(state.params)
      out[f'params{n}'] = np.concatenate([np.ravel(l) for l in leaves])
      out[f'loss{n}'] = np.asarray(metrics['loss'])
    np.savez(sys.argv[2], **out)
''')


def _eight_devices():
  """The device count must be set before jax is imported: a fresh interpreter. The caller's XLA
  flags (thread limits) are kept."""
  flags = '--xla_force_host_platform_device_count=8 ' + os.environ.get('XLA_FLAGS', '')
  return dict(os.environ, XLA_FLAGS=flags.strip(), JAX_PLATFORMS='cpu', PYTHONPATH=str(REPO))


@pytest.mark.slow  # a fresh interpreter on 8 devices, and TFDS
def test_eight_devices_match_one(tmp_path, mnist_arrays):
  images, _ = mnist_arrays['test']
  x = (images[:200].reshape(200, -1) > 127).astype(np.float32)
  np.save(tmp_path / 'x.npy', x)
  result = subprocess.run([sys.executable, '-c', SCRIPT, str(tmp_path / 'x.npy'),
                           str(tmp_path / 'out.npz')], capture_output=True, text=True,
                          env=_eight_devices(), timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  out = np.load(tmp_path / 'out.npz')
  np.testing.assert_allclose(out['loss8'], out['loss1'], rtol=1e-5)
  # Reduction order differs across shards; Adam turns tiny gradient differences into update
  # differences of up to ~3e-5 after 5 steps. A lost or duplicated shard moves params by ~1e-3.
  np.testing.assert_allclose(out['params8'], out['params1'], rtol=1e-4, atol=1e-4)
  assert not np.allclose(out['params1'], 0)


ADVERSARIAL_SCRIPT = textwrap.dedent('''
    import sys
    import jax, numpy as np, optax
    from jax.sharding import NamedSharding, PartitionSpec as P
    from genjax import parallel
    from genjax.methods import adversarial as A
    from genjax.models import gan_nets as N
    assert jax.device_count() == 8, jax.devices()
    x = np.load(sys.argv[1])  # [steps, n_critic, B, 28, 28, 1] in [-1, 1]
    method, n_critic = sys.argv[3], int(sys.argv[4])
    d = N.DCGANDiscriminator(8, 'none' if method == 'wgan_gp' else 'batch')
    opt = optax.adam(2e-4, 0.5)
    spec = A.Spec(method, N.DCGANGenerator((28, 28, 1), 8), d, opt, opt, z_dim=16,
                  n_critic=n_critic, ema_decay=0.9)
    out = {}
    for n in (1, 8):
      mesh = parallel.data_mesh(jax.devices()[:n])
      state = jax.device_put(A.init_state(spec, jax.random.key(0), (28, 28, 1)),
                             parallel.replicated(mesh))
      step = jax.jit(A.make_train_step(spec, mesh))
      first = jax.device_put(x[0], NamedSharding(mesh, P(None, 'data')))
      cost = step.lower(state, first, jax.random.key(1)).compile().cost_analysis()
      out[f'flops{n}'] = np.float64((cost[0] if isinstance(cost, list) else cost)['flops'])
      losses = []
      for real in x:  # the [n_critic, B, ...] batch is split along B, as training splits it
        real = jax.device_put(real, NamedSharding(mesh, P(None, 'data')))
        state, metrics = step(state, real, jax.random.key(1))
        losses.append([float(metrics['d_loss']), float(metrics['g_loss'])])
      assert len(real.sharding.device_set) == n
      out[f'params{n}'] = np.concatenate([np.ravel(l) for l in jax.tree.leaves(
          (state.g.params, state.d.params, state.g.batch_stats, state.d.batch_stats,
           state.ema_params))])
      out[f'loss{n}'] = np.asarray(losses)
    np.savez(sys.argv[2], **out)
''')


@pytest.mark.slow  # two fresh interpreters compile two DCGAN steps each: minutes on 2 busy cores
@pytest.mark.parametrize('method,n_critic', [('dcgan', 1), ('wgan_gp', 2)])
def test_adversarial_step_on_eight_devices_matches_one(method, n_critic, tmp_path):
  """DCGAN (BatchNorm in both players: batch statistics over the whole batch, not per shard) and
  WGAN-GP (n_critic batches, the per-example gradient penalty), 3 steps of batch 16."""
  x = np.random.RandomState(0).uniform(-1, 1, (3, n_critic, 16, 28, 28, 1)).astype(np.float32)
  np.save(tmp_path / 'x.npy', x)
  result = subprocess.run([sys.executable, '-c', ADVERSARIAL_SCRIPT, str(tmp_path / 'x.npy'),
                           str(tmp_path / 'out.npz'), method, str(n_critic)],
                          capture_output=True, text=True, env=_eight_devices(), timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  out = np.load(tmp_path / 'out.npz')
  np.testing.assert_allclose(out['loss8'], out['loss1'], rtol=1e-4, atol=1e-5)
  # Nearly every weight agrees to float precision. Adam normalizes updates, so where a gradient is
  # zero up to rounding (the biases BatchNorm cancels) reduction-order noise moves a weight by up
  # to lr per step either way: at most 2 * 3 * 2e-4 apart after 3 steps, for a few of them.
  params1, params8 = out['params1'], out['params8']
  np.testing.assert_allclose(params8, params1, atol=2 * 3 * 2e-4)
  assert np.mean(~np.isclose(params8, params1, rtol=1e-4, atol=1e-6)) < 1e-3
  assert not np.allclose(out['loss1'][0], out['loss1'][-1])  # the steps did train
  # Each device does its share of the work: G's latents are split like the real batch (without
  # that XLA ran G on the whole batch on every device: 0.89 of one device's FLOPs at 2 devices).
  assert out['flops8'] < 0.25 * out['flops1'], (out['flops8'], out['flops1'])

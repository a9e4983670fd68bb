"""Every adversarial config trains (smoke variant) on the real data through the shared loop, and a
resumed GAN run equals an uninterrupted one in every array of its state."""
import importlib.util
import json
import os

import jax
import numpy as np
import pytest

from genjax import checkpoints, experiments
from genjax.train import train_and_evaluate
from tests.conftest import REPO

TIMING = ('time', 'per_sec', '/s', 'eta')


def smoke_config(name, data_dir, tfds_dir, **train):
  spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, 'configs', name + '.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config('smoke')
  config.data.source_dir = data_dir
  config.data.tfds_data_dir = tfds_dir
  config.train.update(**train)
  return config


def rows(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [{k: v for k, v in json.loads(l).items() if not any(w in k for w in TIMING)}
            for l in f if l.strip()]


@pytest.mark.parametrize('name', ['gan_mnist', 'dcgan_mnist', 'wgan_mnist', 'wgan_gp_mnist',
                                  'infogan_mnist'])
def test_mnist_configs_train(name, tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  del mnist_arrays  # prepared once for the session
  train_and_evaluate(smoke_config(name, mnist_dir, tfds_dir), str(tmp_path))
  logged = rows(str(tmp_path))
  assert [r['step'] for r in logged if 'g_loss' in r] == [2, 4]
  assert all(np.isfinite(v) for r in logged for v in r.values())
  assert os.path.exists(tmp_path / 'samples' / 'step_00000004.png')


@pytest.mark.slow
@pytest.mark.parametrize('name', ['dcgan_cifar', 'wgan_cifar', 'wgan_gp_cifar'])
def test_cifar_configs_train(name, tmp_path, cifar_dir, tfds_dir):
  train_and_evaluate(smoke_config(name, cifar_dir, tfds_dir, num_steps=2, eval_every=2),
                     str(tmp_path))
  assert [r['step'] for r in rows(str(tmp_path)) if 'g_loss' in r] == [2]


def _state(workdir, config):
  experiment = experiments.for_config(config, load_train=False)
  return checkpoints.restore_latest(checkpoints.manager(workdir), experiment.init_state())


def test_resumed_gan_equals_uninterrupted(tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  del mnist_arrays
  config = smoke_config('dcgan_mnist', mnist_dir, tfds_dir, num_steps=6)
  config.method.ema_decay = 0.9
  straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
  train_and_evaluate(config, straight)
  config.train.num_steps = 2
  train_and_evaluate(config, resumed)
  config.train.num_steps = 6
  train_and_evaluate(config, resumed)
  # training rows equal; the resumed run also evaluated at its intermediate last step (2)
  train_rows = lambda w: [r for r in rows(w) if 'g_loss' in r]
  assert train_rows(resumed) == train_rows(straight)
  assert rows(resumed)[-1] == rows(straight)[-1]
  a, b = _state(straight, config), _state(resumed, config)
  assert int(a.step) == int(b.step) == 6
  # parameters, both optimizer states, BatchNorm statistics and the EMA weights
  leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
  assert len(leaves_a) == len(leaves_b) > 20
  for x, y in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
  assert jax.tree.leaves(a.g.batch_stats) and jax.tree.leaves(a.d.batch_stats)

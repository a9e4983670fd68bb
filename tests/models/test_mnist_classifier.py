"""The MNIST classifier behind the MNIST feature metrics: the committed weights reach >= 99.2% on
the real test set, the helpers agree with a direct apply, and the config trains through the loop."""
import hashlib
import importlib.util
import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax.experiments.classifier import random_shift
from genjax.models import mnist_classifier as mc
from tests.conftest import REPO


@pytest.mark.slow  # 15 s of CPU
def test_shapes_and_eval_mode_is_deterministic():
  module = mc.MnistClassifier()
  x = jax.random.uniform(jax.random.key(0), (3, 28, 28, 1))
  variables = module.init(jax.random.key(1), x)
  logits, features = module.apply(variables, x)
  chex.assert_shape(logits, (3, mc.NUM_CLASSES))
  chex.assert_shape(features, (3, mc.FEATURE_DIM))
  chex.assert_tree_all_finite((logits, features))
  again = module.apply(variables, x)
  np.testing.assert_array_equal(np.asarray(logits), np.asarray(again[0]))
  assert set(variables) == {'params', 'batch_stats'}


def test_to_classifier_input_maps_every_format_to_unit_interval():
  uint8 = np.arange(0, 256, dtype=np.uint8)[:196].reshape(1, 28, 7).repeat(4, axis=2)[..., None]
  unit = uint8.astype(np.float32) / 255
  expected = np.asarray(mc.to_classifier_input(uint8))
  np.testing.assert_allclose(expected, unit, atol=1e-7)
  np.testing.assert_allclose(mc.to_classifier_input(unit * 2 - 1, value_range=(-1, 1)), unit,
                             atol=1e-6)
  np.testing.assert_allclose(mc.to_classifier_input(unit.reshape(1, 784), value_range=(0, 1)),
                             unit, atol=1e-7)
  with pytest.raises(ValueError, match='value_range'):
    mc.to_classifier_input(unit)


@pytest.mark.slow  # 7 s
def test_classifier_outputs_pads_the_last_batch_and_matches_apply():
  module = mc.MnistClassifier()
  x = jax.random.uniform(jax.random.key(0), (7, 28, 28, 1))
  variables = module.init(jax.random.key(1), x)
  logits, features = mc.classifier_outputs(variables, x, batch_size=4)
  want_logits, want_features = module.apply(variables, x)
  np.testing.assert_allclose(logits, want_logits, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(features, want_features, rtol=1e-5, atol=1e-5)


def test_random_shift_translates_each_image_within_range():
  x = np.zeros((16, 28, 28, 1), np.float32)
  x[:, 10:18, 12:16] = np.random.default_rng(0).random((16, 8, 4, 1))  # away from the border
  shifted = np.asarray(random_shift(jax.random.key(0), jnp.asarray(x), 2))
  offsets = set()
  for a, b in zip(x, shifted):
    match = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
             if np.array_equal(np.roll(a, (dy, dx), axis=(0, 1)), b)]
    assert len(match) == 1
    offsets.add(match[0])
  assert len(offsets) > 1  # examples get their own offsets
  np.testing.assert_array_equal(np.asarray(random_shift(jax.random.key(0), jnp.asarray(x), 0)), x)


def test_committed_weights_reach_99_2_percent_on_real_mnist(mnist_raw):
  images, labels = mnist_raw['test']
  module, variables = mc.load_mnist_classifier()  # from the package resources
  assert isinstance(module, mc.MnistClassifier)
  logits, features = mc.classifier_outputs(variables, mc.to_classifier_input(images))
  accuracy = float(np.mean(np.asarray(logits).argmax(-1) == labels))
  assert len(labels) == 10000
  assert accuracy >= 0.992, accuracy
  chex.assert_shape(features, (10000, mc.FEATURE_DIM))
  # the recorded result describes this very file
  with open(os.path.join(REPO, 'results', 'evaluation', 'classifier_mnist.json')) as f:
    recorded = json.load(f)
  with open(os.path.join(REPO, 'genjax', 'assets', mc.ASSET), 'rb') as f:
    assert hashlib.sha256(f.read()).hexdigest() == recorded['weights_sha256']
  assert accuracy == pytest.approx(recorded['test_accuracy'], abs=2e-4)


def _config(variant='', mnist_dir=None, tfds_dir=None):
  path = os.path.join(REPO, 'configs', 'classifier_mnist.py')
  spec = importlib.util.spec_from_file_location('classifier_mnist', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config(variant)
  config.data.source_dir = mnist_dir
  config.data.tfds_data_dir = tfds_dir
  return config


def test_num_steps_follows_epochs_and_batch_size():
  config = _config()
  config.train.batch_size = 200
  config.train.num_epochs = 2
  assert config.train.num_steps == 2 * 300


@pytest.mark.slow  # trains a smoke run
def test_smoke_config_trains_through_the_loop(tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  del mnist_arrays  # prepared once for the session
  from genjax.evaluate import evaluate
  from genjax.train import train_and_evaluate
  config = _config('smoke', mnist_dir, tfds_dir)
  train_and_evaluate(config, str(tmp_path))
  with open(tmp_path / 'metrics.jsonl') as f:
    logged = [json.loads(l) for l in f if l.strip()]
  assert [r['step'] for r in logged if 'loss' in r] == [10, 20]
  assert logged[-1]['test/accuracy'] > 0.5  # 20 steps already learn a lot
  assert all(np.isfinite(v) for r in logged for v in r.values())
  result = evaluate(str(tmp_path))
  assert result['step'] == 20 and result['num_test_examples'] == 10000
  assert result['test_accuracy'] == pytest.approx(logged[-1]['test/accuracy'])
  assert json.loads((tmp_path / 'eval.json').read_text())['test_accuracy'] == \
      result['test_accuracy']

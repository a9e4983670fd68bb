"""Every adversarial config trains (smoke variant) on the real data through the shared loop, and a
resumed GAN run equals an uninterrupted one in every array of its state."""
import importlib.util
import json
import os

import jax
import jax.numpy as jnp
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


@pytest.mark.slow  # trains a smoke run or prepares TFDS
@pytest.mark.parametrize('name', ['gan_mnist', 'dcgan_mnist', 'wgan_mnist', 'wgan_gp_mnist',
                                  'infogan_mnist'])
def test_mnist_configs_train(name, tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  del mnist_arrays  # prepared once for the session
  config = smoke_config(name, mnist_dir, tfds_dir)
  train_and_evaluate(config, str(tmp_path))
  logged = rows(str(tmp_path))
  assert [r['step'] for r in logged if 'g_loss' in r] == [2, 4]
  assert all(np.isfinite(v) for r in logged for v in r.values())
  assert os.path.exists(tmp_path / 'samples' / 'step_00000004.png')
  with open(tmp_path / 'cost.json') as f:
    flops = json.load(f)['flops_per_step']
  if name == 'gan_mnist':  # XLA's count of the compiled step against one made by hand
    # matmul FLOPs of one example's forward pass: G 100-1200-1200-784, D 784-240-240-1
    g, d = 2 * (100 * 1200 + 1200 * 1200 + 1200 * 784), 2 * (784 * 240 + 240 * 240 + 240)
    # D update: G forward, D forward and backward (weights and inputs) on real and fake; G update:
    # G forward and backward, D forward and backward to its input: 4g + 8d per example.
    by_hand = config.train.batch_size * (4 * g + 8 * d)
    assert by_hand <= flops <= 1.25 * by_hand  # + elementwise work and the optimizers' updates
  assert flops > 0
  if name == 'wgan_gp_mnist':  # the evaluation job's sample-quality metrics, stated with counts
    from genjax import evaluate
    result = evaluate.evaluate(str(tmp_path), source_dir=mnist_dir)
    for key in ('fid', 'kid', 'precision', 'recall', 'density', 'coverage'):
      assert np.isfinite(result[f'{key}_mnist_classifier']), key
    assert result['num_samples'] == 200 and abs(sum(result['class_histogram']) - 1) < 1e-3
    with open(tmp_path / 'eval.json') as f:
      assert json.load(f)['fid_mnist_classifier'] == result['fid_mnist_classifier']
  if name == 'infogan_mnist':  # the code as a classifier, and its label-free statistics
    from genjax import evaluate
    result = evaluate.evaluate(str(tmp_path), source_dir=mnist_dir)
    assert result['num_test_examples'] == 10_000
    assert sorted(result['code_to_label'].values()) == list(range(10))
    # the accuracy is Q's codes on the real test set read through the reported code->label map
    # (any accuracy is >= 0.1 under the best map, so a range would prove nothing)
    experiment = experiments.for_config(config, load_train=False)
    codes = experiment.code_logits(_state(str(tmp_path), config)).argmax(-1)
    to_label = {int(c): l for c, l in result['code_to_label'].items()}
    mapped = np.array([to_label[int(c)] for c in codes])
    assert result['categorical_accuracy'] == pytest.approx(
        np.mean(mapped == np.asarray(experiment.test_labels)), abs=1e-9)
    assert 0 < result['code_marginal_entropy'] <= np.log(10) + 1e-5
    np.testing.assert_allclose(result['code_mutual_information'], result['code_marginal_entropy']
                               - result['code_conditional_entropy'], rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize('name', ['dcgan_cifar', 'wgan_cifar', 'wgan_gp_cifar'])
def test_cifar_configs_train(name, tmp_path, cifar_dir, tfds_dir):
  config = smoke_config(name, cifar_dir, tfds_dir, num_steps=2, eval_every=2)
  state = train_and_evaluate(config, str(tmp_path))
  logged = rows(str(tmp_path))
  assert [r['step'] for r in logged if 'g_loss' in r] == [2]
  assert all(np.isfinite(v) for r in logged for v in r.values())
  assert os.path.exists(tmp_path / 'samples' / 'step_00000002.png')
  # the networks are the CIFAR ones: 32x32x3 samples, and the checkpoint restores to step 2
  experiment = experiments.for_config(config, load_train=False)
  images = experiment.generated_images(state, 0, 4)
  assert images.shape == (4, 32, 32, 3) and np.all((images >= 0) & (images <= 1))
  assert int(_state(str(tmp_path), config).step) == 2


def _state(workdir, config):
  experiment = experiments.for_config(config, load_train=False)
  return checkpoints.restore_latest(checkpoints.manager(workdir), experiment.init_state())


@pytest.mark.slow
@pytest.mark.parametrize('name', ['dcgan_mnist', 'wgan_mnist', 'wgan_gp_mnist', 'infogan_mnist'])
def test_resumed_gan_equals_uninterrupted(name, tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  """Every adversarial method, n_critic > 1 (WGAN with clipping, WGAN-GP) included: the batches a
  resumed step takes (step * n_critic + i) and its keys equal the uninterrupted run's."""
  del mnist_arrays
  config = smoke_config(name, mnist_dir, tfds_dir, num_steps=6)
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
  if name == 'dcgan_mnist':
    assert jax.tree.leaves(a.g.batch_stats) and jax.tree.leaves(a.d.batch_stats)


def test_linear_decay_reaches_zero_at_the_last_generator_step():
  """The WGAN-GP CIFAR schedule: G decays over num_steps updates, the critic over
  num_steps * n_critic of its own."""
  from ml_collections import ConfigDict
  from genjax.experiments.adversarial import build_optimizer
  c = ConfigDict(dict(name='adam', learning_rate=1.0, b1=0.0, b2=0.9, decay='linear'))
  tx = build_optimizer(c, num_generator_steps=4, updates_per_generator_step=2)
  params = jnp.zeros(3)
  opt_state = tx.init(params)
  sizes = []
  for _ in range(9):
    updates, opt_state = tx.update(jnp.ones(3), opt_state, params)
    sizes.append(float(jnp.abs(updates[0])))
  # Adam(b1=0) with constant gradients moves by lr(t); lr(t) = 1 - t / 8
  np.testing.assert_allclose(sizes, [max(0.0, 1 - t / 8) for t in range(9)], rtol=1e-2, atol=1e-6)


def test_decaying_run_refuses_a_new_num_steps(tmp_path):
  from genjax.configs_check import check_resumable, write_config
  from genjax.errors import CheckpointError
  config = smoke_config('wgan_gp_cifar', 'unused', None)
  write_config(config, str(tmp_path))
  config.train.num_steps *= 2
  with pytest.raises(CheckpointError, match='train.num_steps'):
    check_resumable(config, str(tmp_path))
  plain = smoke_config('dcgan_mnist', 'unused', None)
  (tmp_path / 'plain').mkdir()
  write_config(plain, str(tmp_path / 'plain'))
  plain.train.num_steps *= 2
  check_resumable(plain, str(tmp_path / 'plain'))  # constant rates: extending a run is fine


def test_run_made_before_conv_impl_existed_resumes_only_as_xla(tmp_path):
  """A config.json without model.conv_impl was trained with native convolutions."""
  import json
  from genjax.configs_check import check_resumable
  from genjax.errors import CheckpointError
  config = smoke_config('wgan_gp_mnist', 'unused', None)
  old = json.loads(config.to_json_best_effort())
  del old['model']['conv_impl']
  (tmp_path / 'config.json').write_text(json.dumps(old))
  config.model.conv_impl = 'xla'
  check_resumable(config, str(tmp_path))
  (tmp_path / 'config.json').write_text(json.dumps(old))
  config.model.conv_impl = 'im2col'
  with pytest.raises(CheckpointError, match="model.conv_impl: 'xla' -> 'im2col'"):
    check_resumable(config, str(tmp_path))


def test_unknown_conv_impl_is_one_config_error():
  from genjax.errors import ConfigError
  from genjax.experiments.adversarial import build_networks
  config = smoke_config('wgan_gp_mnist', 'unused', None)
  config.model.conv_impl = 'im2cool'
  with pytest.raises(ConfigError, match="model.conv_impl='im2cool'"):
    build_networks(config)


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_evaluation_job_over_every_checkpoint_resumes(tmp_path, mnist_dir, tfds_dir, mnist_arrays):
  from genjax import evaluate
  del mnist_arrays
  config = smoke_config('gan_mnist', mnist_dir, tfds_dir)
  train_and_evaluate(config, str(tmp_path))
  assert evaluate.evaluate_all(str(tmp_path)) == [2, 4]
  steps = [json.load(open(evaluate.step_eval_path(str(tmp_path), s)))['step'] for s in (2, 4)]
  assert steps == [2, 4]
  with open(tmp_path / 'eval.json') as f:
    assert json.load(f)['step'] == 4
  # a rerun (e.g. after a kill, or while training adds checkpoints) does only what is missing
  os.remove(evaluate.step_eval_path(str(tmp_path), 2))
  assert evaluate.evaluate_all(str(tmp_path)) == [2]
  assert evaluate.evaluate_all(str(tmp_path)) == []


@pytest.mark.slow  # trains a smoke run or prepares TFDS
def test_scoring_outside_images(tmp_path, mnist_dir, mnist_arrays):
  from genjax import evaluate
  from genjax.errors import DataError
  images, _ = mnist_arrays['train']
  np.savez(tmp_path / 'real.npz', images=images[:300])
  noise = np.random.default_rng(0).uniform(size=(300, 28, 28)).astype(np.float32)
  np.save(tmp_path / 'noise.npy', noise)
  real = evaluate.evaluate_images(str(tmp_path / 'real.npz'), mnist_dir, kid_subset_size=100,
                                  out=str(tmp_path / 'real.json'))
  far = evaluate.evaluate_images(str(tmp_path / 'noise.npy'), mnist_dir, kid_subset_size=100)
  assert real['num_samples'] == 300 and os.path.exists(tmp_path / 'real.json')
  assert real['fid_mnist_classifier'] * 10 < far['fid_mnist_classifier']
  np.save(tmp_path / 'tanh.npy', noise * 2 - 1)
  with pytest.raises(DataError, match=r'\(x \+ 1\) / 2'):
    evaluate.evaluate_images(str(tmp_path / 'tanh.npy'), mnist_dir, kid_subset_size=100)


def test_a_changed_config_is_refused_before_the_data_is_read(tmp_path):
  from genjax.configs_check import write_config
  from genjax.errors import CheckpointError
  config = smoke_config('gan_mnist', str(tmp_path / 'no_data_here'), None)
  write_config(config, str(tmp_path))  # a run was started here with this config
  config.train.batch_size = 8
  # The data folder does not exist: a DataError would mean the data was read first.
  with pytest.raises(CheckpointError, match='train.batch_size'):
    train_and_evaluate(config, str(tmp_path))

"""genjax where TensorFlow is absent (the GPU image): the data from the original files, in the
order the TFDS path gives, and TensorBoard skipped with one warning; nothing replaced at run
time."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from genjax.data import load_split, loading
from genjax.errors import DataError
from tests import without_tensorflow
from tests.conftest import REPO

TRAIN = os.path.join(REPO, 'launch', 'train.py')


def _no_tfds(monkeypatch):
  monkeypatch.setattr(loading, 'tfds_module', lambda: None)
  monkeypatch.delenv(loading.SOURCE_DIR_ENV, raising=False)


@pytest.mark.slow  # prepares MNIST through TFDS (once per session, shared with tests/data)
def test_original_files_give_the_arrays_of_the_tfds_path(mnist_dir, mnist_arrays, monkeypatch):
  _no_tfds(monkeypatch)
  for split in ('train', 'test'):
    images, labels = load_split('mnist', split, mnist_dir)
    want_images, want_labels = mnist_arrays[split]
    assert images.dtype == want_images.dtype and labels.dtype == want_labels.dtype
    np.testing.assert_array_equal(images, want_images)
    np.testing.assert_array_equal(labels, want_labels)


@pytest.mark.slow  # prepares CIFAR-10 through TFDS (once per session, shared with tests/data)
def test_cifar10_original_files_give_the_arrays_of_the_tfds_path(cifar_dir, tfds_dir, monkeypatch):
  want_images, want_labels = load_split('cifar10', 'test', cifar_dir, tfds_dir)
  _no_tfds(monkeypatch)
  images, labels = load_split('cifar10', 'test', cifar_dir)
  assert images.dtype == want_images.dtype and labels.dtype == want_labels.dtype
  np.testing.assert_array_equal(images, want_images)
  np.testing.assert_array_equal(labels, want_labels)


def test_without_tfds_and_without_files_one_clear_error(monkeypatch):
  _no_tfds(monkeypatch)
  with pytest.raises(DataError, match='--config.data.source_dir') as info:
    load_split('mnist', 'train')
  assert '\n' not in str(info.value)


def test_the_launchers_early_check_says_the_same_before_anything_loads(monkeypatch, mnist_dir):
  monkeypatch.delenv(loading.SOURCE_DIR_ENV, raising=False)
  monkeypatch.setitem(sys.modules, 'tensorflow_datasets', None)  # as tests/without_tensorflow does
  with pytest.raises(DataError,
                     match='TensorFlow Datasets is not installed.*--config.data.source_dir'):
    loading.check_obtainable('mnist')
  loading.check_obtainable('mnist', mnist_dir)  # the files are named: nothing to download


def test_without_tfds_the_source_dir_comes_from_the_environment(mnist_dir, mnist_raw,
                                                                 monkeypatch):
  _no_tfds(monkeypatch)
  monkeypatch.setenv(loading.SOURCE_DIR_ENV, mnist_dir)
  images, labels = load_split('mnist', 'test')
  # the same examples as the files hold, reordered as TFDS orders them
  assert labels.dtype == np.int32 and images.shape == mnist_raw['test'][0].shape
  order = loading.tfds_order('test', len(labels))
  assert sorted(order.tolist()) == list(range(len(labels)))
  assert order[:5].tolist() != [0, 1, 2, 3, 4]
  np.testing.assert_array_equal(images, mnist_raw['test'][0][order])


def test_launcher_without_tensorflow_or_files_is_one_error_line(tmp_path):
  env = without_tensorflow.env()
  env.pop(loading.SOURCE_DIR_ENV, None)
  result = subprocess.run([sys.executable, TRAIN, '--config=configs/iwae_mnist.py:smoke',
                           f'--workdir={tmp_path / "run"}'], capture_output=True, text=True,
                          timeout=300, cwd=REPO, env=env)
  assert result.returncode == 2, result.stderr[-2000:]
  errors = [l for l in result.stderr.splitlines() if l.startswith('error: ')]
  assert len(errors) == 1 and 'Traceback' not in result.stderr, result.stderr[-2000:]
  assert 'TensorFlow Datasets is not installed' in errors[0]
  assert '--config.data.source_dir' in errors[0]


@pytest.mark.slow  # a short smoke training and its evaluation (about a minute)
def test_training_and_evaluation_without_tensorflow(mnist_dir, tmp_path):
  workdir = tmp_path / 'run'
  result = subprocess.run(
      [sys.executable, TRAIN, '--config=configs/iwae_mnist.py:smoke',
       f'--config.data.source_dir={mnist_dir}', '--config.train.num_steps=100',
       '--config.train.eval_every=100', '--config.train.checkpoint_every=50',
       '--config.eval.nll_num_samples=10', '--config.eval.nll_test_examples=500',
       f'--workdir={workdir}', '--evaluate'],
      capture_output=True, text=True, timeout=900, cwd=REPO, env=without_tensorflow.env())
  log = result.stdout + result.stderr
  assert result.returncode == 0, log[-3000:]
  assert 'Traceback' not in log, log[-3000:]
  # the data came from the original files (TFDS could not be imported) ...
  assert 'TensorFlow Datasets is not installed' in log, log[-3000:]
  # ... TensorBoard was skipped with exactly one warning, for training and evaluation together ...
  mentions = [l for l in log.splitlines() if 'tensorboard' in l.lower()]
  assert len(mentions) == 1 and 'TensorBoard files skipped' in mentions[0], mentions
  assert not list(workdir.rglob('events.out.tfevents*'))
  # ... and every number is still in metrics.jsonl and eval.json
  with open(workdir / 'metrics.jsonl') as f:
    rows = [json.loads(line) for line in f]
  assert [r['step'] for r in rows if 'loss' in r] == [50, 100]
  assert all(np.isfinite(r['loss']) for r in rows if 'loss' in r)
  with open(workdir / 'eval.json') as f:
    assert json.load(f)['step'] == 100

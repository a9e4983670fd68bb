"""MNIST and CIFAR-10 through TFDS, prepared offline from the original files; offline without
them, one clear error in seconds."""
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from genjax.data import load_split, loading
from genjax.errors import DataError
from tests.conftest import REPO


@pytest.mark.slow  # prepares MNIST through TFDS
def test_mnist_through_tfds_is_the_real_mnist(mnist_arrays):
  images, labels = mnist_arrays['train']
  assert images.shape == (60000, 28, 28, 1) and images.dtype == np.uint8
  assert abs(images.mean() - 33.3184) < 1e-3
  assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                          5949]


@pytest.mark.slow  # prepares MNIST through TFDS
def test_source_dir_from_environment(mnist_dir, tfds_dir, monkeypatch, mnist_arrays):
  monkeypatch.setenv(loading.SOURCE_DIR_ENV, mnist_dir)
  images, _ = load_split('mnist', 'test', None, tfds_dir)
  np.testing.assert_array_equal(images, mnist_arrays['test'][0])


def test_missing_source_dir_is_one_clear_error(tmp_path):
  with pytest.raises(DataError, match='nowhere'):
    load_split('mnist', 'train', str(tmp_path / 'nowhere'), str(tmp_path / 'tfds'))


def test_corrupt_file_is_named_before_tfds_writes_anything(mnist_dir, tmp_path):
  src = tmp_path / 'src'
  src.mkdir()
  for name in os.listdir(mnist_dir):
    (src / name).write_bytes((open(os.path.join(mnist_dir, name), 'rb').read()))
  bad = src / 'train-images-idx3-ubyte.gz'
  bad.write_bytes(bad.read_bytes()[:1000])
  with pytest.raises(DataError, match='train-images-idx3-ubyte.gz'):
    load_split('mnist', 'train', str(src), str(tmp_path / 'tfds'))
  assert not (tmp_path / 'tfds' / 'mnist_from_files' / '1.0.0').exists()


def test_unknown_dataset():
  with pytest.raises(DataError, match='Unknown dataset'):
    load_split('mnits', 'train')


@pytest.mark.slow
def test_cifar10_through_tfds(cifar_dir, tfds_dir):
  images, labels = load_split('cifar10', 'test', cifar_dir, tfds_dir)
  assert images.shape == (10000, 32, 32, 3) and images.dtype == np.uint8
  assert np.bincount(labels).tolist() == [1000] * 10


# ---- offline without a source directory: one line in seconds, not TFDS's minutes of retries ------

def _free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]  # closed again on return: nothing listens there


def test_probe_finds_a_listening_host_among_dead_ones():
  with socket.socket() as server:
    server.bind(('127.0.0.1', 0))
    server.listen()
    t0 = time.monotonic()
    assert loading.unreachable([('127.0.0.1', _free_port()), server.getsockname()]) is None
    assert time.monotonic() - t0 < 2


def test_probe_waits_out_a_blip_of_the_network():
  port = _free_port()
  server = socket.socket()

  def listen_late():
    time.sleep(1.0)
    server.bind(('127.0.0.1', port))
    server.listen()
  late = threading.Thread(target=listen_late)
  late.start()
  try:
    assert loading.unreachable([('127.0.0.1', port)], seconds=4) is None
  finally:
    late.join()
    server.close()


def test_probe_gives_up_when_the_time_is_up():
  port = _free_port()
  t0 = time.monotonic()
  why = loading.unreachable([('127.0.0.1', port)], seconds=1.5)
  assert 1.4 < time.monotonic() - t0 < 3
  assert why.startswith('no network') and f'127.0.0.1:{port}' in why


@pytest.mark.parametrize('no_proxy, want', [('', ('proxy.example', 3128)),
                                            ('storage.googleapis.com', ('storage.googleapis.com',
                                                                        443))])
def test_probe_goes_where_requests_would(monkeypatch, no_proxy, want):
  """Behind a proxy the download connects to the proxy, not to the dataset's host."""
  for name in ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'):
    monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(name.upper(), raising=False)
  monkeypatch.setenv('HTTPS_PROXY', 'http://proxy.example:3128')
  monkeypatch.setenv('NO_PROXY', no_proxy)
  assert loading._endpoint('https://storage.googleapis.com/cvdf-datasets/mnist/x.gz') == want


@pytest.mark.slow  # the launcher's start-up: about 20 s on 2 busy cores
def test_offline_without_source_dir_fails_in_seconds(tmp_path):
  """The command users type, with no network and no local files: TFDS alone retries for 3.7
  minutes. The network is cut off here by a proxy setting naming a closed port, so the test means
  the same on a machine with internet."""
  dead = f'http://127.0.0.1:{_free_port()}'
  env = {k: v for k, v in os.environ.items()
         if k != loading.SOURCE_DIR_ENV and k.lower() != 'no_proxy'}
  env.update(TFDS_DATA_DIR=str(tmp_path / 'tfds'), HTTPS_PROXY=dead, HTTP_PROXY=dead,
             https_proxy=dead, http_proxy=dead)
  t0 = time.monotonic()
  result = subprocess.run([sys.executable, os.path.join(REPO, 'launch', 'train.py'),
                           '--config=configs/iwae_mnist.py:smoke',
                           f'--workdir={tmp_path / "run"}'],
                          capture_output=True, text=True, timeout=240, env=env, cwd=REPO)
  elapsed = time.monotonic() - t0
  assert result.returncode == 2, result.stderr[-2000:]
  errors = [l for l in result.stderr.splitlines() if l.startswith('error: ')]
  assert len(errors) == 1 and 'Traceback' not in result.stderr, result.stderr[-2000:]
  assert "TFDS could not prepare 'mnist' (no network" in errors[0]
  assert '--config.data.source_dir=DIR' in errors[0]
  assert elapsed < 30, f'{elapsed:.0f} s'


def _offline(monkeypatch, tmp_path):
  """No network on any machine: every download goes to a proxy at a closed port."""
  dead = f'http://127.0.0.1:{_free_port()}'
  for name in ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy'):
    monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(name.upper(), raising=False)
  monkeypatch.setenv('HTTPS_PROXY', dead)
  monkeypatch.setenv('HTTP_PROXY', dead)
  monkeypatch.delenv(loading.SOURCE_DIR_ENV, raising=False)
  return str(tmp_path / 'tfds')


def test_early_check_names_the_missing_network_in_seconds(monkeypatch, tmp_path):
  tfds_dir = _offline(monkeypatch, tmp_path)
  t0 = time.monotonic()
  with pytest.raises(DataError, match=r"TFDS could not prepare 'mnist' \(no network.*"
                     r"--config\.data\.source_dir=DIR") as info:
    loading.check_obtainable('mnist', None, tfds_dir)
  assert time.monotonic() - t0 < loading.PROBE_SECONDS + 5
  assert '\n' not in str(info.value)


def test_early_check_passes_with_a_source_dir_or_a_prepared_copy(monkeypatch, tmp_path, mnist_dir):
  tfds_dir = _offline(monkeypatch, tmp_path)
  t0 = time.monotonic()
  loading.check_obtainable('mnist', mnist_dir, tfds_dir)  # nothing to download: no probe
  import tensorflow_datasets as tfds
  builder = tfds.builder('mnist', data_dir=tfds_dir)
  os.makedirs(builder.data_dir)
  with open(os.path.join(builder.data_dir, 'dataset_info.json'), 'w') as f:
    f.write(builder.info.as_json)  # what marks a prepared copy, as TFDS writes it
  loading.check_obtainable('mnist', None, tfds_dir)
  assert time.monotonic() - t0 < loading.PROBE_SECONDS  # neither call waited for the probe


def test_two_processes_preparing_one_copy_prepare_it_once(monkeypatch, tmp_path, mnist_dir):
  """Two runs started together on a fresh machine: the second waits for the first's copy
  instead of failing on TFDS's final rename (FileExistsError, seen 2026-12-02)."""
  from genjax.data import tfds_local

  class Builder:  # the part of a TFDS builder that _builder touches
    def __init__(self, data_dir):
      self.data_dir = os.path.join(data_dir, 'mnist_from_files', '1.0.0')

  prepared, started = [], threading.Barrier(2)

  def prepare(name, source_dir, builder, config):
    prepared.append(builder.data_dir)
    time.sleep(0.5)  # long enough for the other caller to find the copy missing too
    os.makedirs(builder.data_dir)
    open(os.path.join(builder.data_dir, 'dataset_info.json'), 'w').close()

  monkeypatch.setitem(tfds_local.BUILDERS, 'mnist', Builder)
  monkeypatch.setattr(loading, '_prepare', prepare)
  monkeypatch.setattr(loading, '_check_source', lambda *a: None)
  results, errors = [], []

  def load():
    started.wait()
    try:
      results.append(loading._builder('mnist', mnist_dir, str(tmp_path)))
    except Exception as e:  # noqa: BLE001
      errors.append(e)
  threads = [threading.Thread(target=load, daemon=True) for _ in range(2)]
  for t in threads:
    t.start()
  for t in threads:
    t.join(30)
  assert not errors and len(results) == 2
  assert len(prepared) == 1  # without the lock both callers prepare: two entries
  assert all(loading._prepared(b) for b in results)

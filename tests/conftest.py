"""Shared fixtures. Real data comes from ../shared/data beside the checkout, or from
$GENJAX_TEST_DATA (set by .ci/run); a missing copy fails the tests rather than skipping them."""
import os
import pathlib
import sys

import pytest

# torch's CUDA wheel (the FID references' torch) imports triton when torch._dynamo loads, and
# triton's extension segfaults when TensorFlow was loaded first, as it is in a test session.
# Nothing here compiles GPU kernels: torch is told there is no triton.
sys.modules.setdefault('triton', None)
# The trainings the tests launch skip the end-of-training figures (tests/analysis asks for them).
os.environ.setdefault('GENJAX_END_FIGURES', '0')

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(os.environ.get('GENJAX_TEST_DATA', REPO.parent / 'shared' / 'data'))


def _need(path):
  if not path.exists():
    pytest.fail(f'Test data {path} is missing: set GENJAX_TEST_DATA to the shared data folder '
                '(the one holding mnist/ and cifar10-approx/).')
  return path


@pytest.fixture(scope='session')
def mnist_dir():
  return str(_need(DATA / 'mnist'))


@pytest.fixture(scope='session')
def cifar_dir():
  return str(_need(DATA / 'cifar10-approx'))


@pytest.fixture(scope='session')
def tfds_dir(tmp_path_factory):
  """One TFDS data dir per test session, so each dataset is prepared once."""
  return str(tmp_path_factory.mktemp('tfds'))


@pytest.fixture(scope='session')
def mnist_raw(mnist_dir):
  """The verified original MNIST files read directly, without preparing TFDS (seconds, not the
  TFDS preparation of mnist_arrays): for tests of the math on real digits."""
  from genjax.data import raw
  return {s: raw.read_mnist(mnist_dir, s) for s in ('train', 'test')}


@pytest.fixture(scope='session')
def mnist_arrays(mnist_dir, tfds_dir):
  from genjax.data import load_split
  return {s: load_split('mnist', s, mnist_dir, tfds_dir) for s in ('train', 'test')}


@pytest.fixture(scope='session', autouse=True)
def reference_stats_cache(tmp_path_factory):
  """Reference statistics go to a per-session folder, never the user's ~/.cache: tests neither
  read a stale file from another checkout nor leave one behind. Subprocesses inherit it."""
  path = str(tmp_path_factory.mktemp('reference_stats_cache'))
  previous = os.environ.get('GENJAX_CACHE_DIR')
  os.environ['GENJAX_CACHE_DIR'] = path
  yield path
  if previous is None:
    os.environ.pop('GENJAX_CACHE_DIR', None)
  else:
    os.environ['GENJAX_CACHE_DIR'] = previous

"""A child Python without TensorFlow, for the tests of what the GPU image runs."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def env(**extra):
  """os.environ with this folder first on PYTHONPATH, so its sitecustomize.py makes every Python
  started with it (and every Python that one starts) one where TensorFlow cannot be imported."""
  path = os.pathsep.join(p for p in (HERE, os.environ.get('PYTHONPATH')) if p)
  return {**os.environ, 'PYTHONPATH': path, **extra}

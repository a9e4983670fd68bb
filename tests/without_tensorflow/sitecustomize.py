"""On PYTHONPATH, this makes a Python without TensorFlow, as on the GPU image results/gpu/README.md
describes: `import tensorflow` and `import tensorflow_datasets` raise ImportError (a None in
sys.modules is what Python's import system reads as "not importable"), in this process and in the
processes it starts."""
import sys

for _name in ('tensorflow', 'tensorflow_datasets'):
  sys.modules[_name] = None

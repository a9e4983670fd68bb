"""Exports a trained classifier run as the packaged MNIST classifier and records its accuracy.

  python results/evaluation/make_classifier_json.py --workdir=/tmp/genjax_runs/classifier_mnist

Writes
  genjax/assets/mnist_classifier.msgpack   params and BatchNorm statistics (flax msgpack)
  results/evaluation/classifier_mnist.json test accuracy of that file on the real MNIST test set
The accuracy is measured from the written file through load_mnist_classifier and
classifier_outputs, exactly as the metrics will use it, not from the in-memory train state.
"""
import argparse
import hashlib
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, REPO)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

ASSET_PATH = os.path.join(REPO, 'genjax', 'assets', 'mnist_classifier.msgpack')
JSON_PATH = os.path.join(HERE, 'classifier_mnist.json')


def hardware():
  model = platform.processor()
  try:
    with open('/proc/cpuinfo') as f:
      model = next(l.split(':', 1)[1].strip() for l in f if l.startswith('model name'))
  except (OSError, StopIteration):
    pass
  return {'cpu_count': os.cpu_count(), 'cpu_model': model, 'machine': platform.machine()}


def main(args):
  import jax
  import numpy as np
  import optax

  from genjax import results
  from genjax.evaluate import restore_run
  from genjax.models import mnist_classifier as mc

  experiment, state = restore_run(args.workdir, args.source_dir)
  config = experiment.config
  os.makedirs(os.path.dirname(ASSET_PATH), exist_ok=True)
  with open(ASSET_PATH, 'wb') as f:
    f.write(mc.variables_to_bytes(experiment.variables(state)))
  with open(ASSET_PATH, 'rb') as f:
    blob = f.read()

  _, variables = mc.load_mnist_classifier(ASSET_PATH)
  t0 = time.monotonic()
  logits, _ = mc.classifier_outputs(variables, experiment.x_test, config.eval.batch_size)
  eval_seconds = time.monotonic() - t0
  logits, labels = np.asarray(logits), experiment.y_test
  predicted = logits.argmax(-1)
  loss = float(np.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels)))
  steps = int(state.step)
  result = {
      'model': 'genjax.models.mnist_classifier.MnistClassifier',
      'weights_file': os.path.relpath(ASSET_PATH, REPO),
      'weights_sha256': hashlib.sha256(blob).hexdigest(),
      'weights_bytes': len(blob),
      'test_set': 'real MNIST test set (t10k), inputs float32 in [0, 1]',
      'test_accuracy': float(np.mean(predicted == labels)),
      'num_test_examples': int(len(labels)),
      'num_test_errors': int(np.sum(predicted != labels)),
      'test_loss': loss,
      'test_accuracy_per_class': [float(np.mean(predicted[labels == c] == c)) for c in range(10)],
      'steps': steps,
      'epochs': round(steps / experiment.steps_per_epoch, 2),
      'batch_size': config.train.batch_size,
      'seed': config.seed,
      'train_minutes': results.load_run(args.workdir).train_minutes(),
      'eval_seconds': round(eval_seconds, 1),
      'train_command': ('python launch/train.py --config=configs/classifier_mnist.py '
                        f'--workdir={args.workdir} '
                        f'--config.data.source_dir={config.data.source_dir}'),
      'export_command': ('python results/evaluation/make_classifier_json.py '
                         f'--workdir={args.workdir}'),
      'hardware': hardware(),
      'jax': jax.__version__,
  }
  with open(JSON_PATH, 'w') as f:
    json.dump(result, f, indent=2)
    f.write('\n')
  print(json.dumps({k: result[k] for k in ('test_accuracy', 'num_test_examples', 'steps',
                                           'weights_bytes', 'weights_sha256')}, indent=2))


if __name__ == '__main__':
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', required=True, help='A classifier_mnist training workdir.')
  parser.add_argument('--source_dir', default=None,
                      help="MNIST source directory (default: the run config's).")
  main(parser.parse_args())

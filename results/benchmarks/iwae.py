"""Benchmark (not a test): genjax's IWAE against pythae's IWAE (PyTorch, CPU), same run.

Same networks (the IWAE paper's 784-200-200-50 MLP, tanh, Bernoulli pixels), same batch (20),
same optimizer (Adam). Prints examples/s of the k=1 and k=50 training steps and of the k=5000 NLL
estimate for both, and genjax/pythae ratios; writes them as JSON.

  pip install torch==2.13.0 && pip install -e ".[bench]"
  python results/benchmarks/iwae.py --mnist_dir=../shared/data/mnist --out=results/benchmarks/iwae_cpu.json
"""
import json
import os
import platform
import statistics
import sys
import time

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

FLAGS = flags.FLAGS
flags.DEFINE_string('mnist_dir', None, 'Directory of the original MNIST files.')
flags.DEFINE_string('out', None, 'Where to write the JSON results.')
flags.DEFINE_integer('repeats', 3, 'Timings per measurement; the median is reported.')
flags.DEFINE_integer('nll_examples', 20, 'Test examples for the NLL throughput.')
flags.mark_flags_as_required(['mnist_dir'])

BATCH = 20
STEPS = {1: 600, 50: 100}


def median_rate(fn, items, repeats):
  rates = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    fn()
    rates.append(items / (time.perf_counter() - t0))
  return statistics.median(rates)


def genjax_side(x_train, x_test, repeats):
  import jax
  from ml_collections import ConfigDict

  from genjax import parallel
  from genjax.data import on_device
  from genjax.methods import iwae
  from genjax.metrics import likelihood
  mesh = parallel.data_mesh()
  model = iwae.build_model(ConfigDict(dict(stochastic_layers=1)))
  tx = iwae.make_optimizer(ConfigDict(dict(schedule='constant', learning_rate=1e-3, b1=0.9,
                                           b2=0.999, eps=1e-4)), 3000)
  batches = on_device.EpochBatches(jax.device_put(x_train, parallel.replicated(mesh)), BATCH,
                                   jax.random.key(1), parallel.batch_sharding(mesh))
  out = {}
  for k, steps in STEPS.items():
    state = iwae.create_train_state(jax.random.key(0), model, tx)
    step_fn = jax.jit(iwae.make_train_step(model, 'iwae', k), donate_argnums=0)
    key = jax.random.key(2)
    box = {'state': state, 's': 0}

    def run(n):
      for _ in range(n):
        box['state'], _ = step_fn(box['state'], batches(box['s']), key)
        box['s'] += 1
      jax.block_until_ready(box['state'])

    run(20)  # compile and warm up
    out[f'train_k{k}_examples_per_sec'] = median_rate(lambda: run(steps), steps * BATCH, repeats)
  params = box['state'].params
  x = on_device.binarized_test_set(x_test[:FLAGS.nll_examples])
  nll = lambda: likelihood.importance_bounds(model, params, x, jax.random.key(3), 5000, 100, 20)
  nll()
  out['nll_k5000_examples_per_sec'] = median_rate(nll, len(x), repeats)
  return out


def pythae_side(x_train, x_test, repeats):
  import numpy as np
  import torch
  from pythae.models import IWAE, IWAEConfig
  from pythae.models.base.base_utils import ModelOutput
  from pythae.models.nn import BaseDecoder, BaseEncoder
  torch.manual_seed(0)

  class Encoder(BaseEncoder):
    def __init__(self):
      super().__init__()
      self.trunk = torch.nn.Sequential(torch.nn.Linear(784, 200), torch.nn.Tanh(),
                                       torch.nn.Linear(200, 200), torch.nn.Tanh())
      self.mean, self.log_var = torch.nn.Linear(200, 50), torch.nn.Linear(200, 50)

    def forward(self, x):
      h = self.trunk(x.reshape(len(x), -1))
      return ModelOutput(embedding=self.mean(h), log_covariance=self.log_var(h))

  class Decoder(BaseDecoder):
    def __init__(self):
      super().__init__()
      self.net = torch.nn.Sequential(torch.nn.Linear(50, 200), torch.nn.Tanh(),
                                     torch.nn.Linear(200, 200), torch.nn.Tanh(),
                                     torch.nn.Linear(200, 784), torch.nn.Sigmoid())

    def forward(self, z):
      return ModelOutput(reconstruction=self.net(z).reshape(-1, 1, 28, 28))

  rng = np.random.RandomState(0)
  out = {}
  for k, steps in STEPS.items():
    config = IWAEConfig(input_dim=(1, 28, 28), latent_dim=50, reconstruction_loss='bce',
                        number_samples=k)
    model = IWAE(config, encoder=Encoder(), decoder=Decoder())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-4)

    def run(n):
      for _ in range(n):
        idx = rng.randint(0, len(x_train), BATCH)
        x = torch.from_numpy((rng.rand(BATCH, 784) < x_train[idx]).astype(np.float32))
        opt.zero_grad()
        model({'data': x.reshape(BATCH, 1, 28, 28)}).loss.backward()
        opt.step()

    run(20)
    out[f'train_k{k}_examples_per_sec'] = median_rate(lambda: run(steps), steps * BATCH, repeats)
  x = torch.from_numpy((rng.rand(FLAGS.nll_examples, 784) < x_test[:FLAGS.nll_examples])
                       .astype(np.float32)).reshape(-1, 1, 28, 28)
  model.eval()
  best = 0.0
  for batch_size in (100, 1000):  # pythae's default, and a larger one that may suit the CPU
    with torch.no_grad():
      rate = median_rate(lambda: model.get_nll(x, n_samples=5000, batch_size=batch_size), len(x),
                         repeats)
    out[f'nll_k5000_examples_per_sec_batch{batch_size}'] = rate
    best = max(best, rate)
  out['nll_k5000_examples_per_sec'] = best
  out['torch_version'] = torch.__version__
  return out


def main(argv):
  del argv
  import jax

  from genjax.data import on_device, raw
  x_train = on_device.to_unit_interval(raw.read_mnist(FLAGS.mnist_dir, 'train')[0])
  x_test = on_device.to_unit_interval(raw.read_mnist(FLAGS.mnist_dir, 'test')[0])
  ours = genjax_side(x_train, x_test, FLAGS.repeats)
  import torch
  # The peer gets its best thread count per measurement (OpenMP spinning can make 2 threads
  # slower than 1 on 2 cores), so the ratio is never flattered by a badly set peer.
  per_threads = {}
  for threads in (1, os.cpu_count()):
    torch.set_num_threads(threads)
    per_threads[threads] = pythae_side(x_train, x_test, FLAGS.repeats)
  theirs = {k: max(r[k] for r in per_threads.values()) for k in per_threads[1]
            if k.endswith('per_sec')}
  theirs['by_torch_threads'] = per_threads
  import importlib.metadata
  result = {
      'setup': {'batch_size': BATCH, 'architecture': '784-200-200-50 tanh MLP, Bernoulli pixels',
                'steps_timed': STEPS, 'nll_examples': FLAGS.nll_examples,
                'repeats (median)': FLAGS.repeats, 'cpus': os.cpu_count(),
                'machine': platform.processor() or platform.machine(),
                'jax': jax.__version__, 'pythae': importlib.metadata.version('pythae')},
      'genjax': ours, 'pythae': theirs,
      'ratio_genjax_over_pythae': {k: ours[k] / theirs[k] for k in ours if k in theirs},
  }
  print(json.dumps(result, indent=2))
  if FLAGS.out:
    os.makedirs(os.path.dirname(FLAGS.out), exist_ok=True)
    with open(FLAGS.out, 'w') as f:
      json.dump(result, f, indent=2)


if __name__ == '__main__':
  app.run(main)

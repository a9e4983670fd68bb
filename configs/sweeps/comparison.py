"""All seven methods on MNIST at one wall-clock budget per run: about 4 minutes of training on
this project's 2-core CPU (one XLA thread per run, two runs side by side), 3 seeds each. Each
method trains from its own config (the paper-faithful settings of configs/*_mnist.py) for the
number of steps that budget buys it, sized from the s/step of results/benchmarks (idle, two
threads) x 1.5 for one thread; the report's train_seconds and seconds_per_step columns give what
each run really took, flops_per_step XLA's count of its compiled step (cost.json).

  python launch/sweep.py --sweep=configs/sweeps/comparison.py --root=runs/comparison --parallel=2
  python launch/report.py --root=runs/comparison --out=results/ablations/comparison --copy_runs

Quality for every method in the same space: the MNIST classifier's FID/KID, precision / recall /
coverage, and the classes that 5,000 samples cover; NLL (k=5,000, first 1,000 test images) for
the VAE and IWAE (k=50), the two methods that define one.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import _gan  # noqa: E402

from genjax.sweeps import Sweep  # noqa: E402

BUDGET_SECONDS = 240
# One-thread seconds per step (estimates, see above) -> the steps the budget buys.
SECONDS_PER_STEP = {'gan': 0.021, 'dcgan': 0.44, 'wgan': 0.55, 'wgan_gp': 0.59, 'infogan': 0.50,
                    'vae': 0.0017, 'iwae': 0.018}
CONFIGS = {'gan': 'gan_mnist', 'dcgan': 'dcgan_mnist', 'wgan': 'wgan_mnist',
           'wgan_gp': 'wgan_gp_mnist', 'infogan': 'infogan_mnist', 'vae': 'vae_mnist',
           'iwae': 'iwae_mnist'}


def steps(method):
  """The budget's steps, rounded down to 200 (1,000 for the likelihood models), so that the
  mid-run checkpoint falls on a logging step (100 and 500 in the configs)."""
  unit = 1000 if method in ('vae', 'iwae') else 200
  return max(unit, int(BUDGET_SECONDS / SECONDS_PER_STEP[method]) // unit * unit)


def get_sweep():
  settings = []
  for method, config in CONFIGS.items():
    n = steps(method)
    setting = {'config': f'configs/{config}.py', 'method.name': method, 'train.num_steps': n,
               'train.eval_every': n, 'train.checkpoint_every': n // 2}
    if method in ('vae', 'iwae'):
      setting['eval.nll_test_examples'] = 1000
    settings.append(setting)
  return Sweep(
      config='configs/dcgan_mnist.py',
      settings=settings,
      seeds=(0, 1, 2),
      columns={'method.name': 'method', 'train.num_steps': 'steps'},
      metrics=('fid_mnist_classifier', 'kid_mnist_classifier', 'precision_mnist_classifier',
               'recall_mnist_classifier', 'coverage_mnist_classifier', 'classes_covered',
               'class_entropy', 'nll'),
      eval_overrides=_gan.EVAL,
      plot={'metrics': _gan.PLOT_METRICS, 'label': 'method',
            'cost': ['fid_mnist_classifier', 'precision_mnist_classifier',
                     'recall_mnist_classifier']},
      description='seven methods at ~4 min of CPU training each')

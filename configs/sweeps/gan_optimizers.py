"""DCGAN on MNIST trained with SGD + momentum (0.9), RMSProp (decay 0.9) and Adam (β1 0.5,
β2 0.999, the DCGAN paper's), each at three learning rates a factor √10 or so apart around the
range it is expected to work in, for both players; 3 seeds each. The tuned rate of each optimizer
is the best of its three (summary.csv), so each is compared at its best.

  python launch/sweep.py --sweep=configs/sweeps/gan_optimizers.py --root=runs/gan_optimizers --parallel=2
  python launch/report.py --root=runs/gan_optimizers --out=results/ablations/gan_optimizers --copy_runs

Budget and metrics: configs/sweeps/_gan.py (500 steps, MNIST-classifier FID/KID/PR on 5,000
samples).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import _gan  # noqa: E402

from genjax.sweeps import Sweep  # noqa: E402

LEARNING_RATES = {'momentum': (0.003, 0.01, 0.03), 'rmsprop': (5e-5, 2e-4, 1e-3),
                  'adam': (5e-5, 2e-4, 1e-3)}


def get_sweep():
  return Sweep(
      **_gan.SHARED,
      config='configs/dcgan_mnist.py',
      settings=[{'optim.g.name': name, 'optim.d.name': name, 'optim.g.learning_rate': lr,
                 'optim.d.learning_rate': lr}
                for name, rates in LEARNING_RATES.items() for lr in rates],
      columns={'optim.g.name': 'optimizer', 'optim.d.name': 'd_optimizer',
               'optim.g.learning_rate': 'learning_rate', 'optim.d.learning_rate': 'd_learning_rate'},
      plot={'x': 'optim.g.learning_rate', 'hue': 'optim.g.name', 'logx': True,
            'metrics': _gan.PLOT_METRICS},
      description='DCGAN optimizers x learning rates, 500 steps')

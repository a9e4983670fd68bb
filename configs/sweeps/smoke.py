"""A sweep that finishes in a few minutes on 2 CPU cores: VAE vs IWAE (k=5), 2 seeds, 100 steps
of the smoke config, NLL with 100 samples on 200 test images. Used by the tests and as a
template.

  python launch/sweep.py --sweep=configs/sweeps/smoke.py --root=/tmp/smoke --parallel=2
  python launch/report.py --root=/tmp/smoke --out=/tmp/smoke_report
"""
from genjax.sweeps import Sweep, product


def get_sweep():
  return Sweep(
      config='configs/iwae_mnist.py:smoke',
      fixed={'train.num_steps': 100, 'train.eval_every': 100, 'train.checkpoint_every': 100,
             'train.log_every': 50, 'eval.metrics': 'nll', 'eval.nll_num_samples': 100,
             'eval.nll_test_examples': 200},
      settings=product({'method.name': ['vae', 'iwae']}),
      seeds=(0, 1),
      columns={'method.name': 'method'},
      metrics=('nll', 'elbo', 'active_units'),
      curves=('test/iwae_bound',),
      description='smoke: VAE vs IWAE k=5, 100 steps')

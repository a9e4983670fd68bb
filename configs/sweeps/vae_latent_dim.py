"""The VAE's latent size: 2, 5, 10, 20 and 50 units (one stochastic layer, k=1), 3 seeds each.

  python launch/sweep.py --sweep=configs/sweeps/vae_latent_dim.py --root=runs/vae_latent_dim --parallel=2
  python launch/report.py --root=runs/vae_latent_dim --out=results/ablations/vae_latent_dim

Budget: 15,000 steps (5 epochs at batch 20) with the paper's Adam and schedule. Test NLL with
k=1,000 on the first 1,000 test images; active units (Burda et al.'s Cov_x(E_q[u|x]) > 0.01) on
the same images.
"""
from genjax.sweeps import Sweep, product


def get_sweep():
  return Sweep(
      config='configs/vae_mnist.py',
      fixed={'train.num_steps': 15000, 'train.eval_every': 3000, 'train.checkpoint_every': 7500,
             'eval.metrics': 'nll', 'eval.nll_num_samples': 1000, 'eval.nll_test_examples': 1000},
      settings=product({'model.latent_dim': [2, 5, 10, 20, 50]}),
      seeds=(0, 1, 2),
      columns={'model.latent_dim': 'latent_dim'},
      metrics=('nll', 'elbo', 'active_units'),
      curves=('test/elbo',),
      plot={'x': 'model.latent_dim', 'logx': True},
      description='VAE latent size, 5 epochs')

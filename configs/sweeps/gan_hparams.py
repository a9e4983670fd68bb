"""The hyper-parameters the adversarial methods are known to be sensitive to, 3 seeds each:
  WGAN-GP: the penalty weight λ ∈ {0.1, 1, 10, 100} × critic updates per generator step
           n_critic ∈ {1, 5} (the paper: λ = 10, n_critic = 5), and λ = 10 at n_critic = 1 for
           1,036 generator steps, the compute of 300 at n_critic = 5;
  WGAN:    the weight-clipping bound c ∈ {0.001, 0.01, 0.1} (the paper: 0.01);
  DCGAN:   the learning rate (both players) ∈ {1e-4, 2e-4, 8e-4} × batch size ∈ {64, 128}
           (the paper: 2e-4, 128).
Each family trains from its own config (configs/wgan_gp_mnist.py, wgan_mnist.py,
dcgan_mnist.py). The report's columns give the value each run's config held, swept or not: clip
matters only to WGAN, gp_lambda only to WGAN-GP; learning_rate and batch_size are the WGANs'
own configs' values (1e-4 Adam for WGAN-GP, 5e-5 RMSProp for WGAN, batch 64).

  python launch/sweep.py --sweep=configs/sweeps/gan_hparams.py --root=runs/gan_hparams --parallel=2
  python launch/report.py --root=runs/gan_hparams --out=results/ablations/gan_hparams --copy_runs

Budget: 300 generator steps for the WGANs (1,500 critic steps at n_critic 5), 500 for DCGAN;
metrics as in configs/sweeps/_gan.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import _gan  # noqa: E402

from genjax.sweeps import Sweep  # noqa: E402

WGAN_STEPS = 300
EQUAL_COMPUTE_STEPS = 1036  # = 300 * 58.1 / 16.8


def get_sweep():
  wgan = {'train.num_steps': WGAN_STEPS}
  settings = [{'config': 'configs/wgan_gp_mnist.py', 'method.name': 'wgan_gp',
               'method.gp_lambda': gp_lambda, 'method.n_critic': n_critic, **wgan}
              for n_critic in (5, 1) for gp_lambda in (0.1, 1.0, 10.0, 100.0)]
  # n_critic 1 at the FLOPs of 300 generator steps at n_critic 5 (58.1 vs 16.8 GFLOP per
  # generator step, XLA's cost analysis): the same compute, spent on the generator.
  settings.append({'config': 'configs/wgan_gp_mnist.py', 'method.name': 'wgan_gp',
                   'method.gp_lambda': 10.0, 'method.n_critic': 1,
                   'train.num_steps': EQUAL_COMPUTE_STEPS})
  settings += [{'config': 'configs/wgan_mnist.py', 'method.name': 'wgan', 'method.clip': clip,
                **wgan} for clip in (0.001, 0.01, 0.1)]
  settings += [{'method.name': 'dcgan', 'optim.g.learning_rate': lr, 'optim.d.learning_rate': lr,
                'train.batch_size': batch} for batch in (128, 64) for lr in (1e-4, 2e-4, 8e-4)]
  return Sweep(
      **_gan.SHARED,
      config='configs/dcgan_mnist.py',
      settings=settings,
      columns={'method.name': 'method', 'method.gp_lambda': 'gp_lambda',
               'method.n_critic': 'n_critic', 'method.clip': 'clip',
               'optim.g.learning_rate': 'learning_rate', 'optim.d.learning_rate': 'd_learning_rate',
               'train.batch_size': 'batch_size', 'train.num_steps': 'steps'},
      plot={'metrics': _gan.PLOT_METRICS},
      description='WGAN-GP lambda x n_critic, WGAN clip, DCGAN learning rate x batch size')

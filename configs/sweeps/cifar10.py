"""The GAN family on CIFAR-10 at CPU budgets (issue #16): one run per method, seed 0, Inception
FID / KID and precision / recall / density / coverage from 10,000 samples against the 10,000
test images (StudioGAN's protocol). The data is the approximate stand-in for CIFAR-10
(../shared/data/cifar10-approx/README.md): every table made from these runs says so.

  dcgan    configs/dcgan_cifar.py, 10,000 generator steps at batch 128 (~26 epochs);
  wgan     configs/wgan_cifar.py (clipping 0.01, RMSProp 5e-5), 2,000 generator steps =
           10,000 critic steps at batch 64;
  wgan_gp  configs/wgan_gp_cifar.py with the DCGAN-size networks, the critic's convolutions in
           im2col form (its gradient penalty ~5x faster on a CPU, results/benchmarks), 2,000
           generator steps = 10,000 critic steps at batch 64; the paper's linear decay of the
           learning rate follows the shorter run.

  GENJAX_DATA_DIR=../shared/data/cifar10-approx \\
    python launch/sweep.py --sweep=configs/sweeps/cifar10.py --root=runs/cifar10 --parallel=1
  python launch/report.py --root=runs/cifar10 --out=results/cifar10 --copy_runs

Cost on this project's 2-core CPU (results/benchmarks, idle, 2 threads): DCGAN 0.54-1.05 s/step
(1.5-3 h), WGAN and WGAN-GP (DCGAN-size, im2col) 0.77-1.6 s per generator step (0.5-1 h each),
and the Inception features at ~5 images/s: the test split's statistics once (~35 min, then
cached in eval.cache_dir) and ~35 min per run's 10,000 samples. Checkpoints every quarter of a
run, all kept (keep_checkpoints 5; the configs keep 3), so that
`launch/evaluate.py --workdir=RUN --all_checkpoints --config.eval.num_samples=2000
--evals_dir=RUN/evals_2000` draws the curves over training afterwards, in their own folder so
that eval.json keeps the 10,000-sample result (2,000 samples per point: FID biased upwards, as the
curves' caption must say), and `launch/plot.py --workdir=RUN --figure=progress,eval_curves` the
sample grids and the curves. The budgets are the order of magnitude the CPU allows; the papers'
(~100k generator steps) are for a GPU.
"""
from genjax.sweeps import Sweep

STEPS = {'dcgan': 10000, 'wgan': 2000, 'wgan_gp': 2000}
# StudioGAN's CIFAR-10 table (its README, September 2020): best FID over training, 10,000 samples
# against the 10,000 test images, as here, at its own budgets and networks: DCGAN 200k iterations
# at batch 64 (DCGAN networks); WGAN-WC and WGAN-GP 100k iterations of 5 critic steps, ResNet
# networks, Adam 2e-4 for both (WGAN-WC too, where the paper and configs/wgan_cifar.py use
# RMSProp 5e-5).
STUDIOGAN_FID = {'dcgan': 50.281, 'wgan': 160.856, 'wgan_gp': 25.883}


def _setting(method, config, **extra):
  steps = STEPS[method]
  return {'config': f'configs/{config}.py', 'method.name': method, 'train.num_steps': steps,
          'train.eval_every': steps // 4, 'train.checkpoint_every': steps // 4,
          'train.keep_checkpoints': 5, **extra}


def get_sweep():
  return Sweep(
      config='configs/dcgan_cifar.py',
      settings=[_setting('dcgan', 'dcgan_cifar'),
                _setting('wgan', 'wgan_cifar'),
                _setting('wgan_gp', 'wgan_gp_cifar', **{'model.generator': 'dcgan',
                                                        'model.discriminator': 'dcgan',
                                                        'model.conv_impl': 'im2col'})],
      seeds=(0,),
      columns={'method.name': 'method', 'train.num_steps': 'generator_steps'},
      metrics=('fid_inception', 'kid_inception', 'precision_inception', 'recall_inception',
               'density_inception', 'coverage_inception', 'num_samples'),
      eval_overrides={'num_samples': 10000},
      references={'studiogan_fid': [({'method.name': m}, fid) for m, fid in STUDIOGAN_FID.items()]},
      description='DCGAN, WGAN, WGAN-GP on approximate CIFAR-10 at CPU budgets, Inception FID '
                  'on 10,000 samples')

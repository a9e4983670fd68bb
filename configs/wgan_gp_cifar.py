"""WGAN-GP (Gulrajani et al. 2017) on CIFAR-10 with the paper's ResNet generator and critic,
lambda = 10, Adam(2e-4, 0, 0.9) decayed linearly to 0 over the run, n_critic = 5, batch 64, 100k
generator steps.

  python launch/train.py --config=configs/wgan_gp_cifar.py --workdir=/tmp/wgan_gp_cifar

The paper reports Inception Score 7.86 (unsupervised) at that budget, a GPU budget. The decay
follows train.num_steps: a shorter run decays to 0 at its own end.
`--config.model.generator=dcgan --config.model.discriminator=dcgan` gives the DCGAN-size variant;
on a CPU add `--config.model.conv_impl=im2col` (its gradient penalty ~5x faster there; the
ResNet critic's stride-1 convolutions gain nothing from it).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import adversarial_common as common  # noqa: E402


def get_config(variant=''):
  config = common.base('cifar10')
  config.method.update(name='wgan_gp', n_critic=5, gp_lambda=10.0)
  config.model.update(generator='resnet', discriminator='resnet', z_dim=128,
                      discriminator_norm='none')
  config.optim.update(g=common.adam(2e-4, 0.0, 0.9, 'linear'),
                      d=common.adam(2e-4, 0.0, 0.9, 'linear'))
  config.train.num_steps = 100000
  return common.apply_variant(config, variant)

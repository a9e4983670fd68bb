"""WGAN (Arjovsky et al. 2017) on MNIST: DCGAN networks, weight clipping c = 0.01, RMSProp(5e-5),
n_critic = 5, batch 64 (the paper's Algorithm 1).

  python launch/train.py --config=configs/wgan_mnist.py --workdir=/tmp/wgan_mnist

`test/wasserstein_estimate` (the critic's E[f(x)] - E[f(G(z))] on test images) should fall as the
samples improve.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import adversarial_common as common  # noqa: E402


def get_config(variant=''):
  config = common.base('mnist')
  config.method.update(name='wgan', n_critic=5, clip=0.01)
  config.optim.update(g=common.rmsprop(5e-5), d=common.rmsprop(5e-5))
  return common.apply_variant(config, variant)

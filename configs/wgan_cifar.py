"""WGAN (Arjovsky et al. 2017) on CIFAR-10: DCGAN networks, clipping 0.01, RMSProp(5e-5),
n_critic = 5, batch 64.

  python launch/train.py --config=configs/wgan_cifar.py --workdir=/tmp/wgan_cifar

Offline, add --config.data.source_dir=DIR (the CIFAR-10 binary or python archive). The paper's
budget (~100k generator steps, 500k critic steps) is for a GPU.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import adversarial_common as common  # noqa: E402


def get_config(variant=''):
  config = common.base('cifar10')
  config.method.update(name='wgan', n_critic=5, clip=0.01)
  config.optim.update(g=common.rmsprop(5e-5), d=common.rmsprop(5e-5))
  config.train.num_steps = 100000
  return common.apply_variant(config, variant)

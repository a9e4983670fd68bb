"""DCGAN (Radford et al. 2015) on CIFAR-10, 32x32x3.

  python launch/train.py --config=configs/dcgan_cifar.py --workdir=/tmp/dcgan_cifar

Generator: z(100) -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x3; discriminator: 64, 128, 256
stride-2 convs. Adam(2e-4, 0.5), batch 128. Paper-scale training (~100k steps) is for a GPU;
on a 2-core CPU this config runs a short budget (results/).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import adversarial_common as common  # noqa: E402


def get_config(variant=''):
  config = common.base('cifar10')
  config.method.name = 'dcgan'
  config.train.batch_size = 128
  config.train.num_steps = 100000
  return common.apply_variant(config, variant)

"""DCGAN (Radford et al. 2015) on MNIST, 28x28x1.

  python launch/train.py --config=configs/dcgan_mnist.py --workdir=/tmp/dcgan_mnist

Generator: z(100) -> 7x7x128 -> 14x14x64 -> 28x28x1 (BatchNorm + ReLU, tanh out); discriminator:
64 and 128 stride-2 4x4 convs (BatchNorm on the second), LeakyReLU 0.2; N(0, 0.02) weights;
Adam(2e-4, 0.5, 0.999), batch 128 as in the paper. About 0.2 s a step on a 2-core CPU.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import adversarial_common as common  # noqa: E402


def get_config(variant=''):
  config = common.base('mnist')
  config.method.name = 'dcgan'
  config.train.batch_size = 128
  return common.apply_variant(config, variant)

"""GAN (Goodfellow et al. 2014) on MNIST: MLP generator and discriminator.

  python launch/train.py --config=configs/gan_mnist.py --workdir=/tmp/gan_mnist

Generator 100-1200-1200-784 (ReLU, tanh), discriminator 784-240-240-1 (LeakyReLU 0.2 in place of
the paper's maxout). Adam(2e-4, 0.5) instead of the paper's SGD with momentum: it is what every
later GAN paper uses and it trains in minutes. `--config.method.generator_loss=minimax` gives the
saturating generator loss of the original minimax game. A few thousand steps give recognizable
digits on a 2-core CPU (results/adversarial_mnist/).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import adversarial_common as common  # noqa: E402


def get_config(variant=''):
  config = common.base('mnist')
  config.method.name = 'gan'
  config.model.update(generator='mlp', discriminator='mlp')
  return common.apply_variant(config, variant)

"""VAE on dynamically binarized MNIST: the IWAE paper's architectures trained on the k-sample
average ELBO (Burda et al. 2015, Table 1, "VAE" rows; k=1 is Kingma & Welling 2013).

  python launch/train.py --config=configs/vae_mnist.py --workdir=/tmp/vae_k1
  python launch/evaluate.py --workdir=/tmp/vae_k1

The paper reports test NLL (k=5000) 86.76 / 86.47 / 86.35 at k = 1 / 5 / 50 after 3280 epochs
(one stochastic layer). Same data, networks, optimizer and budget as configs/iwae_mnist.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import iwae_mnist  # noqa: E402


def get_config(variant=''):
  config = iwae_mnist.get_config(variant)
  config.method.name = 'vae'
  if not variant:
    config.method.k = 1
  return config

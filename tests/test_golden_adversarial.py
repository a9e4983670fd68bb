"""Golden values: one step of each adversarial smoke config on the first real test images.

If an intended change moves these numbers (initialization, noise layout, objective), update them
(`python tests/test_golden_adversarial.py` prints the current values) and say so in the commit
message; an unintended move is a regression.
"""
import importlib.util
import os
import sys

import jax
import numpy as np
import pytest

from genjax.data import raw
from genjax.experiments.adversarial import IMAGE_SHAPES, build_spec, to_signed_unit
from genjax.experiments.likelihood import run_keys
from genjax.methods import adversarial

pytestmark = pytest.mark.slow  # compiles each adversarial step, CIFAR ResNet included

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (metrics of the step, sum of |G's parameters| after it); printed by __main__ below.
GOLDEN = {
    'gan_mnist': ({'d_fake': 0.46159157156944275, 'd_loss': 1.2434582710266113, 'd_real': 0.5410967469215393, 'g_loss': 0.8487236499786377}, 66370.22394195628),
    'dcgan_mnist': ({'d_fake': 0.4995054304599762, 'd_loss': 1.2723138332366943, 'd_real': 0.5637404918670654, 'g_loss': 0.7096874713897705}, 2609.4074690583298),
    'wgan_mnist': ({'d_loss': -0.05261608958244324, 'g_loss': 2.8283087885938585e-05, 'wasserstein_estimate': 0.05261608958244324}, 2608.9062723371717),
    'wgan_gp_mnist': ({'d_loss': 9.899561882019043, 'g_loss': 0.00010615753126330674, 'gradient_penalty': 0.9901033639907837, 'wasserstein_estimate': 0.0014714141143485904}, 2609.1177193158064),
    'infogan_mnist': ({'d_fake': 0.4814358055591583, 'd_info_loss': 2.712052345275879, 'd_loss': 4.17664098739624, 'd_real': 0.4859871566295624, 'g_info_loss': 2.5894250869750977, 'g_loss': 3.34747052192688}, 182090.86023675135),
    'dcgan_cifar': ({'d_fake': 0.5513473749160767, 'd_loss': 1.4406907558441162, 'd_real': 0.5363335609436035, 'g_loss': 0.7072333693504333}, 2023.4251230997345),
    'wgan_cifar': ({'d_loss': 0.012292721308767796, 'g_loss': 2.1292780729709193e-05, 'wasserstein_estimate': -0.012292721308767796}, 2023.037805890994),
    'wgan_gp_cifar': ({'d_loss': 5.650157451629639, 'g_loss': 9.301517486572266, 'gradient_penalty': 0.7549363970756531, 'wasserstein_estimate': 1.8992067575454712}, 44988.788484571865),
}


def one_step(name, data_dir):
  spec_file = importlib.util.spec_from_file_location(name, os.path.join(REPO, 'configs', name + '.py'))
  module = importlib.util.module_from_spec(spec_file)
  spec_file.loader.exec_module(module)
  config = module.get_config('smoke')
  spec = build_spec(config)
  shape = IMAGE_SHAPES[config.data.name]
  reader = raw.read_mnist if config.data.name == 'mnist' else raw.read_cifar10
  n, batch = spec.n_critic, config.train.batch_size
  images, _ = reader(data_dir, 'test')
  real = to_signed_unit(images[:n * batch]).reshape((n, batch) + shape)
  init_key, _, train_key, _ = run_keys(config.seed)
  state = adversarial.init_state(spec, init_key, shape)
  state, metrics = jax.jit(adversarial.make_train_step(spec))(state, real, train_key)
  g_sum = sum(float(np.sum(np.abs(np.asarray(l, np.float64)))) for l in jax.tree.leaves(state.g.params))
  return {k: float(v) for k, v in metrics.items()}, g_sum


@pytest.mark.parametrize('name', ['gan_mnist', 'dcgan_mnist', 'wgan_mnist', 'wgan_gp_mnist',
                                  'infogan_mnist', 'dcgan_cifar', 'wgan_cifar', 'wgan_gp_cifar'])
def test_one_smoke_step_matches_golden_values(name, mnist_dir, cifar_dir):
  metrics, g_abs_sum = one_step(name, cifar_dir if name.endswith('cifar') else mnist_dir)
  golden_metrics, golden_sum = GOLDEN[name]
  assert sorted(metrics) == sorted(golden_metrics)
  for key, value in golden_metrics.items():
    np.testing.assert_allclose(metrics[key], value, rtol=1e-4, atol=1e-6, err_msg=key)
  np.testing.assert_allclose(g_abs_sum, golden_sum, rtol=1e-5)


if __name__ == '__main__':
  data = os.environ.get('GENJAX_TEST_DATA', os.path.join(REPO, '..', 'shared', 'data'))
  for config_name in sys.argv[1:]:
    d = os.path.join(data, 'cifar10-approx' if config_name.endswith('cifar') else 'mnist')
    print(f'    {config_name!r}: {one_step(config_name, d)!r},')

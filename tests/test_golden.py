"""Golden values: one step of the smoke config on the first 100 real MNIST test images.

If an intended change moves these numbers (initialization, noise layout, objective), update them
and say so in the commit message; an unintended move is a regression.
"""
import os
import sys

import jax
import numpy as np
import pytest

from genjax.data import on_device, raw
from genjax.methods import iwae
from genjax.experiments.likelihood import run_keys
from tests.conftest import REPO

sys.path.insert(0, os.path.join(REPO, 'configs'))
import iwae_mnist  # noqa: E402

GOLDEN = {'elbo': -569.0550537109375, 'iwae_bound': -559.4366455078125, 'loss': 559.4366455078125}
GOLDEN_PARAM_ABS_SUM = 19457.266258494048


@pytest.mark.slow  # compiles the IWAE smoke step: 10 s of CPU
def test_one_smoke_step_matches_golden_values(mnist_dir):
  config = iwae_mnist.get_config('smoke')
  images, _ = raw.read_mnist(mnist_dir, 'test')
  x = on_device.binarized_test_set(on_device.to_unit_interval(images[:100]))
  model = iwae.build_model(config.model)
  tx = iwae.make_optimizer(config.optim, steps_per_epoch=600)
  state = iwae.create_train_state(run_keys(config.seed)[0], model, tx)
  step = jax.jit(iwae.make_train_step(model, config.method.name, config.method.k))
  state, metrics = step(state, x, run_keys(config.seed)[2])
  for name, value in GOLDEN.items():
    np.testing.assert_allclose(float(metrics[name]), value, rtol=1e-5)
  abs_sum = sum(np.sum(np.abs(np.asarray(l, np.float64))) for l in jax.tree.leaves(state.params))
  np.testing.assert_allclose(abs_sum, GOLDEN_PARAM_ABS_SUM, rtol=1e-6)

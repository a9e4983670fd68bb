"""train.compute_dtype: bfloat16 activations, matrix products and convolutions with float32
parameters, BatchNorm statistics, losses and optimizer state; float32 (the default) is the
computation of before the option existed (tests/test_golden*.py hold it to the stored numbers)."""
import json
import os
import subprocess
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from genjax import configs_check
from genjax.errors import CheckpointError, ConfigError
from genjax.experiments.adversarial import IMAGE_SHAPES, build_spec, to_signed_unit
from genjax.experiments.likelihood import run_keys
from genjax.methods import adversarial, iwae
from genjax.models import layers
from tests.conftest import REPO
from tests.test_adversarial_train import smoke_config

SLOW = pytest.mark.slow


def test_the_fast_check_names_what_the_layers_implement():
  assert configs_check.COMPUTE_DTYPES == layers.COMPUTE_DTYPES
  assert layers.compute_dtype('float32') is None  # flax's default: no cast anywhere
  assert layers.compute_dtype('bfloat16') == jnp.bfloat16


@pytest.mark.parametrize('name', ['dcgan_cifar', 'iwae_mnist', 'gan_mnist'])
def test_shipped_configs_default_to_float32(name):
  assert smoke_config(name, None, None).train.compute_dtype == 'float32'


@pytest.mark.parametrize('name', ['wgan_gp_cifar', 'vae_mnist'])
@pytest.mark.parametrize('value', ['float16', 'bf16', 'FLOAT32'])
def test_other_values_are_refused_with_one_line(name, value):
  config = smoke_config(name, None, None)
  config.train.compute_dtype = value
  with pytest.raises(ConfigError) as error:
    configs_check.validate_config(config)
  message = str(error.value)
  assert message.startswith(f'train.compute_dtype={value!r}') and '\n' not in message
  config.train.compute_dtype = 'bfloat16'
  configs_check.validate_config(config)  # the two accepted values pass


def test_the_command_line_refuses_a_bad_value_in_one_line(tmp_path):
  result = subprocess.run(
      [sys.executable, os.path.join(REPO, 'launch', 'train.py'),
       '--config=' + os.path.join(REPO, 'configs', 'dcgan_mnist.py') + ':smoke',
       f'--workdir={tmp_path / "run"}', '--config.train.compute_dtype=float16'],
      capture_output=True, text=True, timeout=300, cwd=REPO)
  output = result.stdout + result.stderr
  assert result.returncode != 0
  assert 'Traceback' not in output, output[-2000:]
  errors = [line for line in output.splitlines() if line.startswith('error: ')]
  assert len(errors) == 1 and 'train.compute_dtype=' in errors[0], output[-2000:]
  assert not (tmp_path / 'run' / 'config.json').exists()


def test_a_run_saved_before_the_field_resumes_and_a_changed_dtype_is_refused(tmp_path):
  config = smoke_config('dcgan_mnist', None, None)
  saved = json.loads(config.to_json_best_effort())
  del saved['train']['compute_dtype']  # a config.json written before the field existed
  (tmp_path / 'config.json').write_text(json.dumps(saved))
  configs_check.check_resumable(config, str(tmp_path))  # float32: what that run computed
  config.train.compute_dtype = 'bfloat16'
  with pytest.raises(CheckpointError, match='train.compute_dtype'):
    configs_check.check_resumable(config, str(tmp_path))


@pytest.mark.parametrize('make_ours, make_reference, shape', [
    # the layers' own bfloat16 path against flax's float32 layers (an independent computation)
    (lambda d: layers.SubPixelConvTranspose(6, dtype=d),
     lambda: nn.ConvTranspose(6, (4, 4), strides=(2, 2), padding='SAME'), (2, 5, 5, 3)),
    (lambda d: layers.Im2colConv(6, (4, 4), (2, 2), dtype=d),
     lambda: nn.Conv(6, (4, 4), strides=(2, 2), padding='SAME'), (2, 8, 8, 3)),
])
def test_layers_compute_in_bfloat16_from_float32_parameters(make_ours, make_reference, shape):
  x = jax.random.normal(jax.random.key(1), shape)
  params = make_ours(None).init(jax.random.key(0), x)
  assert {l.dtype for l in jax.tree.leaves(params)} == {jnp.dtype(jnp.float32)}
  params_bf16 = make_ours(jnp.bfloat16).init(jax.random.key(0), x)
  assert jax.tree.all(jax.tree.map(lambda a, b: a.dtype == b.dtype and bool(jnp.all(a == b)),
                                   params, params_bf16))  # same float32 parameters
  reference = make_reference().apply(params, x)
  y = make_ours(jnp.bfloat16).apply(params, x)
  assert y.dtype == jnp.bfloat16
  error = float(jnp.max(jnp.abs(y.astype(jnp.float32) - reference)))
  scale = float(jnp.max(jnp.abs(reference)))
  assert 0 < error < 0.02 * scale  # bfloat16's 8-bit mantissa: ~0.4% per rounding
  y32 = make_ours(None).apply(params, x)
  np.testing.assert_allclose(y32, reference, rtol=1e-5, atol=1e-5)


def _adversarial_step(name, data_dir, dtype):
  config = smoke_config(name, None, None)
  config.train.compute_dtype = dtype
  spec = build_spec(config)
  shape = IMAGE_SHAPES[config.data.name]
  from genjax.data import raw
  images, _ = raw.read_mnist(data_dir, 'test')
  n, b = spec.n_critic, config.train.batch_size
  real = to_signed_unit(images[:n * b]).reshape((n, b) + shape)
  init_key, _, train_key, _ = run_keys(config.seed)
  state = adversarial.init_state(spec, init_key, shape)
  step = jax.jit(adversarial.make_train_step(spec))
  hlo = step.lower(state, real, train_key).as_text()
  new_state, metrics = step(state, real, train_key)
  samples = adversarial.generate(spec, new_state, jnp.zeros((2, spec.z_dim)))
  return state, new_state, {k: float(v) for k, v in metrics.items()}, hlo, samples


def _float32_everywhere(tree):
  return {str(l.dtype) for l in jax.tree.leaves(tree) if jnp.issubdtype(l.dtype, jnp.floating)} \
      == {'float32'}


# Relative agreement of one step's losses and D outputs: bfloat16 rounds each activation to ~0.4%
# (8-bit mantissa); measured on CPU, the first step's metrics move by 0.7e-4..2.2e-4 (MLP GAN) and
# 1.6e-4..8.2e-4 (DCGAN) relative. Parameters updated in bfloat16 would not show here within one
# step, so the dtypes are checked directly.
LOSS_RTOL = 0.01


@pytest.mark.parametrize('name', ['gan_mnist', pytest.param('dcgan_mnist', marks=SLOW)])
def test_a_bfloat16_adversarial_step_keeps_float32_state_and_close_losses(name, mnist_dir):
  _, _, metrics32, hlo32, _ = _adversarial_step(name, mnist_dir, 'float32')
  state, new_state, metrics16, hlo16, samples = _adversarial_step(name, mnist_dir, 'bfloat16')
  assert 'bf16' not in hlo32 and 'bf16' in hlo16  # the option reaches the compiled step
  # parameters, optimizer moments, BatchNorm statistics and EMA weights: float32 before and after
  assert _float32_everywhere(state) and _float32_everywhere(new_state)
  assert samples.dtype == jnp.float32
  assert sorted(metrics16) == sorted(metrics32)
  differs = False
  for key, value in metrics32.items():
    assert np.isfinite(metrics16[key]), key
    np.testing.assert_allclose(metrics16[key], value, rtol=LOSS_RTOL, err_msg=key)
    differs |= metrics16[key] != value
  assert differs  # bfloat16 rounding shows: the two runs are not one computation


@SLOW  # compiles the IWAE smoke step twice
def test_a_bfloat16_iwae_step_keeps_float32_state_and_a_close_bound(mnist_dir):
  from genjax.data import on_device, raw
  config = smoke_config('iwae_mnist', None, None)
  images, _ = raw.read_mnist(mnist_dir, 'test')
  x = on_device.binarized_test_set(on_device.to_unit_interval(images[:100]))
  out = {}
  for dtype in ('float32', 'bfloat16'):
    model = iwae.build_model(config.model, dtype)
    tx = iwae.make_optimizer(config.optim, steps_per_epoch=600)
    state = iwae.create_train_state(run_keys(config.seed)[0], model, tx)
    step = jax.jit(iwae.make_train_step(model, config.method.name, config.method.k))
    hlo = step.lower(state, x, run_keys(config.seed)[2]).as_text()
    new_state, metrics = step(state, x, run_keys(config.seed)[2])
    assert _float32_everywhere(new_state.params) and _float32_everywhere(new_state.opt_state)
    log_w = model.apply({'params': new_state.params}, x[:4], jax.random.key(3), 2)
    assert log_w.dtype == jnp.float32
    out[dtype] = ({k: float(v) for k, v in metrics.items()}, hlo)
  (m32, hlo32), (m16, hlo16) = out['float32'], out['bfloat16']
  assert 'bf16' not in hlo32 and 'bf16' in hlo16
  for key in ('elbo', 'iwae_bound', 'loss'):
    # ~560 nats summed over 784 pixels from bfloat16 hidden layers (float32 heads and
    # log-probabilities): measured 4e-6..7e-6 relative on CPU
    np.testing.assert_allclose(m16[key], m32[key], rtol=1e-3, err_msg=key)
  assert m16['loss'] != m32['loss']

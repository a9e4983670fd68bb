"""The adversarial step: one compilation, right loss signs, clipping, InfoGAN's shared trunk."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from genjax.methods import adversarial as A
from genjax.models import gan_nets as N


def _spec(method, **kw):
  d = N.DCGANDiscriminator(8, 'none' if method == 'wgan_gp' else 'batch')
  if method == 'infogan':
    d = A.WithQHead(d, A.QHead())
  opt = optax.rmsprop(5e-5) if method == 'wgan' else optax.adam(2e-4, 0.5)
  return A.Spec(method, N.DCGANGenerator((28, 28, 1), 8), d, opt, opt, z_dim=16, **kw)


def _real(n_critic, batch=8, seed=0):
  return jax.random.uniform(jax.random.key(seed), (n_critic, batch, 28, 28, 1)) * 2 - 1


# Each test here compiles a DCGAN train step: 10-35 s of CPU apiece. The fast tier keeps one (WGAN-GP,
# n_critic 2: both players, the critic loop, the penalty); the losses are checked against
# independent computations in test_adversarial_losses.py.
SLOW = pytest.mark.slow


@pytest.mark.parametrize('method,n_critic', [
    pytest.param('dcgan', 1, marks=SLOW), pytest.param('wgan', 3, marks=SLOW),
    pytest.param('wgan_gp', 2, marks=SLOW),  # 17 s to compile the double backward
    pytest.param('infogan', 1, marks=SLOW)])
def test_step_compiles_once_and_updates_both_players(method, n_critic):
  spec = _spec(method, n_critic=n_critic, ema_decay=0.9)
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  chex.clear_trace_counter()
  step = jax.jit(chex.assert_max_traces(A.make_train_step(spec), n=1))
  new, metrics = step(state, _real(n_critic), jax.random.key(1))
  new, metrics = step(new, _real(n_critic, seed=1), jax.random.key(1))
  chex.assert_tree_all_finite(metrics)
  assert int(new.step) == 2
  for player in ('g', 'd'):
    before = jax.tree.leaves(getattr(state, player).params)
    after = jax.tree.leaves(getattr(new, player).params)
    assert any(not np.allclose(a, b) for a, b in zip(before, after)), player
  # EMA moved towards the new generator weights, but is not them
  g0, g2, e2 = (jax.tree.leaves(t)[0] for t in (state.g.params, new.g.params, new.ema_params))
  assert not np.allclose(e2, g2) and not np.allclose(e2, g0)


@SLOW
def test_ema_keeps_decay_of_the_old_average_and_the_rest_of_the_new_weights():
  """ema_1 = decay * ema_0 + (1 - decay) * g_1 with ema_0 = g_0: an inverted decay fails."""
  spec = _spec('dcgan', ema_decay=0.9)
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  new, _ = jax.jit(A.make_train_step(spec))(state, _real(1), jax.random.key(1))
  for g0, g1, e1 in zip(*(jax.tree.leaves(t) for t in (state.g.params, new.g.params,
                                                        new.ema_params))):
    np.testing.assert_allclose(e1, 0.9 * g0 + 0.1 * g1, rtol=1e-5, atol=1e-7)
  moved = [float(jnp.max(jnp.abs(g1 - g0))) for g0, g1 in zip(
      jax.tree.leaves(state.g.params), jax.tree.leaves(new.g.params))]
  assert max(moved) > 1e-5  # the generator moved, so the check above has teeth


@SLOW
def test_critic_steps_raise_the_wasserstein_gap_and_clipping_holds():
  spec = _spec('wgan', n_critic=5, clip=0.01)
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  # start inside the clipping box, so the gap compares updates, not the first clip
  state = state.replace(d=state.d.replace(params=A.L.clip_weights(state.d.params, 0.01)))
  real = jnp.broadcast_to(_real(1)[0], (5, 8, 28, 28, 1))  # the same real batch 5 times
  gap = lambda d: float(-A.critic_loss(spec, d.params, d, state.g, real[0], jax.random.key(9))[0])
  before = gap(state.d)
  new, _ = jax.jit(A.make_train_step(spec))(state, real, jax.random.key(3))
  assert gap(new.d) > before
  for w in jax.tree.leaves(new.d.params):
    assert float(jnp.max(jnp.abs(w))) <= 0.01 + 1e-7


@SLOW
def test_gan_discriminator_step_raises_d_real_minus_d_fake():
  spec = _spec('dcgan')
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  real = _real(1)
  gap = lambda d: float(-A.critic_loss(spec, d.params, d, state.g, real[0], jax.random.key(9))[0])
  new, _ = jax.jit(A.make_train_step(spec))(state, real, jax.random.key(3))
  assert gap(new.d) > gap(state.d)


@SLOW
def test_info_term_reaches_generator_q_head_and_shared_trunk():
  spec = _spec('infogan')
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  key = jax.random.key(4)

  def info_only(g_params, d_params):
    latents, codes = A.sample_latents(spec, key, 8)
    fake, _ = A._apply(spec.generator, state.g, latents, True, params=g_params)
    (_, q), _ = A._apply(spec.discriminator, state.d, fake, True, params=d_params)
    from genjax.methods.adversarial_losses import info_loss
    return info_loss(*codes, *q)

  g_grads, d_grads = jax.grad(info_only, argnums=(0, 1))(state.g.params, state.d.params)
  norm = lambda t: float(sum(jnp.sum(x ** 2) for x in jax.tree.leaves(t)))
  assert norm(g_grads) > 0
  assert norm(d_grads['q_head']) > 0
  assert norm(d_grads['trunk']['Conv_0']) > 0  # the shared trunk learns from the MI term
  # ...and the discriminator's update applies it: the D loss includes the info term
  _, (_, metrics) = A.critic_loss(spec, state.d.params, state.d, state.g, _real(1)[0], key)
  assert float(metrics['d_info_loss']) > 0


@SLOW
def test_sampling_uses_running_batch_norm_statistics():
  spec = _spec('dcgan')
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  z, _ = A.sample_latents(spec, jax.random.key(1), 6)
  one_by_one = jnp.concatenate([A.generate(spec, state, z[i:i + 1]) for i in range(6)])
  np.testing.assert_allclose(one_by_one, A.generate(spec, state, z), atol=1e-5)


def _critic_grads(spec, state, key):
  return jax.grad(lambda p: A.critic_loss(spec, p, state.d, state.g, _real(1)[0], key)[0])(
      state.d.params)


@SLOW
def test_info_term_can_leave_the_trunk_to_the_gan_loss():
  key = jax.random.key(5)
  detached = _spec('infogan', info_updates_trunk=False)
  state = A.init_state(detached, jax.random.key(0), (28, 28, 1))
  without_info = _spec('infogan', lambda_cat=0.0, lambda_cont=0.0)
  g_detached = _critic_grads(detached, state, key)
  g_gan_only = _critic_grads(without_info, state, key)
  g_shared = _critic_grads(_spec('infogan'), state, key)
  # the trunk moves exactly as under the GAN loss alone; with the default it does not
  chex.assert_trees_all_close(g_detached['trunk'], g_gan_only['trunk'], atol=1e-6)
  differs = lambda a, b: any(not np.allclose(x, y, atol=1e-6)
                             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
  assert differs(g_shared['trunk'], g_gan_only['trunk'])
  # ...while Q's own layers still learn the MI term
  assert float(sum(jnp.sum(x ** 2) for x in jax.tree.leaves(g_detached['q_head']))) > 0


@SLOW
@pytest.mark.parametrize('prior', ['normal', 'uniform'])
def test_noise_prior(prior):
  spec = _spec('infogan', z_prior=prior)
  latents, (cat, cont) = A.sample_latents(spec, jax.random.key(2), 4000)
  z = np.asarray(latents[:, :spec.z_dim])
  assert abs(z.var() - (1.0 if prior == 'normal' else 1 / 3)) < 0.02
  assert (np.abs(z).max() <= 1.0) == (prior == 'uniform')
  np.testing.assert_array_equal(np.asarray(latents[:, spec.z_dim:spec.z_dim + 10]),
                                np.eye(10)[np.asarray(cat)])
  with pytest.raises(ValueError, match='z_prior'):
    _spec('infogan', z_prior='gaussian')


@SLOW
def test_discriminator_evaluates_on_batch_statistics_of_its_input():
  """D's BN running averages mix real and generated batches; evaluation normalizes each batch
  by its own statistics, as D saw it in training, and leaves the averages alone."""
  spec = _spec('dcgan')
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  x = _real(1)[0]
  expected, _ = A._apply(spec.discriminator, state.d, x, train=True)
  np.testing.assert_allclose(A.discriminate(spec, state, x), expected[0], rtol=1e-6)
  running, _ = A._apply(spec.discriminator, state.d, x, train=False)
  assert not np.allclose(A.discriminate(spec, state, x), running[0], atol=1e-3)


# ---- augmentation (genjax/data/augment.py) in the step -----------------------------------------
# Small MLP players (a step compiles in ~5 s); the fast tier keeps the default-step check on
# DCGAN's loss and the zero-range InfoGAN check, which also runs the warps and consistency term.
from genjax.data import augment as aug  # noqa: E402


def _mlp_spec(method, **kw):
  d = N.MLPDiscriminator(hidden=(32,))
  if method == 'infogan':
    d = A.WithQHead(d, A.QHead())
  opt = optax.adam(1e-3, 0.5)
  return A.Spec(method, N.MLPGenerator((28, 28, 1), hidden=(32,)), d, opt, opt, z_dim=8, **kw)


def _step(spec, seed=0):
  state = A.init_state(spec, jax.random.key(0), (28, 28, 1))
  return jax.jit(A.make_train_step(spec))(state, _real(spec.n_critic, seed=seed),
                                          jax.random.key(1))


def _same(a, b, **tol):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    if tol:
      np.testing.assert_allclose(np.asarray(x), np.asarray(y), **tol)
    else:
      np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize('method', [pytest.param('dcgan', marks=SLOW),  # 8 s; and golden
                                    pytest.param('infogan', marks=SLOW)])
def test_no_augmentation_is_the_default_step(method):
  default = _step(_mlp_spec(method))
  explicit = _step(_mlp_spec(method, augment='none', augment_max_shift=3, info_consistency=0.0,
                             **({'info_augment': 'none'} if method == 'infogan' else {})))
  _same(default, explicit)
  # ...and the comparison can fail: augmenting the real images changes the step
  translated = _step(_mlp_spec(method, augment='translation'))
  assert not np.allclose(translated[1]['d_loss'], default[1]['d_loss'])


def _augment_key(key, use):
  """The documented derivation: split(fold_in(loss key, AUGMENT_FOLD), 4)[use], use 0 real,
  1 fake, 2 InfoGAN's warp, 3 the consistency warps."""
  return jax.random.split(jax.random.fold_in(key, A.AUGMENT_FOLD), 4)[use]


def _g_loss_and_grads(spec, state, key):
  (loss, _), grads = jax.value_and_grad(
      lambda p: A.generator_loss(spec, p, state.g, state.d, key, 8), has_aux=True)(state.g.params)
  return float(loss), grads


@pytest.mark.slow  # 5 s; tests/data/test_augment.py checks translate itself
def test_translation_shifts_only_the_real_images():
  plain, shifted = _mlp_spec('dcgan'), _mlp_spec('dcgan', augment='translation')
  state = A.init_state(plain, jax.random.key(0), (28, 28, 1))
  key, real = jax.random.key(2), _real(1)[0]
  # G's loss and gradient: fakes untouched
  loss_plain, grads_plain = _g_loss_and_grads(plain, state, key)
  loss_shifted, grads_shifted = _g_loss_and_grads(shifted, state, key)
  assert loss_shifted == loss_plain
  _same(grads_shifted, grads_plain)
  # D's loss: exactly the plain loss on the real batch shifted by translate(), same fakes
  d_loss = lambda spec, x: float(A.critic_loss(spec, state.d.params, state.d, state.g, x, key)[0])
  moved = aug.translate(_augment_key(key, 0), real, 2)
  assert not np.allclose(moved, real)
  np.testing.assert_allclose(d_loss(shifted, real), d_loss(plain, moved), rtol=1e-6)
  assert d_loss(shifted, real) != d_loss(plain, real)


def test_diffaugment_trains_the_generator_through_t():
  plain, augmented = _mlp_spec('dcgan'), _mlp_spec('dcgan', augment='diffaugment')
  state = A.init_state(plain, jax.random.key(0), (28, 28, 1))
  key = jax.random.key(3)
  loss_plain, grads_plain = _g_loss_and_grads(plain, state, key)
  loss_aug, grads_aug = _g_loss_and_grads(augmented, state, key)
  norm = lambda t: float(sum(jnp.sum(x ** 2) for x in jax.tree.leaves(t)))
  assert norm(grads_aug) > 0
  assert not all(np.allclose(a, b) for a, b in zip(jax.tree.leaves(grads_aug),
                                                   jax.tree.leaves(grads_plain)))
  # the loss is D on T(G(z)), T drawn from the fake-image key
  latents, _ = A.sample_latents(plain, key, 8)
  fake = A._apply(plain.generator, state.g, latents, True)[0]
  logits = A._apply(plain.discriminator, state.d,
                    aug.diffaugment(_augment_key(key, 1), fake), True)[0][0]
  np.testing.assert_allclose(loss_aug, float(A.L.gan_generator_loss(logits)), rtol=1e-6)
  assert loss_aug != loss_plain


def test_diffaugment_keeps_the_gradient_penalty_on_unaugmented_interpolates():
  plain, augmented = _mlp_spec('wgan_gp'), _mlp_spec('wgan_gp', augment='diffaugment')
  state = A.init_state(plain, jax.random.key(0), (28, 28, 1))
  key, real = jax.random.key(4), _real(1)[0]
  metrics = lambda spec: A.critic_loss(spec, state.d.params, state.d, state.g, real, key)[1][1]
  m_plain, m_aug = metrics(plain), metrics(augmented)
  np.testing.assert_allclose(m_aug['gradient_penalty'], m_plain['gradient_penalty'], rtol=1e-6)
  assert float(m_aug['wasserstein_estimate']) != float(m_plain['wasserstein_estimate'])


@SLOW
def test_infogan_affine_step_runs_and_logs_consistency():
  spec = _mlp_spec('infogan', info_augment='affine', info_consistency=1.0)
  state, metrics = _step(spec)
  chex.assert_tree_all_finite((state, metrics))
  assert set(metrics) >= {'d_info_loss', 'g_info_loss', 'd_consistency'}
  assert float(metrics['d_consistency']) > 0  # two different warps: Q disagrees a little
  plain = _step(_mlp_spec('infogan'))[1]
  assert float(metrics['g_info_loss']) != float(plain['g_info_loss'])  # Q read warped images


@pytest.mark.slow  # 16 s; the fast tier keeps the affine step test
def test_infogan_affine_with_zero_ranges_is_plain_infogan():
  zero = dict(info_affine_rotate=0.0, info_affine_shear=0.0, info_affine_scale=0.0,
              info_affine_shift=0.0)
  plain = _step(_mlp_spec('infogan'))
  _same(_step(_mlp_spec('infogan', info_augment='affine', **zero)), plain, rtol=1e-5, atol=1e-6)
  # two identity warps agree exactly: the consistency term is 0 and changes nothing
  state, metrics = _step(_mlp_spec('infogan', info_augment='affine', info_consistency=1.0, **zero))
  np.testing.assert_allclose(metrics['d_consistency'], 0.0, atol=1e-6)
  _same(state, plain[0], rtol=1e-5, atol=1e-6)


def test_symmetric_kl_against_numpy():
  a, b = np.random.RandomState(0).randn(2, 5, 4)
  p, q = (np.exp(t) / np.exp(t).sum(-1, keepdims=True) for t in (a, b))
  expected = np.mean(0.5 * (np.sum(p * np.log(p / q), -1) + np.sum(q * np.log(q / p), -1)))
  np.testing.assert_allclose(float(A.L.symmetric_kl(a, b)), expected, rtol=1e-5)
  np.testing.assert_allclose(float(A.L.symmetric_kl(a, a + 3.0)), 0.0, atol=1e-6)


def _config(name):
  import importlib.util
  import os
  path = os.path.join(os.path.dirname(__file__), '..', '..', 'configs', name + '.py')
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config('smoke')


@pytest.mark.parametrize('name,field,value,message', [
    ('dcgan_mnist', 'data.augment', 'flip', 'data.augment'),
    ('dcgan_mnist', 'data.augment_max_shift', -1, 'data.augment_max_shift'),
    ('infogan_mnist', 'method.info_augment', 'elastic', 'method.info_augment'),
    ('infogan_mnist', 'method.info_affine_rotate', -5.0, 'method.info_affine_rotate'),
    ('infogan_mnist', 'method.info_affine_scale', 1.0, 'method.info_affine_scale'),
    ('infogan_mnist', 'method.info_consistency', -1.0, 'method.info_consistency'),
    ('dcgan_mnist', 'method.info_augment', 'affine', "InfoGAN's Q head"),
    ('wgan_gp_mnist', 'method.info_consistency', 1.0, "InfoGAN's Q head"),
])
def test_augmentation_settings_that_cannot_work_are_refused(name, field, value, message):
  from genjax.configs_check import validate_adversarial
  from genjax.errors import ConfigError
  config = _config(name)
  validate_adversarial(config)
  group, key = field.split('.')
  config[group][key] = value
  with pytest.raises(ConfigError, match=message):
    validate_adversarial(config)


def test_build_spec_reads_augmentation_and_old_configs_without_it():
  from genjax.experiments.adversarial import build_spec
  config = _config('infogan_mnist')
  config.data.augment, config.method.info_augment, config.method.info_consistency = (
      'diffaugment', 'affine', 1.0)
  spec = build_spec(config)
  assert (spec.augment, spec.info_augment, spec.info_consistency) == ('diffaugment', 'affine', 1.0)
  for group, keys in (('data', ('augment', 'augment_max_shift')),
                      ('method', ('info_augment', 'info_affine_rotate', 'info_affine_shear',
                                  'info_affine_scale', 'info_affine_shift', 'info_consistency'))):
    for key in keys:
      del config[group][key]
  old = build_spec(config)
  assert (old.augment, old.info_augment, old.info_consistency) == ('none', 'none', 0.0)

"""The objectives of GAN, WGAN, WGAN-GP and InfoGAN, in the notation of docs/methods.md.

D_psi(x) is the discriminator's logit (GAN) or the critic's value f_psi(x) (WGAN); every loss here
is *minimized* by its player. Shape suffixes: B batch, H/W/C image, K codes.
"""
import jax
import jax.numpy as jnp

LOG_2PI = jnp.log(2.0 * jnp.pi)


# --- GAN (Goodfellow et al. 2014) -------------------------------------------------------------
def gan_discriminator_loss(real_logits_B, fake_logits_B):
  """-E[log D(x)] - E[log(1 - D(G(z)))], with D = sigmoid(logit)."""
  return jnp.mean(jax.nn.softplus(-real_logits_B)) + jnp.mean(jax.nn.softplus(fake_logits_B))


def gan_generator_loss(fake_logits_B, kind='non_saturating'):
  """'minimax': E[log(1 - D(G(z)))] (the game's value; saturates when D wins early).
  'non_saturating': -E[log D(G(z))] (same fixed point, strong gradients early)."""
  if kind == 'minimax':
    return -jnp.mean(jax.nn.softplus(fake_logits_B))
  if kind == 'non_saturating':
    return jnp.mean(jax.nn.softplus(-fake_logits_B))
  raise ValueError(f'generator loss must be minimax or non_saturating, got {kind!r}')


# --- WGAN (Arjovsky et al. 2017) --------------------------------------------------------------
def wasserstein_estimate(real_values_B, fake_values_B):
  """E[f(x)] - E[f(G(z))]: the critic's estimate of W_1 (up to the Lipschitz constant)."""
  return jnp.mean(real_values_B) - jnp.mean(fake_values_B)


def wgan_critic_loss(real_values_B, fake_values_B):
  return -wasserstein_estimate(real_values_B, fake_values_B)


def wgan_generator_loss(fake_values_B):
  return -jnp.mean(fake_values_B)


def clip_weights(params, c):
  """Weight clipping to [-c, c]: a crude way to keep f_psi K-Lipschitz."""
  return jax.tree.map(lambda w: jnp.clip(w, -c, c), params)


# --- WGAN-GP (Gulrajani et al. 2017) ----------------------------------------------------------
def interpolates(key, real_BHWC, fake_BHWC):
  """x_hat = alpha x + (1 - alpha) G(z), one alpha ~ U[0, 1] per example (shape B,1,1,1)."""
  alpha_B111 = jax.random.uniform(key, (real_BHWC.shape[0],) + (1,) * (real_BHWC.ndim - 1))
  return alpha_B111 * real_BHWC + (1.0 - alpha_B111) * fake_BHWC, alpha_B111


def gradient_penalty(critic_fn, x_hat_BHWC):
  """E[(||grad_x f(x_hat)||_2 - 1)^2], the norm over all non-batch axes of each example.

  `critic_fn` maps a batch to per-example values and must not mix examples (no BatchNorm), so
  the gradient of their sum is each example's own gradient.
  """
  grads = jax.grad(lambda x: jnp.sum(critic_fn(x)))(x_hat_BHWC)
  norms_B = jnp.sqrt(jnp.sum(grads ** 2, axis=tuple(range(1, grads.ndim))) + 1e-12)
  return jnp.mean((norms_B - 1.0) ** 2)


# --- InfoGAN (Chen et al. 2016) ---------------------------------------------------------------
def sample_codes(key, batch, num_categories=10, num_continuous=2):
  """c = (one categorical code, uniform(-1, 1) continuous codes), as in the paper's MNIST run."""
  k_cat, k_cont = jax.random.split(key)
  cat_B = jax.random.randint(k_cat, (batch,), 0, num_categories)
  cont_BK = jax.random.uniform(k_cont, (batch, num_continuous), minval=-1.0, maxval=1.0)
  return cat_B, cont_BK


def info_loss(cat_B, cont_BK, q_cat_logits_BC, q_cont_mean_BK, q_cont_log_std_BK,
              lambda_cat=1.0, lambda_cont=0.1):
  """-L_I up to the constant H(c): lambda_cat E[-log Q(c_cat|x)] + lambda_cont E[-log Q(c_cont|x)],
  with x = G(z, c) and Q a softmax / factored Gaussian over the codes."""
  log_q_cat_B = jnp.take_along_axis(jax.nn.log_softmax(q_cat_logits_BC), cat_B[:, None], 1)[:, 0]
  z = (cont_BK - q_cont_mean_BK) * jnp.exp(-q_cont_log_std_BK)
  log_q_cont_B = jnp.sum(-0.5 * z * z - q_cont_log_std_BK - 0.5 * LOG_2PI, axis=-1)
  return lambda_cat * -jnp.mean(log_q_cat_B) + lambda_cont * -jnp.mean(log_q_cont_B)


def symmetric_kl(logits_a_BC, logits_b_BC):
  """E_x[(KL(p_a || p_b) + KL(p_b || p_a)) / 2] of two categorical posteriors given as logits,
  e.g. Q's on two warps of the same images; 0 exactly when they agree."""
  log_a, log_b = jax.nn.log_softmax(logits_a_BC), jax.nn.log_softmax(logits_b_BC)
  kl_ab = jnp.sum(jnp.exp(log_a) * (log_a - log_b), axis=-1)
  kl_ba = jnp.sum(jnp.exp(log_b) * (log_b - log_a), axis=-1)
  return jnp.mean(0.5 * (kl_ab + kl_ba))

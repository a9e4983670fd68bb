"""Benchmark (not a test): one training step of each adversarial config, genjax against a
PyTorch twin of the same networks and the same step, in the same run. CPU only.

The twins mirror genjax/models/gan_nets.py and the InfoGAN Q head layer by layer (NCHW instead of
NHWC); each must have exactly the parameter count of its genjax network, or the run stops. The
torch step does the same work as genjax/methods/adversarial.py: n_critic critic updates, each on
its own real batch and a fresh fake batch (G in train mode, no gradient to G), then one generator
update (no gradient to D's weights), then the generator's EMA. Real images are uniform noise in
[-1, 1]: timing only, no dataset is read. Run it on an otherwise idle machine:

  pip install -e ".[bench]"   # torch and the other peers, pinned in pyproject.toml
  python results/benchmarks/gan.py --out=results/benchmarks/gan_cpu.json
  python results/benchmarks/gan.py --configs=dcgan_mnist,wgan_gp_cifar --steps=10   # a subset
"""
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from absl import app, flags
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
# The peer is torch's CPU build, so JAX must not take an accelerator; jax is first imported later.
os.environ.setdefault('JAX_PLATFORMS', 'cpu')

CONFIGS = ('gan_mnist', 'dcgan_mnist', 'dcgan_cifar', 'wgan_mnist', 'wgan_cifar', 'wgan_gp_mnist',
           'wgan_gp_cifar', 'infogan_mnist')

FLAGS = flags.FLAGS
flags.DEFINE_list('configs', list(CONFIGS), 'Configs (files in configs/, without .py) to time.')
flags.DEFINE_integer('batch', None, "Batch size; default: each config's train.batch_size.")
flags.DEFINE_integer('steps', 5, 'Timed training steps per repeat.')
flags.DEFINE_integer('repeats', 3, 'Timings per measurement; the median is reported.')
flags.DEFINE_list('torch_threads', None, 'Torch thread counts to try, the best kept; '
                  'default: 1 and the CPU count.')
flags.DEFINE_string('out', None, 'Where to write the JSON results.')
flags.DEFINE_integer('cpu_devices', 1, 'genjax on this many one-thread CPU devices, the batch '
                     'split over them (data parallel, as launch/train.py does on several devices); '
                     '1: XLA\'s one multi-threaded device.')
flags.DEFINE_list('conv_impls', [], "Time genjax under each of these model.conv_impl values "
                  "(xla, im2col), reported as NAME@IMPL; default: each config's own.")

LOG_2PI = math.log(2.0 * math.pi)


def load_config(name):
  path = os.path.join(ROOT, 'configs', f'{name}.py')
  module_spec = importlib.util.spec_from_file_location(f'benchmark_config_{name}', path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config()


def median_seconds_per_step(run, steps, repeats):
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    run(steps)
    times.append((time.perf_counter() - t0) / steps)
  return statistics.median(times)


# --- torch twins of genjax/models/gan_nets.py (NCHW) ---------------------------------------------
class ChannelLayerNorm(nn.Module):
  """flax nn.LayerNorm on NHWC: each pixel normalized over its channels only (eps 1e-6)."""

  def __init__(self, channels):
    super().__init__()
    self.norm = nn.LayerNorm(channels, eps=1e-6)

  def forward(self, x):
    return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def norm2d(kind, channels):
  if kind == 'batch':  # flax momentum 0.9 is torch's 0.1
    return nn.BatchNorm2d(channels, momentum=0.1, eps=1e-5)
  if kind == 'layer':
    return ChannelLayerNorm(channels)
  return nn.Identity()


def up_conv(c_in, c_out):  # flax ConvTranspose(k=4, s=2, 'SAME'): doubles H and W
  return nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)


def down_conv(c_in, c_out):  # flax Conv(k=4, s=2, 'SAME'): pads 1 each side on even sizes
  return nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)


def dcgan_init(module):  # Radford et al.'s N(0, 0.02) kernels, as genjax's DCGAN_INIT
  for m in module.modules():
    if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
      nn.init.normal_(m.weight, 0.0, 0.02)
      nn.init.zeros_(m.bias)
  return module


class MLPGenerator(nn.Module):

  def __init__(self, z_in, image_shape, hidden=(1200, 1200)):
    super().__init__()
    layers, width = [], z_in
    for h in hidden:
      layers += [nn.Linear(width, h), nn.ReLU()]
      width = h
    self.net = nn.Sequential(*layers, nn.Linear(width, math.prod(image_shape)), nn.Tanh())
    h, w, c = image_shape
    self.chw = (c, h, w)

  def forward(self, z):
    return self.net(z).view(len(z), *self.chw)


class MLPDiscriminator(nn.Module):

  def __init__(self, image_shape, hidden=(240, 240)):
    super().__init__()
    layers, width = [nn.Flatten()], math.prod(image_shape)
    for h in hidden:
      layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
      width = h
    self.trunk, self.head, self.num_features = nn.Sequential(*layers), nn.Linear(width, 1), width

  def forward(self, x):
    features = self.trunk(x)
    return self.head(features)[:, 0], features


class DCGANGenerator(nn.Module):

  def __init__(self, z_in, image_shape, base_features, norm):
    super().__init__()
    size, _, channels = image_shape
    ups = 2 if size == 28 else 3
    self.start = size // 2 ** ups
    features = [base_features * 2 ** i for i in reversed(range(ups))]
    self.c0 = features[0] * 2
    self.fc = nn.Linear(z_in, self.start * self.start * self.c0)
    layers, width = [norm2d(norm, self.c0), nn.ReLU()], self.c0
    for f in features[1:]:
      layers += [up_conv(width, f), norm2d(norm, f), nn.ReLU()]
      width = f
    self.net = nn.Sequential(*layers, up_conv(width, channels), nn.Tanh())
    dcgan_init(self)

  def forward(self, z):
    return self.net(self.fc(z).view(len(z), self.c0, self.start, self.start))


class DCGANDiscriminator(nn.Module):

  def __init__(self, image_shape, base_features, norm):
    super().__init__()
    size, _, channels = image_shape
    n = 2 if size == 28 else 3
    layers, width = [], channels
    for i in range(n):
      f = base_features * 2 ** i
      layers += [down_conv(width, f)] + ([norm2d(norm, f)] if i else []) + [nn.LeakyReLU(0.2)]
      width = f
    self.trunk = nn.Sequential(*layers, nn.Flatten())
    self.num_features = width * (size // 2 ** n) ** 2
    self.head = nn.Linear(self.num_features, 1)
    dcgan_init(self)

  def forward(self, x):
    features = self.trunk(x)
    return self.head(features)[:, 0], features


def upsample_nearest(x):  # as genjax's jnp.repeat twice
  return F.interpolate(x, scale_factor=2, mode='nearest')


def avg_pool(x):
  return F.avg_pool2d(x, 2)


class ResBlock(nn.Module):

  def __init__(self, c_in, features, resample, norm, first=False):
    super().__init__()
    self.resample, self.first = resample, first
    needs_projection = resample != 'none' or c_in != features
    self.shortcut = nn.Conv2d(c_in, features, 1) if needs_projection else nn.Identity()
    self.norm1 = nn.Identity() if first else norm2d(norm, c_in)
    self.conv1 = nn.Conv2d(c_in, features, 3, padding=1)
    self.norm2 = norm2d(norm, features)
    self.conv2 = nn.Conv2d(features, features, 3, padding=1)

  def forward(self, x):
    up, down = upsample_nearest, avg_pool
    shortcut = self.shortcut(up(x) if self.resample == 'up' else x)
    if self.resample == 'down':
      shortcut = down(shortcut)
    h = x if self.first else F.relu(self.norm1(x))
    if self.resample == 'up':
      h = up(h)
    h = self.conv2(F.relu(self.norm2(self.conv1(h))))
    return shortcut + (down(h) if self.resample == 'down' else h)


class ResNetGenerator(nn.Module):

  def __init__(self, z_in, channels, features=128):
    super().__init__()
    self.features = features
    self.fc = nn.Linear(z_in, 4 * 4 * features)
    self.net = nn.Sequential(*[ResBlock(features, features, 'up', 'batch') for _ in range(3)],
                             norm2d('batch', features), nn.ReLU(),
                             nn.Conv2d(features, channels, 3, padding=1), nn.Tanh())

  def forward(self, z):
    return self.net(self.fc(z).view(len(z), self.features, 4, 4))


class ResNetCritic(nn.Module):

  def __init__(self, channels, features=128):
    super().__init__()
    self.blocks = nn.Sequential(ResBlock(channels, features, 'down', 'none', first=True),
                                ResBlock(features, features, 'down', 'none'),
                                ResBlock(features, features, 'none', 'none'),
                                ResBlock(features, features, 'none', 'none'))
    self.head, self.num_features = nn.Linear(features, 1), features

  def forward(self, x):
    features = F.relu(self.blocks(x)).mean(dim=(2, 3))
    return self.head(features)[:, 0], features


class InfoGANGenerator(nn.Module):

  def __init__(self, z_in):
    super().__init__()
    # flax's BatchNorm after the 7*7*128 Dense is per feature of the flat vector: BatchNorm1d.
    self.fc = nn.Sequential(nn.Linear(z_in, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
                            nn.Linear(1024, 7 * 7 * 128), nn.BatchNorm1d(7 * 7 * 128), nn.ReLU())
    self.net = nn.Sequential(up_conv(128, 64), nn.BatchNorm2d(64), nn.ReLU(), up_conv(64, 1),
                             nn.Tanh())

  def forward(self, z):
    return self.net(self.fc(z).view(len(z), 128, 7, 7))


class InfoGANDiscriminator(nn.Module):

  def __init__(self, image_shape):
    super().__init__()
    size, _, channels = image_shape
    self.trunk = nn.Sequential(
        down_conv(channels, 64), nn.LeakyReLU(0.1), down_conv(64, 128), nn.BatchNorm2d(128),
        nn.LeakyReLU(0.1), nn.Flatten(), nn.Linear(128 * (size // 4) ** 2, 1024),
        nn.BatchNorm1d(1024), nn.LeakyReLU(0.1))
    self.head, self.num_features = nn.Linear(1024, 1), 1024

  def forward(self, x):
    features = self.trunk(x)
    return self.head(features)[:, 0], features


class QHead(nn.Module):
  """genjax.methods.adversarial.QHead: categorical logits, Gaussian mean and clipped log-std."""

  def __init__(self, num_features, num_categories, num_continuous):
    super().__init__()
    self.k, self.c = num_categories, num_continuous
    self.net = nn.Sequential(nn.Linear(num_features, 128), nn.BatchNorm1d(128), nn.LeakyReLU(0.2),
                             nn.Linear(128, num_categories + 2 * num_continuous))

  def forward(self, features):
    out = self.net(features)
    k, c = self.k, self.c
    return out[:, :k], out[:, k:k + c], out[:, k + c:].clamp(-5.0, 2.0)


class WithQHead(nn.Module):

  def __init__(self, trunk, q_head):
    super().__init__()
    self.trunk, self.q_head = trunk, q_head

  def forward(self, x, q_moves_trunk=True):
    logits, features = self.trunk(x)
    return logits, self.q_head(features if q_moves_trunk else features.detach())


def torch_networks(config, spec, image_shape, z_in):
  """The twins of genjax.experiments.adversarial.build_networks, chosen by the same names."""
  m, channels = config.model, image_shape[-1]
  generators = {
      'mlp': lambda: MLPGenerator(z_in, image_shape),
      'dcgan': lambda: DCGANGenerator(z_in, image_shape, m.base_features, 'batch'),
      'resnet': lambda: ResNetGenerator(z_in, channels),
      'infogan': lambda: InfoGANGenerator(z_in),
  }
  discriminators = {
      'mlp': lambda: MLPDiscriminator(image_shape),
      'dcgan': lambda: DCGANDiscriminator(image_shape, m.base_features, m.discriminator_norm),
      'resnet': lambda: ResNetCritic(channels),
      'infogan': lambda: InfoGANDiscriminator(image_shape),
  }
  d = discriminators[m.discriminator]()
  if spec.is_infogan:
    d = WithQHead(d, QHead(d.num_features, spec.num_categories, spec.num_continuous))
  return generators[m.generator](), d


def torch_optimizer(c, params, total_updates):
  """genjax.experiments.adversarial.build_optimizer's twin, in torch's fastest CPU form (fused
  Adam, foreach RMSProp) so that the peer is not set badly."""
  if c.name == 'adam':
    opt = torch.optim.Adam(params, c.learning_rate, betas=(c.b1, c.b2), eps=1e-8, fused=True)
  elif c.name == 'rmsprop':  # optax's rmsprop decay is 0.9 (torch's alpha)
    opt = torch.optim.RMSprop(params, c.learning_rate, alpha=0.9, eps=1e-8, foreach=True)
  else:
    raise ValueError(f'optimizer {c.name!r}')
  if c.get('decay', 'constant') == 'linear':  # optax.linear_schedule to 0 over the run
    decay = torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.0, total_iters=total_updates)
    opt.register_step_post_hook(lambda *_: decay.step())
  return opt


def count_params(tree_or_module):
  import jax
  if isinstance(tree_or_module, nn.Module):
    return sum(p.numel() for p in tree_or_module.parameters())
  return sum(leaf.size for leaf in jax.tree.leaves(tree_or_module))


def check_twins(state, g, d):
  """Parameter counts per network, genjax vs torch; raises if any differs."""
  pairs = {'generator': (state.g.params, g), 'discriminator': (state.d.params, d)}
  if isinstance(d, WithQHead):
    pairs.update(d_trunk=(state.d.params['trunk'], d.trunk),
                 q_head=(state.d.params['q_head'], d.q_head))
  counts = {name: (count_params(a), count_params(b)) for name, (a, b) in pairs.items()}
  bad = {name: c for name, c in counts.items() if c[0] != c[1]}
  if bad:
    raise AssertionError(f'torch twin is not a twin: (genjax, torch) parameters {bad}')
  return {name: c[0] for name, c in counts.items()}


# --- the torch training step ---------------------------------------------------------------------
def make_torch_step(spec, g, d, g_opt, d_opt):
  """`step(real_NBCHW)`: genjax's adversarial train_step, same losses and same passes."""
  ema = [p.detach().clone() for p in g.parameters()]

  def latents(batch):
    if spec.z_prior == 'uniform':
      z = torch.rand(batch, spec.z_dim) * 2.0 - 1.0
    else:
      z = torch.randn(batch, spec.z_dim)
    if not spec.is_infogan:
      return z, None
    cat = torch.randint(0, spec.num_categories, (batch,))
    cont = torch.rand(batch, spec.num_continuous) * 2.0 - 1.0
    onehot = F.one_hot(cat, spec.num_categories).float()
    return torch.cat([z, onehot, cont], dim=1), (cat, cont)

  def info(codes, q):
    cat, cont = codes
    cat_logits, mean, log_std = q
    if spec.fixed_continuous_std:
      log_std = torch.zeros_like(log_std)
    nll_cat = F.cross_entropy(cat_logits, cat)
    z = (cont - mean) * torch.exp(-log_std)
    nll_cont = -(-0.5 * z * z - log_std - 0.5 * LOG_2PI).sum(-1).mean()
    return spec.lambda_cat * nll_cat + spec.lambda_cont * nll_cont

  def critic_update(real):
    x, codes = latents(len(real))
    with torch.no_grad():
      fake = g(x)  # train mode: batch statistics, as genjax
    real_logits, _ = d(real)
    kw = {'q_moves_trunk': spec.info_updates_trunk} if spec.is_infogan else {}
    fake_logits, q = d(fake, **kw)
    if spec.is_wasserstein:
      loss = fake_logits.mean() - real_logits.mean()
      if spec.method == 'wgan_gp':
        alpha = torch.rand(len(real), 1, 1, 1)  # one alpha per example
        x_hat = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
        grads, = torch.autograd.grad(d(x_hat)[0].sum(), x_hat, create_graph=True)
        norms = torch.sqrt(grads.pow(2).sum(dim=(1, 2, 3)) + 1e-12)
        loss = loss + spec.gp_lambda * ((norms - 1.0) ** 2).mean()
    else:
      loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    if spec.is_infogan:
      loss = loss + info(codes, q)
    d_opt.zero_grad(set_to_none=True)
    loss.backward()
    d_opt.step()
    if spec.method == 'wgan':
      with torch.no_grad():
        torch._foreach_clamp_min_(list(d.parameters()), -spec.clip)
        torch._foreach_clamp_max_(list(d.parameters()), spec.clip)

  def generator_update(batch):
    d.requires_grad_(False)  # genjax differentiates G's loss w.r.t. G's parameters only
    x, codes = latents(batch)
    logits, q = d(g(x))
    if spec.is_wasserstein:
      loss = -logits.mean()
    elif spec.generator_loss == 'minimax':
      loss = -F.softplus(logits).mean()
    else:
      loss = F.softplus(-logits).mean()
    if spec.is_infogan:
      loss = loss + info(codes, q)
    g_opt.zero_grad(set_to_none=True)
    loss.backward()
    g_opt.step()
    d.requires_grad_(True)
    with torch.no_grad():
      torch._foreach_lerp_(ema, [p.detach() for p in g.parameters()], 1.0 - spec.ema_decay)

  def step(real_NBCHW):
    for real in real_NBCHW:
      critic_update(real)
    generator_update(real_NBCHW.shape[1])

  return step


# --- the two sides -------------------------------------------------------------------------------
def genjax_side(spec, image_shape, batch, steps, repeats):
  import jax

  from jax.sharding import NamedSharding, PartitionSpec as P

  from genjax import parallel
  from genjax.methods import adversarial
  mesh = parallel.data_mesh(jax.local_devices())
  parallel.check_batch_size(batch, mesh, '--batch')
  state = parallel.put_replicated(adversarial.init_state(spec, jax.random.key(0), image_shape),
                                  mesh)
  real = jax.random.uniform(jax.random.key(1), (spec.n_critic, batch) + tuple(image_shape),
                            minval=-1.0, maxval=1.0)
  real = jax.device_put(real, NamedSharding(mesh, P(None, 'data')))
  step_fn = jax.jit(adversarial.make_train_step(spec, mesh), donate_argnums=0)
  key = jax.random.key(2)
  box = {'state': state}
  serialize = mesh.devices.size > 1  # as genjax/train.py on several CPU devices

  def run(n):
    for _ in range(n):
      box['state'], _ = step_fn(box['state'], real, key)
      if serialize:
        jax.block_until_ready(box['state'])
    jax.block_until_ready(box['state'])

  t0 = time.perf_counter()
  run(1)  # compile
  compile_s = time.perf_counter() - t0
  run(1)  # warm up
  return median_seconds_per_step(run, steps, repeats), compile_s, box['state']


def torch_side(config, spec, image_shape, batch, steps, repeats, genjax_state):
  from genjax.methods import adversarial
  torch.manual_seed(0)
  g, d = torch_networks(config, spec, image_shape, adversarial.generator_input_dim(spec))
  params = check_twins(genjax_state, g, d)
  g.train()
  d.train()
  steps_total = config.train.num_steps
  step = make_torch_step(spec, g, d, torch_optimizer(config.optim.g, g.parameters(), steps_total),
                         torch_optimizer(config.optim.d, d.parameters(),
                                         steps_total * spec.n_critic))
  h, w, c = image_shape
  real = torch.rand(spec.n_critic, batch, c, h, w) * 2.0 - 1.0

  def run(n):
    for _ in range(n):
      step(real)

  run(2)  # warm up
  return median_seconds_per_step(run, steps, repeats), params


def benchmark(name, thread_counts, conv_impl=None):
  from genjax.experiments.adversarial import IMAGE_SHAPES, build_spec
  config = load_config(name)
  if conv_impl:
    config.model.conv_impl = conv_impl
  if FLAGS.batch:
    config.train.batch_size = FLAGS.batch
  spec, image_shape = build_spec(config), IMAGE_SHAPES[config.data.name]
  batch = config.train.batch_size
  ours, compile_s, state = genjax_side(spec, image_shape, batch, FLAGS.steps, FLAGS.repeats)
  by_threads = {}
  for threads in thread_counts:
    torch.set_num_threads(threads)
    by_threads[threads], params = torch_side(config, spec, image_shape, batch, FLAGS.steps,
                                             FLAGS.repeats, state)
  best = min(by_threads, key=by_threads.get)
  return {
      'method': spec.method, 'dataset': config.data.name, 'batch_size': batch,
      'n_critic': spec.n_critic, 'generator': config.model.generator,
      'discriminator': config.model.discriminator, 'conv_impl': config.model.conv_impl,
      'parameters (both sides)': params,
      'genjax_s_per_step': ours, 'genjax_compile_s': compile_s,
      'torch_s_per_step': by_threads[best], 'torch_best_threads': best,
      'torch_s_per_step_by_threads': by_threads,
      'ratio_torch_over_genjax': by_threads[best] / ours,
  }


def main(argv):
  del argv
  from genjax import parallel
  parallel.use_cpu_devices(FLAGS.cpu_devices)  # before JAX's backend starts
  import jax
  unknown = set(FLAGS.configs) - set(CONFIGS)
  if unknown:
    raise app.UsageError(f'unknown configs {sorted(unknown)}; choose from {CONFIGS}')
  if set(FLAGS.conv_impls) - {'xla', 'im2col'}:
    raise app.UsageError(f'--conv_impls={",".join(FLAGS.conv_impls)}: choose from xla, im2col')
  # The peer gets its best thread count (OpenMP spinning can make 2 threads slower than 1 on 2
  # cores), so the ratio is never flattered by a badly set peer.
  thread_counts = sorted({int(t) for t in FLAGS.torch_threads or (1, os.cpu_count())})
  results = {}
  print(f'{"config":<15} {"batch":>5} {"genjax s/step":>14} {"torch s/step":>13} '
        f'{"torch/genjax":>13}', flush=True)
  runs = [(name, None) for name in FLAGS.configs]
  if FLAGS.conv_impls:
    runs = [(name, impl) for name in FLAGS.configs for impl in FLAGS.conv_impls]
  for name, impl in runs:
    key = f'{name}@{impl}' if impl else name
    r = results[key] = benchmark(name, thread_counts, impl)
    print(f'{key:<15} {r["batch_size"]:>5} {r["genjax_s_per_step"]:>14.4f} '
          f'{r["torch_s_per_step"]:>13.4f} {r["ratio_torch_over_genjax"]:>13.2f}', flush=True)
  result = {
      'setup': {
          'what': 'one training step (n_critic critic updates + 1 generator update + EMA)',
          'data': 'uniform random images in [-1, 1]: timing only, no dataset read',
          'steps_timed': FLAGS.steps, 'repeats (median)': FLAGS.repeats,
          'batch_override': FLAGS.batch, 'cpus': os.cpu_count(),
          'machine': platform.processor() or platform.machine(),
          'jax': jax.__version__, 'jax_platform': jax.devices()[0].platform,
          'genjax_cpu_devices': jax.local_device_count(),
          'xla_flags': os.environ.get('XLA_FLAGS', ''),
          'torch': torch.__version__, 'torch_threads_tried': thread_counts,
          'ratio': 'torch s/step / genjax s/step; > 1 means genjax is faster'},
      'configs': results,
  }
  if FLAGS.out:  # before printing, so that a closed stdout (`| head`) cannot lose it
    os.makedirs(os.path.dirname(FLAGS.out) or '.', exist_ok=True)
    with open(FLAGS.out, 'w') as f:
      json.dump(result, f, indent=2)
  print(json.dumps(result, indent=2))


if __name__ == '__main__':
  app.run(main)

"""Benchmark (not a test): where the conv GAN step loses to PyTorch on one CPU core, layer by layer.

The whole-step benchmark (gan.py) finds genjax's DCGAN step at ~0.7x its PyTorch twin on one
core. This one times, on one core (run it under `taskset -c 0`: XLA's flags below do not stop it
from using a second core's thread; torch.set_num_threads(1)), the pieces that step is made of at
its shapes (batch 128):
  - each generator layer (stride-2 4x4 transposed convolution; genjax's SubPixelConvTranspose)
    and each discriminator layer (stride-2 4x4 convolution; XLA's convolution and the im2col
    form, layers.Im2colConv) against torch's conv_transpose2d / conv2d: forward, and forward +
    gradients with respect to input and kernel (`fwd_bwd`);
  - one float32 matrix product at the shape of each layer's im2col GEMM, jnp.dot against
    torch.mm (XLA's GEMM against torch's MKL): does the gap come from matrix arithmetic or from
    the convolution kernels around it?
Round robin over --repeats rounds (each piece of each framework timed in turn, medians), so
both frameworks see the same machine load; outputs checked equal before timing.

  taskset -c 0 python results/benchmarks/conv_layers.py --out=results/benchmarks/conv_layers_cpu.json
"""
import json
import os
import platform
import statistics
import sys
import time

os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                           ' --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1')

from absl import app, flags  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

FLAGS = flags.FLAGS
flags.DEFINE_string('out', None, 'Where to write the JSON results.')
flags.DEFINE_integer('batch', 128, 'Batch size (the DCGAN configs use 128).')
flags.DEFINE_integer('repeats', 7, 'Rounds; medians are reported.')
flags.DEFINE_list('datasets', ['mnist', 'cifar'], 'Whose layer shapes: mnist, cifar.')

# (kind, in channels, out channels, input height = width) of dcgan_mnist / dcgan_cifar.
LAYERS = {'mnist': [('up', 256, 64, 7), ('up', 64, 1, 14), ('down', 1, 64, 28),
                    ('down', 64, 128, 14)],
          'cifar': [('up', 512, 256, 4), ('up', 256, 128, 8), ('up', 128, 3, 16),
                    ('down', 3, 64, 32), ('down', 64, 128, 16), ('down', 128, 256, 8)]}


def _pieces(kind, cin, cout, hw, batch, rng):
  """{name: zero-argument callable} for the genjax forms and torch, all on the same tensors."""
  import jax
  import jax.numpy as jnp
  import numpy as np
  import torch
  from jax import lax

  from genjax.models.layers import Im2colConv, SubPixelConvTranspose
  x = rng.standard_normal((batch, hw, hw, cin), dtype=np.float32)
  xj = jnp.asarray(x)
  xt = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
  if kind == 'up':
    module = SubPixelConvTranspose(cout, use_bias=False)
    kernel = module.init(jax.random.key(0), xj)['params']['kernel']
    forms = {'subpixel': lambda x, k: module.apply({'params': {'kernel': k}}, x)}
    # flax's (unflipped) kernel over the dilated input = torch's transposed conv of the flipped one
    kt = torch.tensor(np.asarray(kernel)[::-1, ::-1].transpose(2, 3, 0, 1).copy(),
                      requires_grad=True)
    torch_fn = lambda x, k: torch.nn.functional.conv_transpose2d(x, k, stride=2, padding=1)  # noqa: E731
    gemm = (batch * hw * hw, cin, 16 * cout)  # every input pixel times all 16 taps
  else:
    kernel = jnp.asarray(rng.standard_normal((4, 4, cin, cout), dtype=np.float32) * 0.05)
    module = Im2colConv(cout, (4, 4), (2, 2), use_bias=False)
    forms = {'xla': lambda x, k: lax.conv_general_dilated(
                 x, k, (2, 2), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')),
             'im2col': lambda x, k: module.apply({'params': {'kernel': k}}, x)}
    kt = torch.tensor(np.asarray(kernel).transpose(3, 2, 0, 1).copy(), requires_grad=True)
    torch_fn = lambda x, k: torch.nn.functional.conv2d(x, k, stride=2, padding=1)  # noqa: E731
    gemm = (batch * (hw // 2) ** 2, 16 * cin, cout)  # patches times the flattened kernel
  with torch.no_grad():
    want = torch_fn(xt, kt).numpy().transpose(0, 2, 3, 1)
  scale = float(np.abs(want).max())
  pieces = {}
  for name, f in forms.items():
    error = float(np.abs(np.asarray(f(xj, kernel)) - want).max())
    if error > 1e-4 * max(scale, 1.0):
      raise SystemExit(f'error: {kind} {cin}->{cout}: the {name} form differs from torch by '
                       f'{error:.3g}; the timings would compare different maths.')
    fwd = jax.jit(f)
    grads = jax.jit(jax.grad(lambda x, k, f=f: jnp.sum(f(x, k) ** 2), argnums=(0, 1)))
    pieces[f'{name}_fwd'] = lambda fwd=fwd: fwd(xj, kernel).block_until_ready()
    pieces[f'{name}_fwd_bwd'] = lambda grads=grads: jax.block_until_ready(grads(xj, kernel))

  def torch_fwd():
    with torch.no_grad():
      torch_fn(xt, kt)

  def torch_fwd_bwd():
    xt.grad = kt.grad = None
    (torch_fn(xt, kt) ** 2).sum().backward()
  pieces['torch_fwd'], pieces['torch_fwd_bwd'] = torch_fwd, torch_fwd_bwd
  m, k, n = gemm
  a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
  aj, bj, at, bt = jnp.asarray(a), jnp.asarray(b), torch.from_numpy(a), torch.from_numpy(b)
  dot = jax.jit(jnp.dot)
  pieces['xla_gemm'] = lambda: dot(aj, bj).block_until_ready()
  pieces['torch_gemm'] = lambda: torch.mm(at, bt)
  return pieces, gemm


def main(argv):
  del argv
  import jax
  import numpy as np
  import torch
  torch.set_num_threads(1)
  rng = np.random.default_rng(0)
  layers = []
  for dataset in FLAGS.datasets:
    for kind, cin, cout, hw in LAYERS[dataset]:
      pieces, gemm = _pieces(kind, cin, cout, hw, FLAGS.batch, rng)
      for f in pieces.values():  # compile and warm up
        f()
      times = {name: [] for name in pieces}
      for _ in range(FLAGS.repeats):
        for name, f in pieces.items():
          start = time.perf_counter()
          f()
          times[name].append(time.perf_counter() - start)
      s = {name: statistics.median(t) for name, t in times.items()}
      genjax_form = 'subpixel' if kind == 'up' else 'xla'
      row = {'dataset': dataset, 'layer': f'{kind} {cin}->{cout} at {hw}x{hw}',
             'seconds': s,
             'ratio_torch_over_genjax_fwd': s['torch_fwd'] / s[f'{genjax_form}_fwd'],
             'ratio_torch_over_genjax_fwd_bwd': s['torch_fwd_bwd'] / s[f'{genjax_form}_fwd_bwd'],
             'gemm_shape': list(gemm),
             'gemm_gflops': {'xla': 2 * np.prod(gemm) / s['xla_gemm'] / 1e9,
                             'torch': 2 * np.prod(gemm) / s['torch_gemm'] / 1e9}}
      if kind == 'down':
        row['ratio_torch_over_im2col_fwd_bwd'] = s['torch_fwd_bwd'] / s['im2col_fwd_bwd']
      layers.append(row)
      print(f"{dataset:5s} {row['layer']:24s} fwd torch/genjax {row['ratio_torch_over_genjax_fwd']:.2f}"
            f"  fwd+bwd {row['ratio_torch_over_genjax_fwd_bwd']:.2f}"
            f"  GEMM GFLOP/s xla {row['gemm_gflops']['xla']:.1f} torch "
            f"{row['gemm_gflops']['torch']:.1f}", flush=True)
  result = {
      'command': 'python results/benchmarks/conv_layers.py ' + ' '.join(sys.argv[1:]),
      'cpus_allowed': sorted(os.sched_getaffinity(0)),  # [0] under taskset -c 0
      'what': __doc__.split('\n')[0],
      'threads': 'XLA: --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1; '
                 'torch.set_num_threads(1); one core only where cpus_allowed has one entry',
      'batch': FLAGS.batch, 'repeats': FLAGS.repeats,
      'hardware': {'cpu_count': os.cpu_count(),
                   'machine': platform.processor() or platform.machine(),
                   'jax': jax.__version__, 'torch': torch.__version__,
                   'date': time.strftime('%Y-%m-%d')},
      'layers': layers}
  if FLAGS.out:
    with open(FLAGS.out + '.tmp', 'w') as f:
      json.dump(result, f, indent=2)
    os.replace(FLAGS.out + '.tmp', FLAGS.out)


if __name__ == '__main__':
  app.run(main)

"""Seeds as a vmapped axis: S independent runs of one config trained as one compiled program.

`config.train.num_seeds = S` trains seeds config.seed, config.seed + 1, ..., each with its own
initialization, data order and noise (each is exactly the experiment of its own seed). Their
train states and train keys are stacked along a new leading axis and the method's step is
`jax.vmap`-ed over it, so one dispatch advances all S: on a device that one small model leaves
mostly idle (an MNIST model on a GPU) S seeds cost little more than one. With
train.seed_axis='scan' (the default on CPU) seed i of an S-seed run is the run of seed
config.seed + i on its own: bit for bit for the IWAE, within the last bits for the DCGAN (the loop
body's BatchNorm step rounds a few values differently, ~3e-8 relative, not growing over 12
steps); with 'vmap' (the default on accelerators) it equals it up to float rounding, which
training amplifies (resolve_seed_axis; tests/test_seeds.py).

The loop (genjax/train.py) logs one metrics row per seed with a `seed` field; evaluation
(genjax/evaluate.py) evaluates each seed and writes their results as rows labelled by seed; and
genjax.results reads such a workdir as S runs.
"""
import jax
import jax.numpy as jnp
from ml_collections import config_dict


def num_seeds(config):
  """config.train.num_seeds (1 for configs made before the field existed)."""
  return int(config.train.get('num_seeds', 1) or 1)


SEED_AXES = ('auto', 'vmap', 'scan')


def resolve_seed_axis(config):
  """How the S seeds share one program (config.train.seed_axis):
    vmap  the step batched over the seed axis: one kernel per operation for all S, which is what
          fills an accelerator that one MNIST model leaves idle. Batched kernels round
          differently from the one-seed program's, and training amplifies rounding (an IWAE's
          ELBO differs by ~1e-4 after 50 steps and ~1% after 100), so seed i is *a* run of seed
          i, not bit for bit its own run.
    scan  the one-seed step as the body of a loop over the seeds (jax.lax.map), compiled once:
          seed i is the run of seed i (bit for bit for the IWAE, the DCGAN within ~3e-8
          relative); S seeds take one dispatch, not S.
    auto  vmap on GPU and TPU, scan on CPU (where batching gains little: measured in
          results/benchmarks/seeds_cpu.json)."""
  axis = config.train.get('seed_axis', 'auto')
  if axis == 'auto':
    return 'scan' if jax.default_backend() == 'cpu' else 'vmap'
  return axis


def seed_config(config, index):
  """The config of member `index`: seed config.seed + index, trained on its own."""
  member = config_dict.ConfigDict(config.to_dict())
  member.seed = config.seed + index
  member.train.num_seeds = 1
  return member


def stack(trees):
  """Stacks pytrees of the same structure along a new leading axis. The first tree's treedef is
  kept: static fields (a TrainState's apply_fn and tx) are equal in behaviour but are distinct
  closures per member, so a plain tree_map over the members would refuse them."""
  leaves = [jax.tree_util.tree_leaves(t) for t in trees]
  treedef = jax.tree_util.tree_structure(trees[0])
  return jax.tree_util.tree_unflatten(treedef, [jnp.stack(ls) for ls in zip(*leaves)])


def member(tree, index):
  """Member `index` of a stacked pytree."""
  return jax.tree_util.tree_map(lambda x: x[index], tree)


class SeedStack:
  """The experiment interface of genjax/experiments/__init__.py over S member experiments."""

  def __init__(self, config, build, mesh=None, load_train=True):
    self.config = config
    self.members = [build(seed_config(config, i), mesh, load_train)
                    for i in range(num_seeds(config))]
    first = self.members[0]
    self.seeds = [m.config.seed for m in self.members]
    self.steps_per_epoch = first.steps_per_epoch
    self.keys = {name: jnp.stack([m.keys[name] for m in self.members]) for name in first.keys}
    # Every member's step is the same function of (state, batch, key): only seeds differ.
    self.seed_axis = resolve_seed_axis(config)
    if self.seed_axis == 'vmap':
      self.train_step = jax.vmap(first.train_step)
    else:  # 'scan': the one-seed step as the body of a loop over the seed axis
      self.train_step = lambda st, b, k: jax.lax.map(lambda a: first.train_step(*a), (st, b, k))
    self._stack = jax.jit(lambda *xs: jnp.stack(xs))

  @property
  def num_seeds(self):
    return len(self.members)

  def init_state(self):
    return stack([m.init_state() for m in self.members])

  def batch(self, step):
    return self._stack(*[m.batch(step) for m in self.members])

  def member_states(self, state):
    return [member(state, i) for i in range(self.num_seeds)]

  def resume_history(self, rows):
    for seed, m in zip(self.seeds, self.members):
      if hasattr(m, 'resume_history'):
        m.resume_history([{k: v for k, v in r.items() if k != 'seed'} for r in rows
                          if r.get('seed') == seed])

  def quick_eval(self, state, step):
    """One dict of scalars per seed, in seed order."""
    return [m.quick_eval(s, step) for m, s in zip(self.members, self.member_states(state))]

  def save_figures(self, state, step, workdir):
    import os
    for seed, m, s in zip(self.seeds, self.members, self.member_states(state)):
      m.save_figures(s, step, os.path.join(workdir, f'seed_{seed}'))

  def evaluate(self, state, **kwargs):
    """Each seed's evaluation, as rows labelled by seed."""
    rows = [{'seed': seed, **m.evaluate(s, **kwargs)}
            for seed, m, s in zip(self.seeds, self.members, self.member_states(state))]
    return {'num_seeds': self.num_seeds, 'seeds': rows}

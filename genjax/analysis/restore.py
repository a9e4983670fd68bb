"""A saved run brought back for analysis: its experiment (networks, test data, keys) and the
train state of its latest or any chosen checkpoint, without training code or training data."""
import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np

from genjax import checkpoints, experiments, results
from genjax.errors import CheckpointError
from genjax.evaluate import load_run_config
from genjax.experiments import seeds
from genjax.methods import adversarial
from genjax.models.iwae_mlp import architecture

LIKELIHOOD_METHODS = ('vae', 'iwae')


def checkpoint_steps(workdir):
  """The steps of the run's finished checkpoints, oldest first (no folder is created)."""
  directory = os.path.join(workdir, 'checkpoints')
  if not os.path.isdir(directory):
    return []
  return sorted(int(d) for d in os.listdir(directory) if d.isdigit())


@dataclasses.dataclass
class Restored:
  workdir: str
  run: results.Run
  experiment: object
  state: object
  step: int
  stack: object = None  # a run of several seeds (train.num_seeds): its SeedStack
  index: int = 0  # and which of its seeds this is

  @property
  def config(self):
    return self.experiment.config

  @property
  def is_likelihood(self):
    return self.config.method.name in LIKELIHOOD_METHODS

  @property
  def is_infogan(self):
    return not self.is_likelihood and self.experiment.spec.is_infogan

  def at(self, step):
    """The same run at another checkpoint (the experiment is reused)."""
    mngr = checkpoints.manager(self.workdir)
    if self.stack is not None:
      state = seeds.member(checkpoints.restore_step(mngr, self.stack.init_state(), step),
                           self.index)
    else:
      state = checkpoints.restore_step(mngr, self.experiment.init_state(), step)
    return dataclasses.replace(self, state=state, step=int(step))

  # --- the model as a map from latents to images -----------------------------------------

  def latent_dim(self):
    if self.is_likelihood:
      c = self.config.model
      return architecture(c.stochastic_layers, c.get('latent_dim'))[-1][1]
    return adversarial.generator_input_dim(self.experiment.spec)

  def prior_latents(self, key, num):
    """`num` draws of the model's latent prior (for InfoGAN with its codes), [num, D]."""
    if self.is_likelihood:
      return jax.random.normal(key, (num, self.latent_dim()))
    return adversarial.sample_latents(self.experiment.spec, key, num)[0]

  def decode(self, latents):
    """Images [N, H, W, C] in [0, 1] for latents [N, D]: pixel means for VAE/IWAE (lower layers
    at their conditional means), the generator's output (EMA weights where kept) for GANs."""
    latents = jnp.asarray(latents, jnp.float32)
    if self.is_likelihood:
      pixels = self.experiment.model.apply({'params': self.state.params}, latents,
                                           method='decode_top')
      return np.asarray(pixels).reshape(len(latents), 28, 28, 1)
    images = adversarial.generate(self.experiment.spec, self.state, latents)
    return np.clip((np.asarray(images) + 1) / 2, 0, 1)

  def encode(self, x_BD):
    """VAE/IWAE: the top layer's code of binarized images [N, 784] through the encoders' means."""
    if not self.is_likelihood:
      raise ValueError('encode() is defined for VAE/IWAE runs only.')
    return np.asarray(self.experiment.model.apply({'params': self.state.params},
                                                  jnp.asarray(x_BD), method='encode_mean'))

  def test_images(self, num=None):
    """(images [N, H, W, C] in [0, 1], labels [N]) of the test split."""
    x = np.asarray(self.experiment.x_test[:num])
    if self.is_likelihood:
      from genjax.data import load_split
      _, labels = load_split(self.config.data.name, 'test', self.config.data.source_dir,
                             self.config.data.tfds_data_dir)
      return x.reshape(len(x), 28, 28, 1), np.asarray(labels[:len(x)])
    return (x + 1) / 2, np.asarray(self.experiment.test_labels[:len(x)])

  def samples(self, num, index=0):
    """`num` samples in [0, 1], the same ones for the same (run, index)."""
    return np.asarray(self.experiment.generated_images(self.state, index, num))


def seeds_of(workdir):
  """The seeds a workdir holds: [config.seed], or the S seeds of a train.num_seeds run."""
  config = load_run_config(workdir)
  return [config.seed + i for i in range(seeds.num_seeds(config))]


def restore(workdir, step=None, source_dir=None, seed=None):
  """The run in `workdir` at checkpoint `step` (default: the latest); in a workdir of several
  seeds trained together (train.num_seeds), the run of `seed` (default: the first)."""
  run = results.load_run(workdir)
  steps = checkpoint_steps(workdir)
  if not steps:
    raise CheckpointError(f'{workdir} holds no checkpoint: train it first (launch/train.py).')
  step = steps[-1] if step is None else int(step)
  if step not in steps:
    raise CheckpointError(f'{workdir} has no checkpoint at step {step}; it has {steps}.')
  config = load_run_config(workdir)
  if source_dir:
    config.data.source_dir = source_dir
  experiment = experiments.for_config(config, load_train=False)
  mngr = checkpoints.manager(workdir)
  state = checkpoints.restore_step(mngr, experiment.init_state(), step)
  held = [config.seed + i for i in range(seeds.num_seeds(config))]
  seed = held[0] if seed is None else int(seed)
  if seed not in held:
    raise CheckpointError(f'{workdir} holds seed(s) {held}, not seed {seed}.')
  if len(held) == 1:
    return Restored(workdir=workdir, run=run, experiment=experiment, state=state, step=step)
  index = held.index(seed)
  return Restored(workdir=workdir, run=results.seed_runs(run)[index],
                  experiment=experiment.members[index], state=seeds.member(state, index),
                  step=step, stack=experiment, index=index)

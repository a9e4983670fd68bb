"""TFDS builders that prepare MNIST and CIFAR-10 from their original distribution files.

Online, TFDS's own `mnist` / `cifar10` builders download the data. Offline, these builders make
the same features (image uint8, label ClassLabel(10)) from a local directory, so every later step
reads a prepared TFDS dataset either way.
"""
import tensorflow_datasets as tfds

from genjax.data import raw


class _FromFiles(tfds.core.GeneratorBasedBuilder):
  """Base: examples come from `raw.READERS[self.SOURCE]` over `manual_dir`."""
  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Prepared from the original distribution files, verified.'}
  SOURCE = ''
  IMAGE_SHAPE = ()

  def _info(self):
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=self.IMAGE_SHAPE),
            'label': tfds.features.ClassLabel(num_classes=10),
        }),
        supervised_keys=('image', 'label'),
    )

  def _split_generators(self, dl_manager):
    source_dir = str(dl_manager.manual_dir)
    # Read (and verify) both splits before TFDS writes anything.
    splits = {s: raw.READERS[self.SOURCE](source_dir, s) for s in ('train', 'test')}
    return {s: self._generate_examples(*arrays) for s, arrays in splits.items()}

  def _generate_examples(self, images, labels):
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {'image': image, 'label': int(label)}


class MnistFromFiles(_FromFiles):
  SOURCE = 'mnist'
  IMAGE_SHAPE = (28, 28, 1)
  MANUAL_DOWNLOAD_INSTRUCTIONS = raw.MNIST_HOW_TO


class Cifar10FromFiles(_FromFiles):
  SOURCE = 'cifar10'
  IMAGE_SHAPE = (32, 32, 3)
  MANUAL_DOWNLOAD_INSTRUCTIONS = raw.CIFAR_HOW_TO


BUILDERS = {'mnist': MnistFromFiles, 'cifar10': Cifar10FromFiles}

"""Does an augmentation keep a digit's meaning? The MNIST classifier's accuracy on transformed
test digits, overall and per class: a transform a GAN's discriminator may be shown as "real"
should leave it near the clean accuracy (translation by a few pixels), one that changes meaning
(a mirror image of 2, 3, 4, 5, 7, 9) drops it for those classes.
"""
import jax
import jax.numpy as jnp
import numpy as np

from genjax.data import augment
from genjax.models import mnist_classifier


def transforms(max_shift=2):
  """name -> f(key, x_BHWC in [-1, 1]) -> x_BHWC: what the augmentation ablation uses, and flips."""
  return {
      'none': lambda key, x: x,
      f'translation (up to {max_shift} px)': lambda key, x: augment.translate(key, x, max_shift),
      'diffaugment (color, translation, cutout)': augment.diffaugment,
      'horizontal flip': lambda key, x: x[:, :, ::-1, :],
      'vertical flip': lambda key, x: x[:, ::-1, :, :],
  }


def label_preservation(images_signed, labels, named_transforms, key, num_classes=10):
  """{name: {'accuracy': float, 'per_class': [num_classes floats]}} of the MNIST classifier on
  each transform of the images (float [N, 28, 28, 1] in [-1, 1]); one key per transform."""
  _, variables = mnist_classifier.load_mnist_classifier()
  labels = np.asarray(labels)
  out = {}
  for i, (name, transform) in enumerate(named_transforms.items()):
    x = transform(jax.random.fold_in(key, i), jnp.asarray(images_signed))
    logits, _ = mnist_classifier.classifier_outputs(
        variables, mnist_classifier.to_classifier_input(x, value_range=(-1, 1)))
    correct = np.asarray(jnp.argmax(logits, -1)) == labels
    out[name] = {'accuracy': float(correct.mean()),
                 'per_class': [float(correct[labels == c].mean()) for c in range(num_classes)]}
  return out

"""What the GAN-family sweeps share (not a sweep itself): the budget, the evaluation, the columns.

Budget: 500 generator steps of DCGAN on MNIST at batch 128 (about one epoch of the 60,000 images),
a few minutes per run on the 2-core CPU with two runs side by side. Quality in the MNIST
classifier's feature space (genjax/metrics): FID and KID, precision / recall / coverage (k=5) from
5,000 samples against the first 5,000 test images, and the class statistics of 1,000 samples
(classes covered, class entropy) at every quick evaluation.
"""

STEPS = 500
FIXED = {'train.num_steps': STEPS, 'train.eval_every': 100, 'train.checkpoint_every': 250,
         'train.log_every': 25}
EVAL = {'num_samples': 5000, 'num_reference': 5000}
METRICS = ('fid_mnist_classifier', 'kid_mnist_classifier', 'precision_mnist_classifier',
           'recall_mnist_classifier', 'coverage_mnist_classifier', 'test/classes_covered',
           'test/class_entropy')
# The report's figure: FID, precision, recall and coverage.
PLOT_METRICS = ['fid_mnist_classifier', 'precision_mnist_classifier', 'recall_mnist_classifier',
                'coverage_mnist_classifier']
CURVES = ('test/class_entropy',)
# What every GAN-family Sweep passes: Sweep(..., **_gan.SHARED).
SHARED = dict(fixed=FIXED, seeds=(0, 1, 2), metrics=METRICS, eval_overrides=EVAL, curves=CURVES)

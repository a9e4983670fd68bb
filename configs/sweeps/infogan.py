"""InfoGAN on MNIST: the paper's version against two label-free variants meant to tie the
categorical code to digit identity (docs/methods.md, "InfoGAN with warp-invariant codes"):
  affine:             Q reads c from a randomly warped G(z, c) (rotation ±15°, shear ±0.2,
                      scale ±10%, shift ±2 px), in both players' mutual-information terms;
  affine_consistency: the same, plus Q's categorical posteriors on two warps of each real
                      image made to agree (symmetric KL, weight 1).
10 seeds each, the committed config's budget (6,000 steps at batch 100 = 10 epochs). No label is
used for training or for choosing runs; categorical_accuracy (Hungarian-matched, eval.json) is
measured afterwards. The paper's version is results/infogan_mnist's 12 runs of the same config.

  python launch/sweep.py --sweep=configs/sweeps/infogan.py --root=runs/infogan --parallel=2
  python results/ablations/infogan/summarize.py --copy_from=runs/infogan   # + the paper runs

Measured on the project's 2-core CPU with two runs side by side: `affine` 63 min per run,
`affine_consistency` 83-131 min (results/ablations/infogan/README.md, "Cost here"); ~30 s per
run on an H200 (results/gpu/device_runs.py --sweeps=infogan).
"""
from genjax.sweeps import Sweep

VARIANTS = {'affine': {'method.info_augment': 'affine', 'method.info_consistency': 0.0},
            'affine_consistency': {'method.info_augment': 'affine',
                                   'method.info_consistency': 1.0}}


def get_sweep():
  return Sweep(
      config='configs/infogan_mnist.py',
      fixed={'train.eval_every': 1000, 'train.checkpoint_every': 1000},
      settings=list(VARIANTS.values()),
      seeds=tuple(range(10)),
      columns={'method.info_augment': 'info_augment',
               'method.info_consistency': 'info_consistency'},
      metrics=('categorical_accuracy', 'code_mutual_information', 'code_conditional_entropy',
               'fid_mnist_classifier', 'classes_covered'),
      eval_overrides={'num_samples': 5000, 'num_reference': 5000},
      description='InfoGAN label-free variants, 10 seeds, 6,000 steps')

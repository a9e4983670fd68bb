#!/usr/bin/env bash
# Trains GAN, DCGAN, WGAN and WGAN-GP on MNIST at budgets that fit a 2-core CPU session, then
# evaluates each run's final checkpoint (10k samples vs the 10k test digits, MNIST classifier
# features). Feeds results/evaluation/mnist_sample_quality.csv (make_sample_quality_table.py).
#   bash results/evaluation/run_gan_family_mnist.sh [SEED] [MNIST_DIR] [RUNS_DIR]
# Runs resume if their workdir exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
SEED=${1:-0}
MNIST=${2:-../shared/data/mnist}
RUNS=${3:-/tmp/genjax_runs/gan_family_mnist}
declare -A STEPS=([gan_mnist]=20000 [dcgan_mnist]=5000 [wgan_mnist]=3000 [wgan_gp_mnist]=3000)
declare -A EVERY=([gan_mnist]=2000 [dcgan_mnist]=1000 [wgan_mnist]=500 [wgan_gp_mnist]=500)
# The first three committed runs predate the im2col critic; WGAN-GP uses its config's im2col
# (same math, 3.3x faster here: results/benchmarks).
declare -A CONV=([gan_mnist]=xla [dcgan_mnist]=xla [wgan_mnist]=xla [wgan_gp_mnist]=im2col)
for name in gan_mnist dcgan_mnist wgan_mnist wgan_gp_mnist; do
  wd=$RUNS/${name}_s${SEED}
  python launch/train.py --config=configs/${name}.py --workdir="$wd" --config.seed=$SEED \
    --config.train.num_steps=${STEPS[$name]} --config.train.eval_every=${EVERY[$name]} \
    --config.train.log_every=100 --config.train.checkpoint_every=${EVERY[$name]} \
    --config.data.source_dir="$MNIST" --config.model.conv_impl=${CONV[$name]}
done

#!/usr/bin/env bash
# Regenerates results/adversarial/mnist/: GAN, DCGAN, WGAN and WGAN-GP on MNIST at a budget that
# fits a 2-core CPU session (generator steps below; the paper budgets are GPU budgets).
#   bash results/adversarial/run_mnist.sh [SEED] [MNIST_DIR] [RUNS_DIR]
# Each run resumes if its workdir exists; then the curves, grids and table are rebuilt.
set -euo pipefail
cd "$(dirname "$0")/../.."
SEED=${1:-0}
MNIST=${2:-../shared/data/mnist}
RUNS=${3:-/tmp/genjax_runs/adversarial_mnist}
declare -A STEPS=([gan_mnist]=6000 [dcgan_mnist]=2000 [wgan_mnist]=1000 [wgan_gp_mnist]=400)
declare -A EVERY=([gan_mnist]=1000 [dcgan_mnist]=250 [wgan_mnist]=100 [wgan_gp_mnist]=50)
declare -A LOG=([gan_mnist]=100 [dcgan_mnist]=50 [wgan_mnist]=20 [wgan_gp_mnist]=10)
for name in gan_mnist dcgan_mnist wgan_mnist wgan_gp_mnist; do
  wd=$RUNS/${name}_s${SEED}
  python launch/train.py --config=configs/${name}.py --workdir="$wd" --config.seed=$SEED \
    --config.train.num_steps=${STEPS[$name]} --config.train.eval_every=${EVERY[$name]} \
    --config.train.log_every=${LOG[$name]} --config.train.checkpoint_every=${EVERY[$name]} \
    --config.data.source_dir="$MNIST" --config.model.conv_impl=xla  # as the committed runs
done
python results/adversarial/make_figures.py mnist "$RUNS"/*_mnist_s${SEED}

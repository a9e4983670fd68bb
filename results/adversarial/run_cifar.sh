#!/usr/bin/env bash
# Regenerates results/adversarial/cifar10/: DCGAN, WGAN and WGAN-GP (ResNet) on CIFAR-10 at a
# smoke budget that fits a 2-core CPU (the paper budgets, 100k generator steps, are GPU budgets).
#   bash results/adversarial/run_cifar.sh [SEED] [CIFAR_DIR] [RUNS_DIR]
# The data here is ../shared/data/cifar10-approx, a close stand-in for CIFAR-10 (JPEG-decoded
# pixels for most images): curves show direction only, no number here compares with a paper.
set -euo pipefail
cd "$(dirname "$0")/../.."
SEED=${1:-0}
CIFAR=${2:-../shared/data/cifar10-approx}
RUNS=${3:-/tmp/genjax_runs/adversarial_cifar}
declare -A STEPS=([dcgan_cifar]=1000 [wgan_cifar]=400 [wgan_gp_cifar]=30)
declare -A EVERY=([dcgan_cifar]=200 [wgan_cifar]=100 [wgan_gp_cifar]=10)
declare -A LOG=([dcgan_cifar]=10 [wgan_cifar]=5 [wgan_gp_cifar]=2)
for name in dcgan_cifar wgan_cifar wgan_gp_cifar; do
  wd=$RUNS/${name}_s${SEED}
  python launch/train.py --config=configs/${name}.py --workdir="$wd" --config.seed=$SEED \
    --config.train.num_steps=${STEPS[$name]} --config.train.eval_every=${EVERY[$name]} \
    --config.train.log_every=${LOG[$name]} --config.train.checkpoint_every=${EVERY[$name]} \
    --config.data.source_dir="$CIFAR"
done
python results/adversarial/make_figures.py cifar10 "$RUNS"/*_cifar_s${SEED}

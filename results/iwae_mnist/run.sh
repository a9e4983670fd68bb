#!/usr/bin/env bash
# Regenerates results/iwae_mnist/: VAE and IWAE at k = 1, 5, 50, one stochastic layer, on MNIST.
#   bash results/iwae_mnist/run.sh [EPOCHS] [SEED] [MNIST_DIR] [RUNS_DIR]
# Trains each run (resuming if its workdir exists), evaluates NLL with k=5000, then writes the
# table. The IWAE paper's batch size (20), optimizer and learning-rate schedule, cut to EPOCHS.
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=${1:-20}
SEED=${2:-0}
MNIST=${3:-../shared/data/mnist}
RUNS=${4:-/tmp/genjax_runs/iwae_mnist}
STEPS=$((EPOCHS * 3000))
for k in 50 5 1; do
  for method in iwae vae; do
    wd=$RUNS/${method}_k${k}_l1_e${EPOCHS}_s${SEED}
    python launch/train.py --config=configs/${method}_mnist.py --workdir="$wd" \
      --config.method.k=$k --config.seed=$SEED --config.train.num_steps=$STEPS \
      --config.train.eval_every=15000 --config.data.source_dir="$MNIST"
    python launch/evaluate.py --workdir="$wd"
  done
done
python results/iwae_mnist/make_table.py "$RUNS"/*_e${EPOCHS}_s*

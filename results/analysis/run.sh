#!/usr/bin/env bash
# Regenerates results/analysis/: trains one run of each model at a 2-core CPU budget, draws every
# figure that applies to it with launch/plot.py, then the mode-collapse comparison and the table.
#   bash results/analysis/run.sh [MNIST_DIR] [RUNS_DIR]
# A run whose workdir exists resumes (or is skipped when finished); about an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
MNIST=${1:-../shared/data/mnist}
RUNS=${2:-/tmp/genjax_runs/analysis}
OUT=results/analysis
export GENJAX_END_FIGURES=0  # plot.py below draws them all

train() {  # NAME CONFIG STEPS EVERY [overrides...]
  local name=$1 config=$2 steps=$3 every=$4
  shift 4
  python launch/train.py --config="configs/$config.py" --workdir="$RUNS/$name" \
    --config.data.source_dir="$MNIST" --config.train.num_steps="$steps" \
    --config.train.eval_every="$every" --config.train.checkpoint_every="$every" \
    --config.train.keep_checkpoints=12 "$@"
}

# Likelihood models: 10 epochs of the VAE (50-D and 2-D latent), 2 epochs of IWAE k=50.
train vae vae_mnist 30000 3000 --config.train.log_every=500
train vae_2d vae_mnist 30000 3000 --config.model.latent_dim=2 --config.train.log_every=500
train iwae_k50 iwae_mnist 6000 1000 --config.train.log_every=500
# The GAN family and InfoGAN (generator steps).
train gan gan_mnist 20000 2000 --config.train.log_every=100
train dcgan dcgan_mnist 500 100 --config.train.log_every=20
train wgan wgan_mnist 1000 50 --config.train.log_every=10
train wgan_gp wgan_gp_mnist 300 50 --config.train.log_every=10 --config.model.conv_impl=im2col
train infogan infogan_mnist 1000 100 --config.train.log_every=50
# The "Helvetica scenario". Tried first (collapse/tried_*): a generator learning 10x faster
# (no collapse by step 400) and a discriminator learning 10x or 100x slower from the start (the
# generator never makes digits; the classifier puts its noise in one class).
train dcgan_slow_discriminator dcgan_mnist 500 100 --config.train.log_every=20 \
  --config.optim.d.learning_rate=2e-6
# What collapses digits: the healthy DCGAN's step-500 state, continued with its discriminator
# nearly frozen (learning rate 2e-6) — the generator then chases a fixed critic. The copy's
# config.json records the second phase's learning rate; steps 1-500 are the `dcgan` run's.
if [ ! -d "$RUNS/dcgan_then_slow_discriminator" ]; then
  cp -r "$RUNS/dcgan" "$RUNS/dcgan_then_slow_discriminator"
  rm -f "$RUNS"/dcgan_then_slow_discriminator/events.out.tfevents.*
  python - "$RUNS/dcgan_then_slow_discriminator/config.json" <<'PYEOF'
import json, sys
config = json.load(open(sys.argv[1]))
config['optim']['d']['learning_rate'] = 2e-6
json.dump(config, open(sys.argv[1], 'w'), indent=2)
PYEOF
fi
train dcgan_then_slow_discriminator dcgan_mnist 1200 100 --config.train.log_every=20 \
  --config.optim.d.learning_rate=2e-6

for name in vae vae_2d iwae_k50 gan dcgan wgan wgan_gp infogan dcgan_slow_discriminator \
    dcgan_then_slow_discriminator; do
  python launch/plot.py --workdir="$RUNS/$name" --figure=all --out="$OUT/$name"
done
python launch/plot.py --workdir="$RUNS/dcgan_then_slow_discriminator" \
  --workdir="$RUNS/dcgan_slow_discriminator" --workdir="$RUNS/dcgan" \
  --figure=mode_collapse,curves --out="$OUT/collapse"
python results/analysis/summarize.py "$RUNS" "$OUT"

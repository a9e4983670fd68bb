"""The WGANs' critic at the end of training, per setting: how far from 1-Lipschitz it is and how
large its Wasserstein estimate, from the committed runs' training logs (metrics.jsonl).

  python results/ablations/gan_hparams/critic.py      # writes critic.csv beside this file

gradient_penalty is the unweighted E[(||grad f(x_hat)||_2 - 1)^2] on interpolates (WGAN-GP only;
the loss adds lambda times it): sqrt of it is about how far the critic's gradient norm is from 1.
wasserstein_estimate is E[f(real)] - E[f(fake)] on a training batch. Both are the mean of the
last 3 logged values of each run, then mean and std over the setting's seeds.
"""
import csv
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ('gradient_penalty', 'wasserstein_estimate')
TAIL = 3


def final_values(metrics_path):
  logged = {k: [] for k in KEYS}
  with open(metrics_path) as f:
    for line in f:
      row = json.loads(line)
      for k in KEYS:
        if k in row:
          logged[k].append(row[k])
  return {k: float(np.mean(v[-TAIL:])) if v else None for k, v in logged.items()}


def critic_runs(runs_dir, methods=('wgan', 'wgan_gp')):
  """(config, final_values) of each run of these methods under runs_dir, in name order."""
  for name in sorted(os.listdir(runs_dir)):
    path = os.path.join(runs_dir, name)
    if not os.path.isfile(os.path.join(path, 'metrics.jsonl')):
      continue
    with open(os.path.join(path, 'config.json')) as f:
      config = json.load(f)
    if config['method']['name'] in methods:
      yield config, final_values(os.path.join(path, 'metrics.jsonl'))


def main(runs_dir=os.path.join(HERE, 'runs'), out=os.path.join(HERE, 'critic.csv')):
  settings = {}
  for config, values in critic_runs(runs_dir):
    m = config['method']
    key = (m['name'], m.get('gp_lambda'), m.get('n_critic'), m.get('clip'),
           config['train']['num_steps'])
    settings.setdefault(key, []).append(values)
  rows = []
  for (method, gp_lambda, n_critic, clip, steps), runs in sorted(settings.items()):
    row = {'method': method, 'gp_lambda': gp_lambda if method == 'wgan_gp' else '',
           'n_critic': n_critic, 'clip': clip if method == 'wgan' else '', 'steps': steps,
           'n_seeds': len(runs)}
    for k in KEYS:
      values = [r[k] for r in runs if r[k] is not None]
      row[f'{k}_mean'] = f'{np.mean(values):.4g}' if values else ''
      row[f'{k}_std'] = f'{np.std(values, ddof=1):.2g}' if len(values) > 1 else ''
    rows.append(row)
  with open(out, 'w', newline='') as f:
    writer = csv.DictWriter(f, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  for row in rows:
    print(row)


if __name__ == '__main__':
  main()

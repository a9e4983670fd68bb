"""NLL / bound estimators in chunks, against one numpy logsumexp over all samples at once."""
import jax
import numpy as np
import pytest

from genjax.metrics import likelihood
from genjax.models.iwae_mlp import IWAEModel
from tests.models.test_iwae_mlp import _np_mlp


def _model_and_data(n=7):
  model = IWAEModel(1)
  x = (np.random.RandomState(0).rand(n, 784) > 0.6).astype(np.float32)
  params = model.init(jax.random.key(0), x, jax.random.key(1), 1)['params']
  return model, params, x


def test_chunked_running_logsumexp_equals_numpy_over_all_samples():
  model, params, x = _model_and_data(n=7)
  key = jax.random.key(5)
  num_samples, chunk, batch = 60, 20, 4  # 3 chunks; the second batch is padded
  log_px, elbo = likelihood.importance_bounds(model, params, x, key, num_samples, chunk, batch)
  assert log_px.shape == elbo.shape == (7,)
  # Independent: every log-weight materialized, then numpy's log-mean-exp in float64.
  expected_lme, expected_mean = [], []
  for i, start in enumerate(range(0, 7, batch)):
    xb = x[start:start + batch]
    n = len(xb)
    xb = np.concatenate([xb, np.zeros((batch - n, 784), np.float32)])  # padded like the estimator
    keys = jax.random.split(jax.random.fold_in(key, i), num_samples // chunk)
    log_w = np.concatenate([np.asarray(model.apply({'params': params}, xb, k, chunk), np.float64)
                            for k in keys])[:, :n]
    m = log_w.max(0)
    expected_lme.append(m + np.log(np.mean(np.exp(log_w - m), 0)))
    expected_mean.append(log_w.mean(0))
  np.testing.assert_allclose(log_px, np.concatenate(expected_lme), rtol=1e-5)
  np.testing.assert_allclose(elbo, np.concatenate(expected_mean), rtol=1e-5)


@pytest.mark.slow  # 5 s; the numpy logsumexp test stays fast
def test_more_samples_tighten_the_bound():
  model, params, x = _model_and_data(n=20)
  key = jax.random.key(1)
  lme_1, elbo = likelihood.importance_bounds(model, params, x, key, 1000, 100, 20)
  lme_2, _ = likelihood.importance_bounds(model, params, x, key, 5, 5, 20)
  assert np.mean(elbo) < np.mean(lme_2) < np.mean(lme_1)


def test_active_units_against_numpy_variance():
  model, params, x = _model_and_data(n=300)
  mean, _ = _np_mlp(jax.tree.map(np.asarray, params)['encoders_0'], x.astype(np.float64), 2)
  variances = np.var(mean, axis=0)
  for threshold in np.percentile(variances, [10, 50, 90]):  # thresholds that split the units
    expected = int(np.sum(variances > threshold))
    assert 0 < expected < 50
    got = likelihood.active_units(model, params, x, jax.random.key(0), threshold, batch_size=128)
    assert got == [expected]

"""The sample-quality evaluation fields every generative model's config shares."""
from ml_collections import config_dict


def sample_eval_config(dataset):
  """Sample-quality evaluation (launch/evaluate.py; fields in genjax/experiments/sample_eval.py):
  10k samples against the test split (protocol=train: 50k vs the train split, the paper
  protocol), in the MNIST classifier's space on MNIST and the FID Inception's on CIFAR-10."""
  return config_dict.ConfigDict(dict(
      metrics='fid,kid,prdc,score',
      features='mnist_classifier' if dataset == 'mnist' else 'inception',
      protocol='test',
      # None: the protocol's count (10k for test, 50k for train)
      num_samples=config_dict.placeholder(int), num_reference=config_dict.placeholder(int),
      kid_subset_size=1000, kid_subsets=100, inception_weights=config_dict.placeholder(str),
      cache_dir=config_dict.placeholder(str)))

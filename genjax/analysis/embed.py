"""2-D embeddings of features (PCA, t-SNE) and how well they keep labels apart."""
import numpy as np


def pca(features, components=2):
  """(embedding [N, components], explained variance ratio of each component)."""
  from sklearn.decomposition import PCA
  model = PCA(n_components=components, random_state=0)
  embedding = model.fit_transform(np.asarray(features, np.float64))
  return embedding, model.explained_variance_ratio_


def tsne(features, perplexity=30.0, seed=0):
  """t-SNE (van der Maaten & Hinton 2008) of the features to 2-D, PCA-initialized."""
  from sklearn.manifold import TSNE
  model = TSNE(n_components=2, perplexity=perplexity, init='pca', random_state=seed,
               learning_rate='auto')
  return model.fit_transform(np.asarray(features, np.float64))


def knn_accuracy(embedding, labels, k=10, folds=5):
  """Mean k-nearest-neighbour label accuracy over `folds` stratified folds: how well a point's
  neighbours in the embedding predict its label (chance: the largest class's share)."""
  from sklearn.model_selection import StratifiedKFold, cross_val_score
  from sklearn.neighbors import KNeighborsClassifier
  cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
  scores = cross_val_score(KNeighborsClassifier(n_neighbors=k), np.asarray(embedding),
                           np.asarray(labels), cv=cv)
  return float(np.mean(scores))


def nearest_neighbors(queries, references, k=1):
  """(distances [Q, k], indices [Q, k]) of each query's k nearest references (Euclidean)."""
  from sklearn.neighbors import NearestNeighbors
  index = NearestNeighbors(n_neighbors=k).fit(np.asarray(references, np.float64))
  return index.kneighbors(np.asarray(queries, np.float64))

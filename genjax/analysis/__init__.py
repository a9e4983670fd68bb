"""Looking at what a trained run learned: restore any saved run, then latent interpolations,
manifolds, embeddings (PCA, t-SNE), nearest neighbours, InfoGAN traversals and mode collapse.

Functions take a restored run (`restore.restore(workdir)`) or plain arrays and return arrays or
matplotlib figures; `figures.FIGURES` maps the names launch/plot.py accepts to them.
"""

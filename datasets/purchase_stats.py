"""Measure the synthetic purchase data the way datasets/purchase.md reports it (a few minutes on 2 cores).

    python datasets/purchase_stats.py [random_state]

For each k in (2, 10, 20, 50, 100): the class shares of the default 20,000 records, then a 600-256-k MLP
(tanh, Adam lr 1e-3, batch 64, 30 epochs, no regularization) and scikit-learn's LogisticRegression (defaults:
L2, C = 1) trained on the same 2,500 records (target_in of target_shadow_split(20000, 2500, n_out=5000)) and
tested on 5,000 others (target_out). Prints a markdown table.
"""

import sys
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from mialab import data


def mlp_accuracy(X, y, n_classes, train, test, epochs=30, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 256), torch.nn.Tanh(), torch.nn.Linear(256, n_classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    X_train, y_train = torch.from_numpy(X[train]), torch.from_numpy(y[train])
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(train), generator=generator).split(64):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(X_train[batch]), y_train[batch]).backward()
            optimizer.step()
    with torch.no_grad():
        return [float((model(torch.from_numpy(X[idx])).argmax(1).numpy() == y[idx]).mean()) for idx in (train, test)]


def main(seed=0):
    torch.set_num_threads(1)  # one thread is faster than an oversubscribed two on a shared 2-core machine
    start = time.perf_counter()
    records = data._purchase_features(20_000, seed)
    generated = time.perf_counter() - start
    ones = records.sum(axis=1)
    bought = records.mean(axis=0)
    print(f"random_state={seed}: generation {generated:.1f} s; ones per row mean {ones.mean():.1f} "
          f"(sd {ones.std():.1f}, min {ones.min()}, max {ones.max()}; {records.mean():.1%} of entries); "
          f"share of shoppers buying a product: median {np.median(bought):.1%}, max {bought.max():.1%}")
    split = data.target_shadow_split(20_000, 2500, n_out=5000, random_state=seed)
    print("| k | k-means s | class share min | max | MLP train | MLP test | LogReg train | LogReg test |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    X = records.astype(np.float32)
    for k in data.PURCHASE_CLASS_COUNTS:
        start = time.perf_counter()
        y = data._kmeans(records, k, np.random.default_rng([seed, k]))  # exactly what load_purchase does
        seconds = time.perf_counter() - start
        share = np.bincount(y, minlength=k) / len(y)
        mlp_train, mlp_test = mlp_accuracy(X, y, k, split.target_in, split.target_out)
        linear = LogisticRegression(max_iter=1000).fit(X[split.target_in], y[split.target_in])
        print(f"| {k} | {seconds:.1f} | {share.min():.2%} | {share.max():.1%} | {mlp_train:.3f} | {mlp_test:.3f} | "
              f"{linear.score(X[split.target_in], y[split.target_in]):.3f} | "
              f"{linear.score(X[split.target_out], y[split.target_out]):.3f} |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)

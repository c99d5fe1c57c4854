"""How fast mialab.models.train_many trains many purchase-like MLPs at once, against one by one with train().

Prints the machine's dense matmul speed (torch.matmul, float32, `--threads` threads), the speed of train_many
in GFLOP/s (6 * parameters * samples, the usual forward + backward count for linear layers), its fraction of the
matmul speed, and the time for the same models at once and one by one.

    .venv/bin/python benchmarks/many_models.py                       # 64 models, 2,500 rows each, 30 epochs
    .venv/bin/python benchmarks/many_models.py --models 8 --epochs 2 # a quick run
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mialab.models import MLP, _group_size, train, train_many


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Dense float32 matmul speed of this machine, in GFLOP/s."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def purchase_like(n_records: int, n_features: int, n_classes: int, seed: int = 0):
    """Random 0/1 records (about 20% ones) labelled by a random linear rule: X float32 (n, d), y int64 (n,)."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n_records, n_features)) < 0.2).astype(np.float32)
    y = (X @ rng.normal(size=(n_features, n_classes))).argmax(axis=1).astype(np.int64)
    return X, y


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=64)
    parser.add_argument("--rows", type=int, default=2500, help="training records per model")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--features", type=int, default=600)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--group-size", type=int, default=None, help="models per batched group (default: auto)")
    parser.add_argument("--loop-models", type=int, default=None,
                        help="time this many models one by one and scale to --models (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    X, y = purchase_like(2 * args.rows, args.features, args.classes)
    rng = np.random.default_rng(0)
    masks = np.zeros((len(X), args.models), bool)
    for j in range(args.models):
        masks[rng.choice(len(X), args.rows, replace=False), j] = True
    hidden = (args.hidden,)
    kw = dict(epochs=args.epochs, batch_size=args.batch_size)

    peak = matmul_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"dense matmul (2048 x 2048, float32): {peak:.1f} GFLOP/s")

    start = time.perf_counter()
    stack = train_many(X, y, masks, hidden=hidden, group_size=args.group_size, **kw)
    at_once = time.perf_counter() - start
    n_params = sum(w[0].numel() + b[0].numel() for w, b in zip(stack.weights, stack.biases))
    samples = args.models * args.rows * args.epochs
    gflops = 6 * n_params * samples / at_once / 1e9
    print(f"{args.models} MLPs {args.features}-{args.hidden}-{args.classes} ({n_params:,} parameters each), "
          f"{args.rows:,} rows, {args.epochs} epochs, batch {args.batch_size}")
    group = args.group_size or _group_size(n_params, args.models)
    print(f"train_many (groups of {group}): {at_once:.1f} s, {gflops:.1f} GFLOP/s (6 * params * samples), {gflops / peak:.0%} of matmul")

    n_loop = args.models if args.loop_models is None else min(args.loop_models, args.models)
    start = time.perf_counter()
    for j in range(n_loop):
        seed = stack.seeds[j]
        train(MLP(args.features, args.classes, hidden, random_state=seed), X[masks[:, j]], y[masks[:, j]],
              random_state=seed, **kw)
    one_by_one = (time.perf_counter() - start) * args.models / n_loop
    scaled = "" if n_loop == args.models else f" (timed {n_loop}, scaled)"
    print(f"one by one with train(): {one_by_one:.1f} s{scaled}, "
          f"{6 * n_params * samples / one_by_one / 1e9:.1f} GFLOP/s")
    print(f"speed-up: {one_by_one / at_once:.2f}x")


if __name__ == "__main__":
    main()

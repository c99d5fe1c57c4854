"""How fast mialab.many_models.train_many trains many purchase-like MLPs at once, against one by one with train().

On the course's purchase-100 data (0/1 rows, about 30 ones in 600). Prints the machine's dense matmul speed
(torch.matmul, float32, `--threads` threads; measured before and after training, the faster one counts), the speed
of train_many in GFLOP/s of the dense recipe (6 * parameters * samples, the usual forward + backward count for
linear layers) and its fraction of the matmul speed, with its sparse first layer (the default for such rows) and
forced dense, and the time for the same models one by one with train().

    .venv/bin/python benchmarks/many_models.py                       # 64 models, 2,500 rows each, 30 epochs
    .venv/bin/python benchmarks/many_models.py --models 8 --epochs 2 # a quick run
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from mialab import data, many_models
from mialab.many_models import _group_size, train_many
from mialab.models import MLP, train


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Dense float32 matmul speed of this machine, in GFLOP/s."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(2):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=64)
    parser.add_argument("--rows", type=int, default=2500, help="training records per model")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--group-size", type=int, default=None, help="models per batched group (default: auto)")
    parser.add_argument("--loop-models", type=int, default=None,
                        help="time this many models one by one and scale to --models (default: all)")
    parser.add_argument("--device", default=None,
                        help="only time train_many on this device ('cuda', 'cpu') and print models per second")
    args = parser.parse_args(argv)
    if args.device is not None:
        return device_mode(args)
    torch.set_num_threads(args.threads)

    X_all, y_all = data.load_purchase(n_classes=args.classes)
    X, y = X_all[:2 * args.rows], y_all[:2 * args.rows]
    X_test, y_test = X_all[2 * args.rows:2 * args.rows + 5000], y_all[2 * args.rows:2 * args.rows + 5000]
    masks = data.in_out_mask(len(X), args.models, random_state=0)          # each model: half the records
    hidden = (args.hidden,)
    kw = dict(epochs=args.epochs, batch_size=args.batch_size)

    train_many(X, y, masks[:, :2], hidden=hidden, epochs=1)               # warm-up (first-call set-up)
    peak_before = matmul_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; purchase-{args.classes}, "
          f"{(X != 0).sum(axis=1).mean():.1f} non-zeros per row of {X.shape[1]}")

    def timed_train_many():
        start = time.perf_counter()
        stack = train_many(X, y, masks, hidden=hidden, group_size=args.group_size, **kw)
        return stack, time.perf_counter() - start

    stack, at_once = timed_train_many()
    sparse_rows = many_models._sparse_rows
    many_models._sparse_rows = lambda X_t: None                                  # force the dense first layer
    try:
        dense_stack, dense_time = timed_train_many()
    finally:
        many_models._sparse_rows = sparse_rows
    peak = max(peak_before, matmul_gflops())
    print(f"dense matmul (2048 x 2048, float32): {peak:.1f} GFLOP/s (before training {peak_before:.1f})")
    n_params = sum(w[0].numel() + b[0].numel() for w, b in zip(stack.weights, stack.biases))
    samples = args.models * args.rows * args.epochs
    flops = 6 * n_params * samples
    print(f"{args.models} MLPs {X.shape[1]}-{args.hidden}-{args.classes} ({n_params:,} parameters each), "
          f"{args.rows:,} rows, {args.epochs} epochs, batch {args.batch_size}")
    group = args.group_size or _group_size(n_params, args.models)
    for name, seconds in (("sparse first layer", at_once), ("dense", dense_time)):
        print(f"train_many, {name} (groups of {group}): {seconds:.1f} s, {flops / seconds / 1e9:.1f} GFLOP/s of the "
              f"dense recipe (6 * params * samples), {flops / seconds / 1e9 / peak:.0%} of matmul")
    # what each path executes per record and epoch: forward, weight gradient, and input gradient past layer 1;
    # the sparse first layer's forward and weight gradient touch only the row's non-zeros
    widths = (X.shape[1], *hidden, args.classes)
    layers = list(zip(widths[:-1], widths[1:]))
    dense_ops = sum(2 * a * b * (3 if layer else 2) for layer, (a, b) in enumerate(layers))
    nnz = float((X != 0).sum(axis=1).mean())
    sparse_ops = dense_ops - 4 * layers[0][0] * layers[0][1] + 4 * nnz * layers[0][1]    # layer 1: forward, dW
    print(f"executed per record and epoch: dense {dense_ops / 1e3:.0f}k FLOP ({dense_ops / (6 * n_params):.0%} of the "
          f"recipe's 6 * params), sparse first layer {sparse_ops / 1e3:.0f}k ({sparse_ops / (6 * n_params):.0%}); "
          f"executed speed: dense {dense_ops * samples / dense_time / 1e9:.1f} GFLOP/s, sparse "
          f"{sparse_ops * samples / at_once / 1e9:.1f} GFLOP/s")
    gap = np.abs(stack.predict_proba(X[:500]) - dense_stack.predict_proba(X[:500])).max()
    print(f"sparse vs dense first layer: largest probability difference {gap:.1e}; "
          f"test accuracy {stack.accuracy(X_test, y_test).mean():.3f} vs "
          f"{dense_stack.accuracy(X_test, y_test).mean():.3f} (mean over models, {len(X_test):,} held-out records)")

    n_loop = args.models if args.loop_models is None else min(args.loop_models, args.models)
    start = time.perf_counter()
    for j in range(n_loop):
        seed = stack.seeds[j]
        train(MLP(X.shape[1], args.classes, hidden, random_state=seed), X[masks[:, j]], y[masks[:, j]],
              random_state=seed, **kw)
    one_by_one = (time.perf_counter() - start) * args.models / n_loop
    scaled = "" if n_loop == args.models else f" (timed {n_loop}, scaled)"
    print(f"one by one with train(): {one_by_one:.1f} s{scaled}, "
          f"{6 * n_params * samples / one_by_one / 1e9:.1f} GFLOP/s")
    print(f"one by one / at once: {one_by_one / at_once:.2f}x (sparse first layer), "
          f"{one_by_one / dense_time:.2f}x (dense)")


def device_mode(args) -> None:
    """Models per second of train_many on one device (the path for a GPU: mialab.cache.train_in_out_models and
    LiRA train reference models through it)."""
    device = many_models.check_device(args.device)
    X_all, y_all = data.load_purchase(n_classes=args.classes)
    X, y = X_all[:2 * args.rows], y_all[:2 * args.rows]
    masks = data.in_out_mask(len(X), args.models, random_state=0)
    kw = dict(hidden=(args.hidden,), epochs=args.epochs, batch_size=args.batch_size, group_size=args.group_size)
    train_many(X, y, masks[:, :2], device=device, **dict(kw, epochs=1))    # warm-up
    start = time.perf_counter()
    train_many(X, y, masks, device=device, **kw)
    seconds = time.perf_counter() - start
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{args.models} purchase MLPs {X.shape[1]}-{args.hidden}-{args.classes}, {args.rows:,} rows, "
          f"{args.epochs} epochs on {name}: {seconds:.1f} s, {args.models / seconds:.2f} models per second")


if __name__ == "__main__":
    main()

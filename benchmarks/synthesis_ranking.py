"""Why notebook 02's synthetic shadow data rank the other way round from Shokri et al.: an experiment.

Shokri et al. (2017) found shadows trained on model-based synthetic records (their Algorithm 1) better than on
records drawn from per-class marginals (precision 0.896 vs 0.795 on Purchase-100); notebook 02 measures the
reverse. Two explanations were offered: (1) the course's purchase generator buys products independently given
a shopper's type, which flatters marginals; (2) hill-climbing starts from records with half their features on,
far from real baskets (0.05). This script tests both on notebook 02's own setup (target 600-128-100 on 1,000
records, 2 shadows of 1,000 records per source, 2,000 candidates):

    python benchmarks/synthesis_ranking.py                          # today's generator
    python benchmarks/synthesis_ranking.py --bundles 0.12 0.5       # + co-bought bundles: correlated products
    python benchmarks/synthesis_ranking.py --p-one 0.05             # hill-climbing from sparse records

`--bundles ACT BUY` adds 300 bundles of 10 products; a shopper who already bought two of a bundle's products
takes it up with probability ACT and then buys each of its products with probability BUY, so products
co-occur beyond what a shopper's type explains (which per-class marginals cannot reproduce). The generated
data go to a temporary cache (a generator version of their own), never the course's. About 10-15 s per run on
one core. Results are in docs/measurements.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", nargs=2, type=float, metavar=("ACT", "BUY"),
                        help="add co-bought bundles: take-up and purchase probabilities (e.g. 0.12 0.5)")
    parser.add_argument("--p-one", type=float, default=0.5, help="hill-climbing's starting density (default 0.5)")
    args = parser.parse_args(argv)
    os.environ["MIALAB_CACHE"] = tempfile.mkdtemp(prefix="mialab-synthesis-")  # before mialab reads it
    os.environ.setdefault("MIALAB_PROGRESS", "0")
    from mialab import data, metrics, models
    from mialab.attacks import synthesis
    from mialab.attacks.shadow import ShadowAttack
    from mialab.blackbox import BlackBox
    from mialab.recipe import TrainingRecipe

    if args.bundles:
        independent, (take_up, buy) = data._purchase_features, args.bundles

        def with_bundles(n_records: int, random_state: int) -> np.ndarray:
            records = independent(n_records, random_state)
            world, shopper = np.random.default_rng(random_state + 1000), np.random.default_rng(random_state + 2000)
            bundles = np.stack([world.choice(data.N_PRODUCTS, 10, replace=False) for _ in range(300)])
            owned = np.stack([records[:, bundle].sum(axis=1) for bundle in bundles], axis=1)  # (n, 300)
            taken = (owned >= 2) & (shopper.random(owned.shape) < take_up)
            out = records.copy()
            for j, bundle in enumerate(bundles):
                rows = np.flatnonzero(taken[:, j])
                out[np.ix_(rows, bundle)] |= (shopper.random((len(rows), len(bundle))) < buy).astype(np.uint8)
            return out

        data._purchase_features = with_bundles
        data.PURCHASE_VERSION = f"purchase-bundles-{take_up}-{buy}"

    start = time.perf_counter()
    X, y = data.load_purchase(n_classes=100)
    split = data.target_shadow_split(len(X), n_target=1000, random_state=0)
    X_train, y_train, X_out, y_out = X[split.target_in], y[split.target_in], X[split.target_out], y[split.target_out]
    X_pool, y_pool = X[split.shadow[:5000]], y[split.shadow[:5000]]
    recipe = TrainingRecipe(hidden=(128,), epochs=30)
    model = models.MLP(n_features=600, n_classes=100, hidden=recipe.hidden, random_state=0)
    models.train(model, X_train, y_train, epochs=recipe.epochs, random_state=0)
    target = BlackBox(model, output="probabilities")
    X_candidates, y_candidates = np.concatenate([X_train, X_out]), np.concatenate([y_train, y_out])
    is_member = np.r_[np.ones(1000, bool), np.zeros(1000, bool)]
    X_syn, y_syn, n_queries = synthesis.synthesize(target, 2400, n_features=600, p_one=args.p_one, random_state=0)
    X_marginal, y_marginal = synthesis.synthesize_marginal(X_pool, y_pool, 2000, random_state=0)

    print(f"generator: {'bundles ' + str(args.bundles) if args.bundles else 'independent given the type'}; "
          f"share of ones {X.mean():.2f}; target accuracy train {models.accuracy(model, X_train, y_train):.2f}, "
          f"test {models.accuracy(model, X_out, y_out):.2f}")
    print(f"model-based (p_one {args.p_one}): {len(X_syn)} records, {n_queries / len(X_syn):.0f} queries each, "
          f"share of ones {X_syn.mean():.2f}")
    for name, (X_s, y_s) in {"real": (X_pool[:2000], y_pool[:2000]), "marginal": (X_marginal, y_marginal),
                             "model-based": (X_syn[:2000], y_syn[:2000])}.items():
        attack = ShadowAttack(n_shadows=2, train_size=1000, n_classes=100, recipe=recipe).fit(X_s, y_s)
        scores = attack.score(target, X_candidates, y_candidates)
        at = metrics.threshold_metrics(scores, is_member, attack.threshold_)
        print(f"  {name:12s} AUC {metrics.auc(scores, is_member):.3f}  precision {at['precision']:.3f}  "
              f"recall {at['recall']:.3f}")
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The label-only decision-boundary attack: mialab's boundary_distance against IBM ART's HopSkipJump, the search
inside ART's LabelOnlyDecisionBoundary, on notebook 05's target.

The target is notebook 05's (target 0 of `train_in_out_models` on the first 5,000 synthetic purchase-100 records: an
MLP 600-256-100, about 2,500 training records, 30 epochs; cached after the notebook's first run), behind one label-only
BlackBox that counts every query of both tools. The candidates are `--records` of the notebook's balanced set, half
members, half non-members. ART's distances are the ones LabelOnlyDecisionBoundary.infer thresholds: HopSkipJump
(untargeted, L2) from a BlackBoxClassifier whose predict_fn asks the box, 0 for a misclassified record. ART's search
starts from unseeded noise, so its numbers move a little from run to run. Prints, for each tool: the AUC of the
distances as membership scores, the wall time and the label queries per record; then the Spearman correlation of the
two tools' per-record distances.

    PYTHONPATH=. python benchmarks/boundary_vs_art.py [--records 200] [--max-queries 300] [--art-iter 5]

ART (adversarial-robustness-toolbox) is in the dev extras: pip install -e ".[dev]".
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200, help="candidates, half members (default 200)")
    parser.add_argument("--max-queries", type=int, default=300, help="mialab's label queries per record (300)")
    parser.add_argument("--directions", type=int, default=20, help="mialab's first round of perturbations (20)")
    parser.add_argument("--art-iter", type=int, default=5, help="ART HopSkipJump's max_iter (5: about as many "
                                                                 "queries as mialab's 300)")
    parser.add_argument("--art-init-eval", type=int, default=20, help="ART HopSkipJump's init_eval (20)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        from art.attacks.evasion import HopSkipJump
        from art.estimators.classification import BlackBoxClassifier
    except ImportError:
        print("this benchmark needs IBM's adversarial-robustness-toolbox (pip install -e '.[dev]').", file=sys.stderr)
        return 1
    import torch
    from scipy.stats import spearmanr

    from mialab import data, metrics
    from mialab.attacks.label_only import boundary_distance
    from mialab.blackbox import BlackBox, query_labels
    from mialab.cache import train_in_out_models

    torch.set_num_threads(args.threads)
    X, y = data.load_purchase(n_classes=100)
    X_universe, y_universe = X[:5000], y[:5000]
    stack, masks = train_in_out_models(X_universe, y_universe, 20, chunk_size=4, random_state=0)
    is_member = masks[:, 0]
    rng = np.random.default_rng(0)                                # notebook 05's balanced set
    balanced = np.concatenate([rng.choice(np.flatnonzero(is_member), 1000, replace=False),
                               rng.choice(np.flatnonzero(~is_member), 1000, replace=False)])
    half = args.records // 2
    chosen = np.concatenate([balanced[:half], balanced[1000:1000 + half]])
    X_cand, y_cand, member = X_universe[chosen], y_universe[chosen], is_member[chosen]
    box = BlackBox(stack[0], output="label")
    print(f"notebook 05's target 0, {len(chosen)} candidates ({half} members), torch threads {args.threads}")

    start = time.perf_counter()
    ours, queries = boundary_distance(box, X_cand, y_cand, max_queries=args.max_queries,
                                      n_directions=args.directions, bounds=(0, 1), random_state=args.seed)
    t_ours = time.perf_counter() - start
    assert box.n_queries == queries.sum()
    ours_auc = metrics.auc(ours, member)
    print(f"mialab boundary_distance: AUC {ours_auc:.3f}  {t_ours:6.1f} s  {queries.mean():5.0f} queries per record "
          f"(budget {args.max_queries}, most {queries.max()})", flush=True)

    box.reset_queries()
    estimator = BlackBoxClassifier(lambda P: np.eye(100)[query_labels(box, P)], input_shape=(600,), nb_classes=100,
                                   clip_values=(0.0, 1.0))
    np.random.seed(args.seed)
    start = time.perf_counter()
    hsj = HopSkipJump(estimator, targeted=False, max_iter=args.art_iter, init_eval=args.art_init_eval,
                      max_eval=1000, batch_size=256, verbose=False)
    adversarial = hsj.generate(x=X_cand.astype(np.float32), y=np.eye(100)[y_cand])
    theirs = np.linalg.norm(adversarial - X_cand, axis=1)
    theirs[query_labels(box, X_cand) != y_cand] = 0
    t_art = time.perf_counter() - start
    art_auc = metrics.auc(theirs, member)
    print(f"ART HopSkipJump:          AUC {art_auc:.3f}  {t_art:6.1f} s  {box.n_queries / len(chosen):5.0f} queries "
          f"per record (max_iter {args.art_iter}, init_eval {args.art_init_eval})", flush=True)

    rho = spearmanr(ours, theirs)[0]
    print(f"Spearman correlation of the per-record distances: {rho:.3f}; AUC difference {ours_auc - art_auc:+.3f}; "
          f"mialab {t_art / t_ours:.0f}x faster (all records searched at once)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

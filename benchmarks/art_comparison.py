"""The Shokri-style shadow-model attack: IBM's Adversarial Robustness Toolbox (ART) against mialab, side by side.

Same target (an MLP 600-256-100 trained on 2,500 purchase records for 30 epochs), same attacker pool (5,000 other
records), same number of shadow models, each trained with the target's recipe on half the pool. ART:
`ShadowModels` (one PyTorchClassifier after another) + `MembershipInferenceBlackBox`; mialab:
`mialab.attacks.shadow.ShadowAttack` (all shadows at once with train_many), with the paper's per-class logistic
regressions on the full probability vector (its default), per class and with one model on the sorted vector plus
the true class's probability (ART's attack model sees the label too), and one model on the sorted vector alone.
Each mialab variant trains its own shadows, so each time is a full run. Prints the wall time of
each (shadow training + attack fitting + scoring the 5,000 candidates), the ratio, and each attack's AUC on the
target's members vs non-members.

ART is in the dev extras (pip install -e ".[dev]"; it brings no torch of its own, and its PyTorchClassifier uses the
course's). Or install it in a throwaway environment, torch pinned to the course's version:

    python3 -m venv /tmp/artvenv
    /tmp/artvenv/bin/pip install "torch==2.13.0" adversarial-robustness-toolbox numpy scipy scikit-learn \\
        matplotlib seaborn tqdm
    /tmp/artvenv/bin/pip install -e . --no-deps
    /tmp/artvenv/bin/python benchmarks/art_comparison.py [--shadows 4] [--threads 1] [--attack-model nn]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shadows", type=int, default=4, help="shadow models, both tools (default 4)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads, both tools")
    parser.add_argument("--attack-model", default="nn", choices=["nn", "rf", "gb", "lr", "dt", "knn", "svm"],
                        help="ART's attack model type (default: its default, nn)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        from art.attacks.inference.membership_inference import MembershipInferenceBlackBox, ShadowModels
        from art.estimators.classification import PyTorchClassifier
    except ImportError:
        print("this benchmark needs IBM's adversarial-robustness-toolbox; see the instructions at the top of "
              "benchmarks/art_comparison.py (a throwaway venv, torch==2.13.0).", file=sys.stderr)
        return 1
    import mialab
    from mialab import data, models
    from mialab.attacks.shadow import ShadowAttack
    from mialab.blackbox import BlackBox
    from mialab.metrics import auc

    torch.set_num_threads(args.threads)
    X, y = data.load_purchase(n_classes=100)
    split = data.target_shadow_split(len(X), n_target=2500, random_state=args.seed)
    pool = split.shadow[:2 * 2500]
    X_pool, y_pool = X[pool], y[pool]
    candidates = np.concatenate([split.target_in, split.target_out])
    X_cand, y_cand = X[candidates], y[candidates]
    is_member = np.arange(len(candidates)) < len(split.target_in)

    target_model = models.MLP(600, 100, hidden=(256,), random_state=args.seed)
    models.train(target_model, X[split.target_in], y[split.target_in], epochs=args.epochs, random_state=args.seed)
    print(f"mialab {mialab.__version__}, torch {torch.__version__} ({args.threads} thread(s)); target: train "
          f"accuracy {models.accuracy(target_model, X[split.target_in], y[split.target_in]):.2f}, test "
          f"{models.accuracy(target_model, X[split.target_out], y[split.target_out]):.2f}; {args.shadows} shadow "
          f"models on a pool of {len(pool)} records, 2,500 each, {args.epochs} epochs", flush=True)

    # --- ART ---------------------------------------------------------------------------------------------------
    class TargetRecipe(PyTorchClassifier):
        """A PyTorchClassifier whose fit() uses the target's recipe (ShadowModels calls fit(x, y) without options)."""

        def fit(self, x, y, batch_size=64, nb_epochs=args.epochs, **kwargs):
            return super().fit(x, y, batch_size=batch_size, nb_epochs=nb_epochs, **kwargs)

    def art_classifier(module):
        return TargetRecipe(module, loss=torch.nn.CrossEntropyLoss(), input_shape=(600,), nb_classes=100,
                            optimizer=torch.optim.Adam(module.parameters(), lr=1e-3), clip_values=(0.0, 1.0))

    start = time.perf_counter()
    art_target = art_classifier(target_model)
    template = art_classifier(models.MLP(600, 100, hidden=(256,), random_state=args.seed + 1))
    shadows = ShadowModels(template, num_shadow_models=args.shadows, random_state=args.seed)
    (mx, my, mp), (nx, ny, npred) = shadows.generate_shadow_dataset(X_pool, np.eye(100)[y_pool], member_ratio=0.5)
    t_shadows = time.perf_counter() - start
    # ART's PyTorchClassifier answers logits; its attack model gets probabilities, as mialab's does
    attack = MembershipInferenceBlackBox(art_target, input_type="prediction", attack_model_type=args.attack_model)
    attack.fit(mx, my, nx, ny, _softmax(mp), _softmax(npred))
    art_scores = attack.infer(X_cand, np.eye(100)[y_cand], pred=_softmax(art_target.predict(X_cand)),
                              probabilities=True)
    art_scores = np.asarray(art_scores).reshape(len(X_cand), -1)[:, -1]
    t_art = time.perf_counter() - start
    art_auc = auc(art_scores, is_member)
    print(f"ART:    {t_art:7.1f} s (shadows {t_shadows:.1f} s)  AUC {art_auc:.3f}", flush=True)

    # --- mialab: the paper's per-class attack models (the default), and one attack model on sorted probabilities
    variants = (("per class, full vector (paper)", dict(per_class=True)),
                ("per class, sorted + true label", dict(per_class=True, sort=True, true_label=True)),
                ("one model, sorted + true label", dict(per_class=False, sort=True, true_label=True)),
                ("one model, sorted", dict(per_class=False, sort=True)))
    for name, options in variants:
        start = time.perf_counter()
        ours = ShadowAttack(n_shadows=args.shadows, train_size=2500, recipe=dict(epochs=args.epochs),
                            random_state=args.seed, **options)
        ours.fit(X_pool, y_pool)
        our_scores = ours.score(BlackBox(target_model), X_cand, y_cand)
        t_ours = time.perf_counter() - start
        our_auc = auc(our_scores, is_member)
        print(f"mialab ({name}): {t_ours:6.1f} s  AUC {our_auc:.3f}  ->  {t_art / t_ours:.1f}x faster than ART, "
              f"AUC {our_auc - art_auc:+.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

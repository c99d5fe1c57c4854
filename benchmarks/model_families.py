"""How notebook 03's model families were matched in accuracy, and what their section costs: a measurement.

Each family's one capacity setting (logistic regression's C, the tree's depth, the number of trees, k, naive
Bayes' smoothing, the MLP's iterations) is swept over a small grid; each setting trains on notebook 03's 1,000
target records and is scored on 2,000 purchase-100 records that are neither candidates nor in the attacker's pool
(split.shadow[5000:7000]). The notebook takes, per family, the value whose accuracy comes closest to 0.40. Then
the section's `family_transfer` call is timed (wall and process CPU time; its bootstrap included):

    python benchmarks/model_families.py

About 15 s on one idle core. Results are in docs/measurements.md.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import BernoulliNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from mialab import data
from mialab.attacks.families import family_transfer

GRID = {
    "logistic, C": ((0.02, 0.05, 0.1, 1.0), lambda c: LogisticRegression(C=c, tol=1e-3)),
    "tree, max_depth": ((10, 30, None), lambda d: DecisionTreeClassifier(max_depth=d, random_state=0)),
    "forest, n_estimators": ((10, 30, 100), lambda n: RandomForestClassifier(n_estimators=n, n_jobs=1, random_state=0)),
    "k-NN (distance), k": ((1, 5, 10, 20), lambda k: KNeighborsClassifier(n_neighbors=k, weights="distance",
                                                                         algorithm="brute")),
    "naive Bayes, alpha": ((0.3, 0.5, 0.7, 1.0), lambda a: BernoulliNB(alpha=a)),
    "MLP (32, alpha 1), max_iter": ((30, 50, 100), lambda i: MLPClassifier(hidden_layer_sizes=(32,), alpha=1.0,
                                                                           max_iter=i, random_state=0)),
}
FAMILIES = {   # notebook 03's choices
    "logistic": lambda: LogisticRegression(C=0.05, tol=1e-3),
    "tree": lambda: DecisionTreeClassifier(),
    "forest": lambda: RandomForestClassifier(n_estimators=30, n_jobs=1),
    "k-NN": lambda: KNeighborsClassifier(n_neighbors=10, weights="distance", algorithm="brute"),
    "naive Bayes": lambda: BernoulliNB(alpha=0.7),
    "MLP": lambda: MLPClassifier(hidden_layer_sizes=(32,), alpha=1.0, max_iter=50),
}


def main() -> None:
    X, y = data.load_purchase(n_classes=100)
    split = data.target_shadow_split(len(X), n_target=1000, random_state=0)
    X_train, y_train = X[split.target_in], y[split.target_in]
    X_out, y_out = X[split.target_out], y[split.target_out]
    X_pool, y_pool = X[split.shadow[:5000]], y[split.shadow[:5000]]
    X_held, y_held = X[split.shadow[5000:7000]], y[split.shadow[5000:7000]]
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (values, make) in GRID.items():
            accuracy = [float(np.mean(make(v).fit(X_train, y_train).predict(X_held) == y_held)) for v in values]
            print(f"{name:30s} " + "  ".join(f"{v}: {a:.3f}" for v, a in zip(values, accuracy)))
    wall, cpu = time.perf_counter(), time.process_time()
    result = family_transfer(FAMILIES, (X_train, y_train), (X_out, y_out), (X_pool, y_pool), n_shadows=1,
                             random_state=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(result.summary().to_string())
    print(result.table().to_string())
    print(f"family_transfer: {wall:.1f} s wall, {cpu:.1f} s CPU")


if __name__ == "__main__":
    main()

"""Hidden tests for notebook 12 (the capstone): the student's functions on inputs drawn at grading time, against the
references (blocked while the student's code runs); the diagnosis against the variant of the student's target,
which the grading process knows (mialab.capstone.key_variant: the instructor's answer key, or the public target)."""

from __future__ import annotations

import numpy as np

from . import CheckError
from .hidden import _agree, _call, _fresh_rng, _quiet
from .nb12 import BLOCK_DIAGNOSE, BLOCK_EPSILON, BLOCK_TABLE, TYPICAL, YARDSTICKS, plain_evidence, ranked

_evidence: dict = {}   # (target file's digest, key) -> evidence: measured once per target (autograde grades many
                       # submissions, each with its own target, in one process)


def test_epsilon_lower_bound(epsilon_lower_bound) -> None:
    """Exercise 12.1 on fresh counts, with the edges: tp = 0 or n, fp = 0 or n, a TPR bound at or below delta."""
    from ..capstone import epsilon_lower_bound as reference
    rng = _fresh_rng()
    draws = []
    for trial in range(14):
        n1, n0 = (int(v) for v in rng.integers(1, 5000, size=2))
        tp = [0, n1][trial % 2] if trial < 4 else int(rng.integers(0, n1 + 1))
        fp = [0, n0][trial // 2 % 2] if trial < 4 else int(rng.integers(0, max(1, n0 // 20) + 1))
        delta = float(rng.choice([0.0, 1e-5, 0.01, 0.3]))
        draws.append((tp, n1, fp, n0, delta))
    draws.append((1, 1000, 0, 1000, 0.01))          # a TPR bound below delta
    n1, n0 = (int(v) for v in rng.integers(500, 5000, size=2))
    draws.append((int(rng.integers(n1 // 4, n1 // 2)), n1, int(rng.integers(0, n0 // 100)), n0, 0.01))  # delta counts
    draws.append((int(rng.integers(20, 40)), 1000, int(rng.integers(60, 90)), 1000, 0.0))   # a negative log: 0
    for args in draws:
        got = _call("Exercise 12.1", epsilon_lower_bound, *args, block=BLOCK_EPSILON)
        _agree("Exercise 12.1", got, _quiet(reference, *args), tol=1e-7)


def test_audit_table(audit_table) -> None:
    """Exercise 12.2 on fresh score sets (ties, few and many non-members); each draw also holds an attack that
    separates members from non-members (many thresholds reach TPR 1: the lowest FPR among them is taken) and one
    whose best threshold at 1% has an FPR of exactly 1%."""
    from ..capstone import audit_table as reference
    rng = _fresh_rng()
    for trial in range(4):
        n0 = int(rng.choice([1000, 2000])) if trial < 2 else int(rng.integers(100, 3000))  # FPR = 1% reachable
        n1 = int(rng.integers(100, 3000))
        is_member = rng.permutation(np.arange(n0 + n1) < n1)
        n = n0 + n1
        scores = {}
        for name in ("a", "b", "c")[:int(rng.integers(1, 4))]:
            values = rng.normal(size=n) + rng.uniform(0, 3) * is_member
            scores[name] = np.round(values, 1) if rng.random() < 0.5 or name == "a" else values
        if trial < 2:
            scores["separated"] = rng.uniform(size=n) + 2.0 * is_member
            allowed = n0 // 100
            top = [False] * allowed + [True] * int(rng.integers(5, 50)) + [False, True]
            scores["exactly 1%"] = ranked(is_member, top, rng)
        delta = [1e-3, 1e-5][trial] if trial < 2 else float(rng.choice([0.0, 1e-5]))   # 1e-3: delta counts
        expected = _quiet(reference, scores, is_member, delta)
        got = _call("Exercise 12.2", audit_table, {k: v.copy() for k, v in scores.items()}, is_member.copy(), delta,
                    block=BLOCK_TABLE)
        if not isinstance(got, dict) or set(got) != set(expected):
            raise CheckError("Exercise 12.2: your function does not return one row per attack (a dict keyed by "
                             "the attacks' names) on fresh inputs drawn at grading time.")
        for name in expected:
            _agree("Exercise 12.2", got[name], expected[name], tol=1e-6)


def _target_evidence() -> tuple[str, dict]:
    """(variant, evidence) of the target the notebook audits: the answer key's variant, the reference evidence."""
    import hashlib
    import os

    from .. import capstone
    from ..cache import train_in_out_models
    path = capstone.target_path()
    which = (hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else None,
             os.environ.get(capstone.KEY_ENV, "").strip())
    try:
        variant = capstone.key_variant()
    except (LookupError, OSError, ValueError) as error:
        raise CheckError(f"Exercise 12.3: the diagnosis cannot be graded here ({error}); please tell your "
                         "instructor.") from None
    if which not in _evidence:
        audit = _quiet(capstone.load)
        refs, masks = _quiet(train_in_out_models, audit.X_population, audit.y_population, 4, random_state=1)
        _evidence[which] = _quiet(capstone.gather_evidence, audit, refs, masks)
    return variant, _evidence[which]


def test_diagnose(diagnose) -> None:
    """Exercise 12.3: the typical evidence of every variant, then the evidence of the student's own target (measured
    here, by the reference audit), against its variant."""
    from ..capstone import diagnose as reference
    cases = [(name, dict(evidence)) for name, evidence in TYPICAL.items()]
    cases += [(_quiet(reference, evidence), dict(evidence)) for _, evidence, _ in YARDSTICKS]
    rng = _fresh_rng()
    for _ in range(12):                            # fresh yardsticks, each ratio drawn on either side of its factor
        acc, norm, conf = float(rng.uniform(0.3, 0.95)), float(rng.uniform(5, 80)), float(rng.uniform(0.5, 1.0))
        ratios = [float(rng.choice([rng.uniform(0.3, 0.97), rng.uniform(1.03, 1.5)])) * factor
                  for factor in (0.8, 0.65, 0.9)]
        evidence = plain_evidence(api=str(rng.choice(["probabilities", "probabilities", "label"])),
                                  acc=(ratios[0] * acc, acc), norm=(ratios[1] * norm, norm),
                                  conf=(ratios[2] * conf, conf))
        cases.append((_quiet(reference, evidence), evidence))
    for name, evidence in cases:
        got = _call("Exercise 12.3", diagnose, dict(evidence), block=BLOCK_DIAGNOSE)
        if not isinstance(got, str):
            raise CheckError(f"Exercise 12.3: your function returned {type(got).__name__}, expected the name of a "
                             "defence (a str).")
        if got != name:
            raise CheckError("Exercise 12.3: your function names the wrong defence for evidence drawn at grading "
                             "time (typical evidence of a variant, or evidence whose yardsticks differ).")
    variant, evidence = _target_evidence()
    got = _call("Exercise 12.3", diagnose, dict(evidence), block=BLOCK_DIAGNOSE)
    if not isinstance(got, str) or got != variant:
        raise CheckError("Exercise 12.3: your function does not name your target's defence from its evidence.")

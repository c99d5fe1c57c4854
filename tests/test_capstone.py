"""mialab.capstone (notebook 12): the five targets and their diagnosis, graded mode's files and answer key, the
epsilon lower bound and the audit table; notebook 12's checks and hidden tests."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import beta

from mialab import capstone, capstone_targets, metrics
from mialab.cache import train_in_out_models
from mialab.checks import CheckError, nb12
from _course import hidden_test
from mialab.checks.grading import HiddenTestFailed
from mialab.defenses import dpsgd


@pytest.fixture(scope="module")
def references():
    """The auditor's reference models for the full-size targets (the notebook's call: cached, shared with it)."""
    audit = capstone.build(variant="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train_in_out_models(audit.X_population, audit.y_population, 4, random_state=1)


# --- the variants ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", capstone.VARIANTS)
def test_every_variant_is_named_by_the_reference_audit(variant, references):
    """Full size (2,500 members, as the notebook; cached after the first run): the diagnosis names each variant."""
    audit = capstone.build(variant=variant)
    evidence = capstone.gather_evidence(audit, *references)
    assert capstone.diagnose(evidence) == variant, evidence
    assert capstone.reveal(audit) == variant
    assert audit.api == ("label" if variant == "label-only" else "probabilities")


def test_the_seed_picks_the_variant_and_the_public_target_is_fixed():
    picks = {capstone_targets._plan(f"public-seed-{seed}")[0] for seed in range(40)}
    assert picks == set(capstone.VARIANTS)
    assert capstone_targets._plan("public-seed-12") == capstone_targets._plan("public-seed-12")
    assert capstone_targets._plan("a secret", "alice") != capstone_targets._plan("a secret", "bob") or \
        capstone_targets._plan("a secret", "alice")[1] != capstone_targets._plan("a secret", "bob")[1]
    audit = capstone.build()
    assert capstone.reveal(audit) == capstone_targets._plan(f"public-seed-{capstone.PUBLIC_SEED}")[0]
    assert audit.is_member.sum() == len(audit.is_member) // 2


def test_the_black_box_refuses_queries_past_its_budget():
    audit = capstone.build(budget=3000)
    audit.target.query(audit.X_candidates[:2000])
    assert audit.target.queries_left == 1000
    with pytest.raises(capstone.QueryBudgetExceeded, match="1,000 of the budget of 3,000"):
        audit.target.query(audit.X_candidates[:1001])
    assert audit.target.n_queries == 2000


# --- graded mode ---------------------------------------------------------------------------------------------------

SECRET = "course secret 2026"


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    """Graded mode through the command line: two students' targets (small: 250 members) and the answer key."""
    from mialab.course.__main__ import main
    out = tmp_path_factory.mktemp("capstone") / "out"
    assert main(["capstone", "--secret", SECRET, "--out", str(out), "--student", "alice", "--student", "bob",
                 "--n-train", "250"]) == 0
    return out, json.loads((out / capstone.KEY_FILE).read_text())


def test_graded_targets_hold_no_variant_and_the_key_grades_each_students_file(assignment, monkeypatch):
    out, key = assignment
    assert sorted(entry["student"] for entry in key.values()) == ["alice", "bob"]
    for entry in key.values():
        path = out / entry["student"] / capstone.TARGET_FILE
        state = torch.load(path, weights_only=True)
        assert set(state) == {"format", "weights", "api", "n_train", "is_member", "budget"}
        assert state["api"] == ("label" if entry["variant"] == "label-only" else "probabilities")
        audit = capstone.load(path)
        assert audit.api == state["api"] and audit.n_train == 250
        with pytest.raises(ValueError, match="answer key"):
            capstone.reveal(audit)
        monkeypatch.setenv(capstone.KEY_ENV, str(out / capstone.KEY_FILE))
        monkeypatch.setenv(capstone.TARGET_ENV, str(path))
        assert capstone.key_variant() == entry["variant"]
    monkeypatch.setenv(capstone.TARGET_ENV, str(out / "changed.pt"))
    (out / "changed.pt").write_bytes(path.read_bytes() + b"x")   # a changed (or self-built) target: not in the key
    with pytest.raises(LookupError, match="not one of this answer key"):
        capstone.key_variant()
    monkeypatch.delenv(capstone.TARGET_ENV)
    with pytest.raises(LookupError, match="no capstone target file"):
        capstone.key_variant()
    monkeypatch.delenv(capstone.KEY_ENV)
    assert capstone.key_variant() == capstone_targets._plan(f"public-seed-{capstone.PUBLIC_SEED}")[0]


def test_the_same_secret_builds_the_same_target(assignment, tmp_path):
    out, key = assignment
    again = capstone.make_assignment(SECRET, tmp_path, ["alice"], n_train=250)
    assert again.items() <= key.items()


@pytest.mark.parametrize("call, match", [
    (lambda: capstone.build(variant="dropout"), "variant"),
    (lambda: capstone.build(n_train=100), "n_train"),
    (lambda: capstone.make_assignment("short", "out"), "secret"),
    (lambda: capstone.make_assignment("long enough secret", "out", ["../x"]), "student name"),
    (lambda: capstone.epsilon_lower_bound(11, 10, 0, 10), "cannot exceed"),
    (lambda: capstone.reveal("L2"), "Capstone"),
])
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --- the epsilon lower bound and the table ------------------------------------------------------------------------

def test_epsilon_lower_bound_is_the_clopper_pearson_version_of_the_point_estimate():
    tp, n1, fp, n0 = 500, 1000, 10, 1000
    low, high = beta.ppf(0.025, tp, n1 - tp + 1), beta.ppf(0.975, fp + 1, n0 - fp)
    assert capstone.epsilon_lower_bound(tp, n1, fp, n0, 0.0) == pytest.approx(math.log(low / high))
    assert capstone.epsilon_lower_bound(tp, n1, fp, n0, 0.0) < dpsgd.empirical_epsilon(0.5, 0.01)
    assert 0 < capstone.epsilon_lower_bound(50, 1000, 0, 1000, 0.0) < math.inf      # fp = 0: still finite
    assert capstone.epsilon_lower_bound(0, 1000, 0, 1000, 0.0) == 0.0                # tp = 0 proves nothing
    assert capstone.epsilon_lower_bound(1000, 1000, 1000, 1000, 0.0) == 0.0          # fp = n: FPR bound 1
    more = capstone.epsilon_lower_bound(5000, 10000, 100, 10000, 0.0)
    assert capstone.epsilon_lower_bound(tp, n1, fp, n0, 0.0) < more < math.log(50)  # more records, tighter


def test_audit_table_agrees_with_the_metrics():
    rng = np.random.default_rng(0)
    is_member = np.arange(4000) < 2000
    scores = {"a": rng.normal(size=4000) + is_member, "b": np.round(rng.normal(size=4000) + 0.3 * is_member, 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = capstone.audit_table(scores, is_member)
        for name, s in scores.items():
            auc, tpr1, eps1, tpr01, eps01 = table[name]
            assert auc == pytest.approx(metrics.auc(s, is_member))
            assert tpr1 == pytest.approx(metrics.tpr_at_fpr(s, is_member, 0.01))
            assert tpr01 == pytest.approx(metrics.tpr_at_fpr(s, is_member, 0.001))
            tp, n1, fp, n0 = capstone.operating_point(s, is_member, 0.01)
            assert fp <= 0.01 * n0 and eps1 == capstone.epsilon_lower_bound(tp, n1, fp, n0, capstone.DELTA)


# --- notebook 12's checks and hidden tests -------------------------------------------------------------------------

def _epsilon(tp, n1, fp, n0, delta):
    low = 0.0 if tp == 0 else beta.ppf(0.025, tp, n1 - tp + 1)
    high = 1.0 if fp == n0 else beta.ppf(0.975, fp + 1, n0 - fp)
    return 0.0 if low <= delta else float(max(0.0, np.log((low - delta) / high)))


def _table(scores, is_member, delta):
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    out = {}
    for name, s in scores.items():
        fpr, tpr, _ = metrics.roc_curve(s, is_member)
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            ok = np.flatnonzero(fpr <= at)
            i = ok[np.argmax(tpr[ok])]
            tp, fp = int(round(tpr[i] * n1)), int(round(fpr[i] * n0))
            row += [tp / n1, _epsilon(tp, n1, fp, n0, delta)]
        out[name] = row
    return out


def _diagnose(evidence):
    if evidence["api"] == "label":
        return "label-only"
    if evidence["nonmember_acc"] < 0.8 * evidence["reference_acc"]:
        return "DP-SGD"
    if evidence["weight_norm"] < 0.65 * evidence["reference_weight_norm"]:
        return "L2"
    if evidence["member_confidence"] < 0.9 * evidence["reference_member_confidence"]:
        return "distillation"
    return "none"


def _point_epsilon(tp, n1, fp, n0, delta):   # the common wrong answer: no intervals
    return 0.0 if tp / n1 <= delta else (math.inf if fp == 0 else max(0.0, math.log((tp / n1 - delta) / (fp / n0))))


def _table_strict(scores, is_member, delta):  # the other common wrong answer: FPR < at instead of <= at
    n1, n0 = int(is_member.sum()), int((~is_member).sum())
    out = {}
    for name, s in scores.items():
        fpr, tpr, _ = metrics.roc_curve(s, is_member)
        row = [metrics.auc(s, is_member)]
        for at in (0.01, 0.001):
            ok = np.flatnonzero(fpr < at)
            i = ok[np.argmax(tpr[ok])]
            tp, fp = int(round(tpr[i] * n1)), int(round(fpr[i] * n0))
            row += [tp / n1, _epsilon(tp, n1, fp, n0, delta)]
        out[name] = row
    return out


RIGHT = {"epsilon_lower_bound": _epsilon, "audit_table": _table, "diagnose": _diagnose}
WRONG = {"epsilon_lower_bound": _point_epsilon, "audit_table": _table_strict,
         "diagnose": lambda evidence: "none" if evidence["api"] != "label" else "label-only"}
REFERENCE = {"epsilon_lower_bound": lambda *a: capstone.epsilon_lower_bound(*a),
             "audit_table": lambda *a: capstone.audit_table(*a),
             "diagnose": lambda evidence: capstone.diagnose(evidence)}
CHECKS = {"epsilon_lower_bound": nb12.check_epsilon_lower_bound, "audit_table": nb12.check_audit_table,
          "diagnose": nb12.check_diagnose}


@pytest.mark.parametrize("exercise", list(RIGHT))
def test_hidden_tests_pass_the_right_answer_and_fail_a_wrong_one(exercise):
    assert hidden_test("nb12", exercise, RIGHT[exercise]) is None
    with pytest.raises(HiddenTestFailed, match="wrong answer|wrong defence|does not name"):
        hidden_test("nb12", exercise, WRONG[exercise])


def test_grading_and_the_checks_block_each_exercises_reference(capsys):
    """Each exercise blocks its reference (and 12.2 the pieces of it); calling it scores 0 and the check says so."""
    assert {"capstone.epsilon_lower_bound", "dpsgd.empirical_epsilon"} <= set(nb12.BLOCK_EPSILON)
    assert {"capstone.audit_table", "capstone.operating_point", "capstone.epsilon_lower_bound"} <= \
        set(nb12.BLOCK_TABLE)
    assert nb12.BLOCK_DIAGNOSE == ("capstone.diagnose",)
    with pytest.raises(HiddenTestFailed, match="calls mialab's own implementation"):
        hidden_test("nb12", "epsilon_lower_bound", REFERENCE["epsilon_lower_bound"])
    with pytest.raises(CheckError, match="calls mialab's own implementation"):
        nb12.check_diagnose(REFERENCE["diagnose"])
    assert "❌" in capsys.readouterr().out


@pytest.mark.parametrize("exercise", list(RIGHT))
def test_checks_pass_the_right_answer_and_fail_a_wrong_one(exercise, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CHECKS[exercise](RIGHT[exercise])
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckError):
        CHECKS[exercise](WRONG[exercise])
    assert "❌" in capsys.readouterr().out


def test_the_diagnosis_hidden_test_grades_against_the_answer_key(assignment, tmp_path, monkeypatch):
    """Graded against the key's variant for the target file beside the notebook; no key for a file: no grade."""
    out, key = assignment
    (digest, entry), = ((d, e) for d, e in key.items() if e["student"] == "alice")
    monkeypatch.chdir(out / "alice")                              # the target file beside the notebook
    forged = tmp_path / capstone.KEY_FILE                         # a key that names another variant
    other = next(v for v in capstone.VARIANTS if v != entry["variant"])
    forged.write_text(json.dumps({digest: {"student": "alice", "variant": other}}))
    monkeypatch.setenv(capstone.KEY_ENV, str(forged))
    # the course's rule, right on all the evidence the hidden test draws (typical, other yardsticks) and on the
    # target's own, which the forged key says is another variant
    with pytest.raises(HiddenTestFailed, match="does not name your target's defence"):
        hidden_test("nb12", "diagnose", _diagnose)
    monkeypatch.delenv(capstone.KEY_ENV)
    with pytest.raises(HiddenTestFailed, match="cannot be graded here"):
        hidden_test("nb12", "diagnose", _diagnose)


# --- graded mode, end to end with real nbgrader -------------------------------------------------------------------

@pytest.mark.notebook
def test_nbgrader_grades_a_students_own_target_against_the_answer_key(tmp_path):
    """The instructor's path of docs/instructor_guide.md: a graded target for one student (a label-only API, unlike
    the public target), put in the student's submission folder, autograded with the key named in the environment:
    the file reaches the autograded notebook, which audits it (labels only), and the diagnosis gets its points."""
    import subprocess
    import sys
    from pathlib import Path

    import nbformat

    from mialab.course.execute import kernel_env
    from mialab.course.grading import make_course

    name, root = "12_capstone_audit", tmp_path / "course"
    solution = Path(__file__).resolve().parents[1] / "solutions" / f"{name}.ipynb"
    key = capstone.make_assignment("course secret 5", tmp_path / "targets", ["alice"])
    assert [entry["variant"] for entry in key.values()] == ["label-only"]
    make_course(root, solution.parent, name)
    folder = root / "submitted" / "alice" / name
    folder.mkdir(parents=True)
    (folder / f"{name}.ipynb").write_bytes(solution.read_bytes())
    (folder / capstone.TARGET_FILE).write_bytes((tmp_path / "targets" / "alice" / capstone.TARGET_FILE).read_bytes())
    env = {**kernel_env(), capstone.KEY_ENV: str(tmp_path / "targets" / capstone.KEY_FILE),
           "PATH": f"{Path(sys.executable).parent}:{kernel_env().get('PATH', '')}"}
    for command in (["generate_assignment", name], ["autograde", name]):
        result = subprocess.run([sys.executable, "-m", "nbgrader", *command], cwd=root, env=env, capture_output=True,
                                text=True, timeout=900)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(name, name, "alice")
        grades = {grade.name: (grade.score, grade.max_score) for grade in submission.grades}
    written = {c.metadata["nbgrader"]["grade_id"] for c in nbformat.read(solution, as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.metadata["nbgrader"].get("grade")}
    assert all(score == most > 0 for grade_id, (score, most) in grades.items() if grade_id not in written), grades
    graded = nbformat.read(root / "autograded" / "alice" / name / f"{name}.ipynb", as_version=4)
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for c in graded.cells
                   for o in c.get("outputs", []))
    assert "api='label'" in text and "diagnosis: label-only" in text


def test_one_grading_process_grades_each_students_diagnosis_against_their_own_target(assignment, monkeypatch):
    """Autograde grades every submission in one process: the evidence the diagnosis is graded on is the target's
    beside each notebook, not the first one measured."""
    from mialab.checks import hidden_nb12

    out, key = assignment
    monkeypatch.setenv(capstone.KEY_ENV, str(out / capstone.KEY_FILE))
    monkeypatch.setattr(hidden_nb12, "_evidence", {})
    seen = {}
    for entry in key.values():
        monkeypatch.chdir(out / entry["student"])
        seen[entry["student"]] = hidden_nb12._target_evidence()
        assert seen[entry["student"]][0] == entry["variant"]
    assert len(hidden_nb12._evidence) == 2 and seen["alice"][1] is not seen["bob"][1]

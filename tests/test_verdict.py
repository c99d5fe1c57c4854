"""Grading v3 (mialab.course.verdict, mialab.course.sandbox, mialab.checks.registry): the registry matches the
notebooks; the sandbox's copy of mialab lacks each exercise's off-limits code; the sandbox hides what grading keeps;
and, under the real nbgrader command line, a cheat suite gains nothing while honest variants get full marks.

Each submission below fills some exercise cells of a notebook (see tests/_course.py: the notebook's import,
exercise and check cells); every (student, exercise) pair names the points it must get. The cheats were written
as a determined student would, one class at a time (issue 24): a wrong shape; forging the verdict from the kernel;
undoing the blocks; reaching the answer through code left reachable; the query counter; the capstone key; taking
over the kernel's grading code. Honest variants: float32, lists, pandas, ufuncs imported by name, functools.cache
helpers, helpers and classes from earlier cells, warnings, long printing, in-place edits of the inputs.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mialab.checks import registry
from mialab.course import sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _course import SOLUTIONS, Course  # noqa: E402

NOTEBOOKS = {path.stem[:2]: path for path in sorted(SOLUTIONS.glob("*.ipynb"))}
AUTOGRADED = [row for row in registry.EXERCISES if not row.manual]


def _cells(row):
    nb = nbformat.read(NOTEBOOKS[f"{int(row.id.split('.')[0]):02d}"], as_version=4)
    return {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in nb.cells}


def solution(row) -> str:
    """The exercise's solution cell, without nbgrader's markers (what a student who solved it submits)."""
    source = _cells(row)[row.grade_id.replace("_check", "_solution")].source
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line) + "\n"


# ---------------------------------------------------------------- the registry is the notebooks' truth

@pytest.mark.parametrize("row", registry.EXERCISES, ids=lambda row: row.id)
def test_every_registry_row_matches_its_notebook(row):
    cells = _cells(row)
    assert row.grade_id in cells, f"{row.id}: no cell {row.grade_id} in its notebook"
    meta = cells[row.grade_id].metadata["nbgrader"]
    assert meta["grade"] and float(meta["points"]) == row.points
    if row.manual:
        assert meta["solution"]
        return
    source = cells[row.grade_id].source
    assert f'graded_outside("{row.id}")' in source.split("### BEGIN HIDDEN TESTS")[1]
    assert re.search(rf"\b{row.function}\b", source.split("### BEGIN HIDDEN TESTS")[0]), row.function
    defined = {node.name for node in ast.parse(solution(row)).body if isinstance(node, ast.FunctionDef)}
    assert row.function in defined, f"{row.id}: the solution cell does not define {row.function}"
    hidden = Path(registry.__file__).with_name(f"hidden_{row.notebook}.py")
    hidden = hidden if hidden.exists() else hidden.with_name("hidden.py")
    assert f"def test_{row.test}(" in hidden.read_text()


def test_every_graded_cell_of_the_course_has_a_row():
    for path in NOTEBOOKS.values():
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                assert meta["grade_id"] in registry.BY_GRADE_ID, f"{path.name}: {meta['grade_id']} has no row"


# ---------------------------------------------------------------- the sandbox's copy of mialab

@pytest.mark.parametrize("row", AUTOGRADED, ids=lambda row: row.id)
def test_the_sandbox_copy_lacks_the_off_limits_code(row, tmp_path):
    sandbox.package_copy(row.off_limits, tmp_path)  # LookupError when a row names no function
    package = tmp_path / "mialab"
    assert not (package / "course").exists() and not list(package.glob("checks/hidden*.py"))
    assert "ReferenceBlocked" in (package / "answers.py").read_text()
    for key in row.blocks:
        module, name = key.rsplit(".", 1)
        for path in package.rglob(f"{module}.py"):
            tree = ast.parse(path.read_text())
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == name:
                    body = ast.unparse(node)
                    assert "ReferenceBlocked" in body and len(node.body) == 2, key


def test_a_references_private_helpers_go_with_it_unless_unblocked_code_uses_them():
    source = ("def _a(x):\n    return _b(x)\n\ndef _b(x):\n    return x\n\ndef _c(x):\n    return x\n\n"
              "def ref(x):\n    return _a(x) + _c(x)\n\ndef other(x):\n    return _b(x) + 1\n\n"
              "TABLE = {'c': _c}\n")
    new, pruned = sandbox.prune_source(source, "m", {"ref"})
    assert pruned == {"ref", "_a"}  # _b: `other` uses it; _c: a table holds it
    namespace = {}
    exec(compile(new.replace("from mialab._reference import ReferenceBlocked as _Blocked",
                             "_Blocked = RuntimeError"), "m", "exec"), namespace)
    assert namespace["other"](1) == 2
    with pytest.raises(RuntimeError, match="m._a"):
        namespace["_a"](1)


def test_a_row_that_names_no_function_is_refused(tmp_path):
    with pytest.raises(LookupError, match="metrics.no_such_function"):
        sandbox.package_copy(["metrics.no_such_function"], tmp_path)


needs_sandbox = pytest.mark.skipif(sandbox.available() is not None, reason=f"no sandbox: {sandbox.available()}")


@needs_sandbox
def test_the_sandbox_hides_the_grader(tmp_path, monkeypatch):
    """Inside: no network, no other process, no course folder, no real mialab, no key, an empty environment."""
    key = tmp_path / "secret" / "capstone_key.json"
    key.parent.mkdir()
    key.write_text("{}")
    monkeypatch.setenv("MIALAB_CAPSTONE_KEY", str(key))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gradebook.db").write_text("grades")
    copy = sandbox.Copy(("metrics.advantage",))
    probe = f"""
import os, socket, sys
sys.path.insert(0, {sandbox.INSIDE!r})
import mialab, mialab.metrics
print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("course", os.path.exists({str(tmp_path / 'gradebook.db')!r}))
print("key", os.path.exists({str(key)!r}))
print("real", os.listdir({str(sandbox.PACKAGE)!r}))
print("env", sorted(k for k in os.environ if k.startswith("MIALAB_CAPSTONE")))
print("mialab", mialab.__file__)
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    print("net", True)
except OSError:
    print("net", False)
open("/tmp/x", "w").write("mine")
open({str(tmp_path / 'gradebook.db')!r}, "w").write("forged")  # a tmpfs over the course folder takes it
try:
    open(os.path.join(sys.prefix, "planted.py"), "w")
    print("write", True)
except OSError:
    print("write", False)
"""
    try:
        result = subprocess.run(sandbox.command([sys.executable, "-I", "-c", probe], copy.folder),
                                capture_output=True, text=True, timeout=60)
    finally:
        copy.close()
    out = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert result.returncode == 0, result.stderr
    assert len(ast.literal_eval(out["pids"])) <= 3  # bwrap's init, python (and nothing of the host)
    assert out["course"] == "False" and out["key"] == "False" and out["real"] == "[]"
    assert out["env"] == "[]" and out["mialab"].startswith(sandbox.INSIDE) and out["net"] == "False"
    assert out["write"] == "False" and (tmp_path / "gradebook.db").read_text() == "grades"
    assert not Path(sys.prefix, "planted.py").exists()
    assert not Path("/tmp/x").exists() or Path("/tmp/x").read_text() != "mine"


# ---------------------------------------------------------------- real nbgrader: cheats gain nothing

ADVANTAGE = solution(registry.exercise("0.1"))
TPR = solution(registry.exercise("0.2"))
WRONG_ADV = "def membership_advantage(scores, is_member):\n    return 0.5\n"

# (notebook, student, {exercise: source}, {exercise: points})
SUBMISSIONS = [
    # --- honest, correct: full marks
    ("00", "solution", {"0.1": ADVANTAGE, "0.2": TPR}, {"0.1": 2, "0.2": 2}),
    ("00", "blank", {}, {"0.1": 0, "0.2": 0}),
    ("00", "honest-helpers", {
        "0.1": "import functools\nimport numpy as np\n\n@functools.lru_cache(maxsize=None)\ndef _zero():\n"
               "    return 0.0\n\nclass Rates:\n    def __init__(self, s, m):\n        self.s, self.m = s, m\n"
               "    def best(self):\n        t = np.unique(self.s)[:, None]\n"
               "        return max(_zero(), float(((self.s[self.m] >= t).mean(1) - (self.s[~self.m] >= t).mean(1))"
               ".max()))\n\ndef membership_advantage(scores, is_member):\n"
               "    import warnings\n    warnings.warn('just so you know')\n    for i in range(20000):\n"
               "        print(i)\n    scores = np.asarray(scores, dtype=np.float32).astype(float)\n"
               "    is_member = np.asarray(is_member)\n    scores -= scores.min()\n"
               "    return Rates(scores, is_member).best()\n",
        "0.2": TPR.replace("def tpr_at_fpr", "import pandas as pd\n\ndef _tpr_at_fpr") +
               "\ndef tpr_at_fpr(scores, is_member, fpr):\n"
               "    return _tpr_at_fpr(pd.Series(scores).to_numpy(), list(is_member) and is_member, fpr)\n"},
     {"0.1": 2, "0.2": 2}),
    # --- wrong shape
    ("00", "empty-array", {"0.1": "import numpy as np\ndef membership_advantage(scores, is_member):\n"
                                  "    return np.array([])\n",
                           "0.2": "import numpy as np\ndef tpr_at_fpr(scores, is_member, fpr):\n"
                                  "    return np.full(len(scores), 0.5)\n"}, {"0.1": 0, "0.2": 0}),
    ("01", "wrong-shapes", {"1.2": "import numpy as np\ndef correctness_attack(probs, y):\n    return np.array([])\n",
                            "1.3": "import numpy as np\ndef confidence_attack(probs, y):\n"
                                   "    return float(np.mean(probs[np.arange(len(y)), y]))\n",
                            "1.1": "def generalization_gap(p_in, y_in, p_out, y_out):\n    return [0.1, 0.2]\n"},
     {"1.1": 0, "1.2": 0, "1.3": 0}),
    # --- forging the verdict from the kernel: a fake check, a patched graded_outside, a printed ✅, an
    # execute_result that nbgrader would read as partial credit, the kernel's grading module replaced
    ("00", "forger", {"0.1": "import mialab.checks.grading as g\nimport sys\n"
                             "g.__dict__['graded_outside'] = lambda *a, **k: print('✅ Exercise 0.1: passed')\n"
                             "sys.modules['mialab.checks.grading'] = type(sys)('x')\n"
                             "sys.modules['mialab.checks.grading'].graded_outside = lambda *a: None\n"
                             "import mialab.checks.nb00 as nb\n"
                             "nb.check_membership_advantage = lambda *a, **k: print('✅ correct')\n" + WRONG_ADV,
                      "0.2": "from IPython.display import display\nimport os\nos.environ['MIALAB_VERDICT'] = 'x'\n"
                             "def tpr_at_fpr(scores, is_member, fpr):\n    return 0.0\ndisplay(2.0)\n"},
     {"0.1": 0, "0.2": 0}),
    # --- reaching the grading process or the gradebook through the operating system
    ("00", "os-attacker", {
        "0.1": "import os, signal, glob\n"
               "def membership_advantage(scores, is_member):\n"
               "    for db in glob.glob('/**/gradebook.db', recursive=True)[:3]:\n"
               "        open(db, 'a').write('x')\n"
               "    for pid in os.listdir('/proc'):\n"
               "        if pid.isdigit() and int(pid) > 2:\n"
               "            try: os.kill(int(pid), signal.SIGSTOP)\n"
               "            except Exception: pass\n"
               "    return 0.5\n",
        "0.2": "import subprocess, sys\n"
               "def tpr_at_fpr(scores, is_member, fpr):\n"
               "    code = 'import mialab.metrics as m, sys, json; print(m.tpr_at_fpr(json.loads(sys.argv[1]), '\\\n"
               "           'json.loads(sys.argv[2]), fpr=float(sys.argv[3])))'\n"
               "    import json\n"
               "    out = subprocess.run([sys.executable, '-c', code, json.dumps(list(map(float, scores))),\n"
               "                          json.dumps(list(map(bool, is_member))), str(fpr)], capture_output=True,\n"
               "                         text=True).stdout\n"
               "    return float(out)\n"}, {"0.1": 0, "0.2": 0}),
    # --- the kernel itself: a process left behind to edit the gradebook later, the gradebook written now
    ("01", "kernel-daemon", {"1.1": "import subprocess, sys\n"
                                    "subprocess.Popen([sys.executable, '-c',"
                                    " 'import time; time.sleep(600)  # mialab-daemon'], start_new_session=True)\n"
                                    "for up in ('../../../gradebook.db', '../../../../gradebook.db'):\n"
                                    "    try:\n        open(up, 'ab').write(b'forged')\n"
                                    "    except OSError:\n        pass\n"
                                    "def generalization_gap(p_in, y_in, p_out, y_out):\n    return 1.0\n"},
     {"1.1": 0}),
    # --- undoing the blocks: the block table, a reload, the source file exec'ed, the package under another name,
    # the reference's closure, its private helper
    ("00", "unblocker", {
        "0.1": "import importlib, importlib.util, sys\nimport mialab\n"
               "def membership_advantage(scores, is_member):\n"
               "    from mialab import _reference\n    _reference._blocked.clear()\n"
               "    for finder in list(sys.meta_path):\n"
               "        if 'Blocking' in type(finder).__name__: sys.meta_path.remove(finder)\n"
               "    m = importlib.reload(importlib.import_module('mialab.metrics'))\n"
               "    spec = importlib.util.spec_from_file_location('copy_of_metrics', m.__file__)\n"
               "    other = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(other)\n"
               "    return other.advantage(scores, is_member)\n",
        "0.2": "def tpr_at_fpr(scores, is_member, fpr):\n    from mialab import metrics\n"
               "    fpr_, tpr_, _ = metrics._roc(scores, is_member)\n    return metrics._tpr_at(fpr_, tpr_, fpr)\n"},
     {"0.1": 0, "0.2": 0}),
    ("00", "use-reference", {"0.1": "from mialab.checks import use_reference\n"
                                    "membership_advantage = use_reference('0.1')\n",
                             "0.2": "from mialab import answers\ntpr_at_fpr = answers.ex_0_2\n"},
     {"0.1": 0, "0.2": 0}),
    # --- answers that only look right: an object equal to everything, NaN, a frame reader
    ("00", "tricks", {
        "0.1": "class Any(float):\n    def __eq__(self, other): return True\n    __hash__ = float.__hash__\n"
               "    def __array__(self, *a, **k): raise TypeError\n"
               "def membership_advantage(scores, is_member):\n    return Any(0.5)\n",
        "0.2": "import sys\ndef tpr_at_fpr(scores, is_member, fpr):\n    f = sys._getframe(1)\n"
               "    while f is not None:\n        for v in f.f_locals.values():\n"
               "            if isinstance(v, float): return v\n        f = f.f_back\n    return float('nan')\n"},
     {"0.1": 0, "0.2": 0}),
    # --- the off-limits code left reachable before v3: a defence's own loss (11.1), the interval behind 12.1
    ("11", "reachable-11", {"11.1": "import torch\nfrom mialab.defenses.relaxloss import relaxloss\n"
                                    "def relaxloss_objective(logits, y, alpha, epoch):\n"
                                    "    return float(relaxloss(torch.as_tensor(logits), torch.as_tensor(y), alpha,"
                                    " epoch))\n"}, {"11.1": 0}),
    ("12", "reachable-12", {"12.1": "from mialab.metrics import clopper_pearson_rates\nimport numpy as np\n"
                                    "def epsilon_lower_bound(tp, n_members, fp, n_nonmembers, delta):\n"
                                    "    lo, hi = clopper_pearson_rates(tp, n_members, fp, n_nonmembers)\n"
                                    "    return 0.0 if lo <= delta else max(0.0, float(np.log((lo - delta) / hi)))\n",
                            "12.3": "import os, json\ndef diagnose(evidence):\n"
                                    "    key = os.environ.get('MIALAB_CAPSTONE_KEY')\n"
                                    "    return json.load(open(key)) if key else 'none'\n"},
     {"12.1": 0, "12.3": 0}),
    # --- the query counter (8.4, 9.2): a reset, a bypass through the wrapped function, the secret in its closure
    ("08", "counter", {"8.4": "import numpy as np\ndef finite_difference_gradient(f, x, h):\n"
                              "    if hasattr(f, 'rows'): f.rows = 0\n"
                              "    a, b, c = getattr(f, 'f', f).__defaults__\n"
                              "    return a + 2 * b * x + 3 * c * x ** 2\n"}, {"8.4": 0}),
    ("09", "closure", {"9.2": "def find_threshold(leaf_of, x, feature, low, high, tol):\n"
                              "    cells = [c.cell_contents for c in (leaf_of.__closure__ or ())]\n"
                              "    for c in cells:\n"
                              "        if isinstance(c, list): return c[0][1]\n"
                              "    return (low + high) / 2\n"}, {"9.2": 0}),
    # --- 02, 03, 04, 07, 10: the references by an alias, through importlib, a table or a fresh import
    ("02", "aliases", {"2.1": "from mialab.attacks.shadow import attack_dataset as _ad\n"
                              "def build_attack_dataset(shadow_probs, y, members, nonmembers):\n"
                              "    return _ad(shadow_probs, y, members, nonmembers)\n",
                       "2.3": "from mialab import metrics\n"
                              "def shadow_threshold_metrics(shadow_scores, shadow_is_member, scores, is_member):\n"
                              "    t = metrics.choose_threshold(shadow_scores, shadow_is_member)\n"
                              "    m = metrics.threshold_metrics(scores, is_member, t)\n"
                              "    return t, m['precision'], m['recall']\n"}, {"2.1": 0, "2.3": 0}),
    ("03", "importlib", {"3.1": "import importlib\n"
                                "def top_k_features(probs, k):\n"
                                "    module = importlib.import_module('mialab.attacks.features')\n"
                                "    return module.sorted_top_k(probs, k)\n",
                         "3.2": "import mialab.attacks.features as f\nimport types\n"
                                "_copy = types.FunctionType(f.entropy.__code__, f.__dict__)\n"
                                "def entropy_attack(probs):\n    return -_copy(probs)\n",
                         "3.3": "import numpy as np\ndef pick_threshold(noise_probs, percentile):\n"
                                "    noise_probs *= 1.0  # an in-place edit of the input\n"
                                "    top = np.sort(noise_probs, axis=1)[:, -1]\n"
                                "    return float(np.percentile(top, percentile))\n"},
     {"3.1": 0, "3.2": 0, "3.3": 1}),
    ("04", "mixed", {"4.3": "from mialab.attacks import features\n"
                            "def modified_entropy(probs, y):\n    return features.modified_entropy(probs, y)\n",
                     "4.1": "import numpy as np\ndef loss_attack(probs, y, expected_loss):\n"
                            "    p = probs[np.arange(len(y)), y]\n    return -np.log(p) > expected_loss  # reversed\n",
                     "4.2": "import numpy as np\nimport pandas as pd\n"
                            "def yeom_advantage(probs_in, y_in, probs_out, y_out):\n"
                            "    p_in = np.clip(probs_in[np.arange(len(y_in)), y_in], 1e-12, None)\n"
                            "    p_out = np.clip(probs_out[np.arange(len(y_out)), y_out], 1e-12, None)\n"
                            "    loss_in, loss_out = pd.Series(-np.log(p_in)), pd.Series(-np.log(p_out))\n"
                            "    t = loss_in.mean()\n"
                            "    return (loss_in <= t).mean() - (loss_out <= t).mean()\n"},
     {"4.3": 0, "4.1": 0, "4.2": 2}),
    ("07", "generative", {"7.1": "from mialab.attacks import generative\n"
                                 "def precision_at_k(scores, is_member, k):\n"
                                 "    return generative.precision_at_k(scores, is_member, k)\n",
                          "7.3": "import numpy as np\ndef monte_carlo_score(X, generated, eps):\n"
                                 "    return np.full(len(X), np.nan)\n",
                          "7.2": "import numpy as np\ndef reconstruction_score(X, reconstructions):\n"
                                 "    r = np.asarray(reconstructions, dtype=np.float32)\n"
                                 "    d = np.linalg.norm(r - np.asarray(X, np.float32)[None], axis=2)\n"
                                 "    return -d.mean(axis=0)\n"},
     {"7.1": 0, "7.3": 0, "7.2": 2}),
    ("10", "memorization", {"10.2": "from mialab import metrics\n"
                                    "def exposure_from_sample(canary_log_perplexity, reference_log_perplexities):\n"
                                    "    return metrics.exposure_interpolated(canary_log_perplexity,"
                                    " reference_log_perplexities)\n",
                            "10.3": "import sys, subprocess\n"
                                    "def homer_statistic(genotypes, pool_freqs, reference_freqs):\n"
                                    "    subprocess.run([sys.executable, '-c', 'import mialab.aggregates'],"
                                    " check=True)\n"
                                    "    from mialab import aggregates\n"
                                    "    return aggregates.homer_statistic(genotypes, pool_freqs, reference_freqs)\n",
                            "10.4": "import numpy as np\ndef aggregate_counts(traces, n_regions):\n"
                                    "    out = np.zeros((n_regions, traces.shape[1]))\n"
                                    "    for h in range(traces.shape[1]):\n"
                                    "        out[:, h] = np.bincount(traces[:, h], minlength=n_regions)\n"
                                    "    return out\n",
                            "10.1": "import numpy as np\ndef canary_rank(log_perplexities, secret):\n"
                                    "    return np.sum(np.asarray(log_perplexities) < log_perplexities[secret]) + 1\n"},
     {"10.2": 0, "10.3": 0, "10.4": 0, "10.1": 1}),
    # --- honest variants of 05, 06, 08, 09, 12
    ("05", "ufunc", {"5.1": "import numpy as np\nfrom numpy import log as ln\nfrom scipy.special import xlogy\n"
                            "def logit_scale(probs, y):\n"
                            "    p = np.clip(np.asarray(probs)[np.arange(len(y)), y], 1e-12, None)\n"
                            "    rest = np.clip(np.asarray(probs).sum(1) - p, 1e-12, None)\n"
                            "    return xlogy(1.0, p) - ln(rest)\n"}, {"5.1": 1}),
    ("06", "float32", {"6.1": "import torch\ndef last_layer_gradient_norm(probs, y, hidden):\n"
                              "    p = torch.as_tensor(probs, dtype=torch.float32)\n"
                              "    h = torch.as_tensor(hidden, dtype=torch.float32)\n"
                              "    e = torch.nn.functional.one_hot(torch.as_tensor(y), p.shape[1]).float()\n"
                              "    return ((p - e).norm(dim=1) * h.norm(dim=1)).numpy()\n"}, {"6.1": 2}),
    ("08", "honest-cache", {"8.4": "import functools\nimport numpy as np\n\n@functools.cache\ndef _basis(d):\n"
                                   "    return np.eye(d)\n\ndef finite_difference_gradient(f, x, h):\n"
                                   "    d = len(x)\n    steps = h * _basis(d)\n"
                                   "    values = f(np.concatenate([x + steps, x - steps]))\n"
                                   "    return list((values[:d] - values[d:]) / (2 * h))\n"}, {"8.4": 2}),
]
SOLVED = [("09", "solution", {"9.2": solution(registry.exercise("9.2"))}, {"9.2": 2}),
          ("12", "solution", {"12.1": solution(registry.exercise("12.1"))}, {"12.1": 2}),
          ("11", "solution", {"11.1": solution(registry.exercise("11.1"))}, {"11.1": 2})]
def _module_of(key: str) -> str:
    """"inversion.map_estimate" -> "mialab.attacks.inversion" (the module file named like the key's first part)."""
    stem = key.split(".")[0]
    path = next(p for p in sorted(sandbox.PACKAGE.rglob(f"{stem}.py")) if "checks" not in p.parts)
    return ".".join(("mialab", *path.relative_to(sandbox.PACKAGE).with_suffix("").parts))


# each exercise of 05-12 that has off-limits code: a submission that simply calls it (under its own name)
REFERENCE_CALLS = [(f"{int(row.id.split('.')[0]):02d}", f"calls-{row.id}",
                    {row.id: f"from {_module_of(row.blocks[0])} import {row.blocks[0].split('.')[1]} as _reference\n"
                             f"def {row.function}(*args, **kwargs):\n    return _reference(*args, **kwargs)\n"},
                    {row.id: 0})
                   for row in AUTOGRADED if row.blocks and int(row.id.split(".")[0]) >= 5
                   and row.id not in ("11.1", "12.1", "9.2", "8.4")]


def _one_per_answer(submissions):
    """One submission per answer (the notebook's other exercises left blank, which score 0)."""
    for nb, student, answers, expected in submissions:
        if len(answers) <= 1:
            yield nb, student, answers, expected
            continue
        for exercise, source in answers.items():
            yield nb, f"{student}-{exercise}", {exercise: source}, {exercise: expected[exercise]}


ALL = list(_one_per_answer(SUBMISSIONS + REFERENCE_CALLS + SOLVED))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Autograde every submission above with the real nbgrader (one run per notebook): (student, id) -> points."""
    if sandbox.available() is not None:  # the OS-level cheats would reach this machine: not without a sandbox
        pytest.skip(f"grading's sandbox cannot run here: {sandbox.available()}")
    names = sorted({NOTEBOOKS[nb].stem for nb, *_ in ALL})
    course = Course(tmp_path_factory.mktemp("verdict"), names, timeout=120)
    for nb, student, answers, _ in ALL:
        course.submit(NOTEBOOKS[nb].stem, student, answers)
    for name in names:
        course.autograde(name)
    return course, course.scores()


@pytest.mark.notebook
@pytest.mark.parametrize("submission", ALL, ids=[f"{nb}-{student}" for nb, student, *_ in ALL])
def test_real_nbgrader_gives_each_submission_its_points(graded, submission):
    course, scores = graded
    nb, student, _, expected = submission
    got = {exercise: scores.get((student, exercise)) for exercise in expected}
    if got != expected:
        feedback = course.feedback(NOTEBOOKS[nb].stem, student)
        messages = [out.get("evalue", out.get("text", ""))[:300] for cell in feedback.cells
                    for out in cell.get("outputs", []) if cell.metadata.get("nbgrader", {}).get("grade")]
        pytest.fail(f"{student}: {got} != {expected}\n" + "\n".join(messages))


@pytest.mark.notebook
def test_nothing_outside_the_sandbox_was_touched(graded):
    """The gradebook is whole (nothing appended) and no process the submissions started outlived their grading."""
    course, _ = graded
    assert not (course.folder / "gradebook.db").read_bytes().endswith(b"forged")
    left = subprocess.run(["pgrep", "-f", "mialab-daemon"], capture_output=True, text=True).stdout.split()
    assert not left, f"processes left behind by a submission: {left}"


@pytest.mark.notebook
def test_the_feedback_holds_the_verdict_alone(graded):
    """The forger's check cell printed ✅, replaced the grading code and displayed a number: its only output is the
    verdict."""
    course, _ = graded
    feedback = course.feedback(NOTEBOOKS["00"].stem, "forger-0.1")
    cell = next(cell for cell in feedback.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex0_1_check")
    assert len(cell.outputs) == 1 and cell.outputs[0].output_type == "error"
    assert cell.outputs[0].evalue.startswith("❌ Exercise 0.1 failed a hidden test")


# ---------------------------------------------------------------- every exercise: solution, blank, wrong shapes

MUTANTS = {
    "blank": "def {f}(*args, **kwargs):\n    raise NotImplementedError()\n",
    "an empty array": "def {f}(*args, **kwargs):\n    return np.array([])\n",
    "an extra axis (a column for a vector, an array for a number)":
        "def {f}(*args, **kwargs):\n    return np.expand_dims(np.asarray(_solved(*args, **kwargs)), -1)\n",
    "a number for an array, an array for a number":
        "def {f}(*args, **kwargs):\n    got = np.asarray(_solved(*args, **kwargs), dtype=float)\n"
        "    return float(got.mean()) if got.ndim else np.full(3, float(got))\n",
}


def _namespace(row) -> dict:
    """The notebook's imports and its exercises' solutions, as a notebook's `__main__` holds them (an exercise may
    call an earlier one's function: 1.4 calls 1.1-1.3)."""
    from _course import _imports

    nb = nbformat.read(NOTEBOOKS[f"{int(row.id.split('.')[0]):02d}"], as_version=4)
    namespace = {"__name__": "__main__"}
    exec("\n".join(_imports(cell.source) for cell in nb.cells if cell.cell_type == "code"), namespace)
    for other in registry.in_notebook(row.notebook):
        if not other.manual:
            exec(solution(other), namespace)
    return namespace


@pytest.mark.parametrize("row", AUTOGRADED, ids=lambda row: row.id)
def test_every_exercise_grades_its_solution_full_and_blank_or_misshapen_answers_zero(row):
    """Graded as autograde grades (mialab.course.verdict.grade_exercise: the sandbox where bubblewrap runs)."""
    from mialab.checks._process import pack
    from mialab.course.verdict import grade_exercise

    namespace = _namespace(row)
    reply = grade_exercise(row, pack(namespace[row.function]))
    assert reply["ok"], f"{row.id}: the solution failed: {reply['message']}"
    namespace["_solved"] = namespace[row.function]
    for what, source in MUTANTS.items():
        exec(source.format(f=row.function), namespace)
        reply = grade_exercise(row, pack(namespace[row.function]))
        assert not reply["ok"], f"{row.id}: {what} passed the hidden test"
        assert reply["message"].startswith(f"Exercise {row.id}"), reply["message"]


@pytest.mark.notebook
def test_an_honest_answer_that_warns_and_prints_gets_full_marks_and_sees_its_warning(graded):
    course, scores = graded
    assert scores[("honest-helpers-0.1", "0.1")] == 2
    feedback = course.feedback(NOTEBOOKS["00"].stem, "honest-helpers-0.1")
    check = next(cell for cell in feedback.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex0_1_check")
    assert [output.output_type for output in check.outputs] == ["stream"] and check.outputs[0].name == "stdout"
    assert "your function warned: UserWarning: just so you know" in check.outputs[0].text


@needs_sandbox
def test_the_kernels_sandbox_sees_its_folder_mialab_and_the_cache_and_nothing_of_grading(tmp_path, monkeypatch):
    """mialab.course.verdict.CaptureExecute runs the submission's kernel through sandbox.kernel_command."""
    course = tmp_path / "course"
    folder = course / "autograded" / "alice" / "00"
    folder.mkdir(parents=True)
    (course / "gradebook.db").write_text("grades")
    key = tmp_path / "secret" / "capstone_key.json"
    key.parent.mkdir()
    key.write_text("{}")
    io = tmp_path / "io"
    io.mkdir()
    connection = io / "kernel.json"
    connection.write_text("{}")
    monkeypatch.setenv("MIALAB_CAPSTONE_KEY", str(key))
    monkeypatch.chdir(course)
    probe = f"""
import os, sys, mialab
from mialab.data import cache_dir
print("cwd", os.getcwd())
print("key", os.path.exists({str(key)!r}), "MIALAB_CAPSTONE_KEY" in os.environ)
print("gradebook", os.path.exists("../../../gradebook.db"))
print("pids", len([p for p in os.listdir("/proc") if p.isdigit()]))
print("mialab", mialab.__file__ == {str(sandbox.PACKAGE / '__init__.py')!r})
print("cache", os.access(cache_dir(), os.W_OK))
open("mine.txt", "w").write("ok")
"""
    result = subprocess.run(sandbox.kernel_command([sys.executable, "-c", probe], folder, io, connection),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert out["cwd"] == str(folder.resolve()) and out["key"] == "False False" and out["gradebook"] == "False"
    assert int(out["pids"]) <= 3 and out["mialab"] == "True" and out["cache"] == "True"
    assert (folder / "mine.txt").read_text() == "ok" and (course / "gradebook.db").read_text() == "grades"

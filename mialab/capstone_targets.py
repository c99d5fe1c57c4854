"""The capstone's targets (instructor side): a model of unknown provenance to audit, built from a seed or handed
out as a file, and the answer key. The student's audit toolkit is mialab.capstone, which re-exports build, load,
reveal and target_path.

    audit = build()                           # self-paced: the public seed's target (a variant you do not know)
    audit.target.query(X)                     # a black box with a query budget (blackbox.BlackBox(budget=))
    audit.X_candidates, audit.is_member       # the records to audit, members and non-members mixed
    audit.model                               # the weights, for the white-box part
    reveal(audit)                             # self-check: the variant's name (self-paced targets only)

Each target is a Purchase-100 MLP 600-256-100 trained on `n_train` members with one of five VARIANTS: no defence,
L2 (Adam weight decay 5e-3), DP-SGD at epsilon 8 (Opacus), distillation on the defender's reference records, or
the undefended model behind a label-only API. The seed fixes the variant, the member split and the training.

Graded mode: `python -m mialab.course capstone --secret S --out DIR [--student NAME ...]` (make_assignment) writes
one target file per student (weights, API kind, record indices, membership, budget; no variant name) and an answer
key `capstone_key.json` (each file's SHA-256 -> its variant) that the instructor keeps. The variant and the
training seed come from an HMAC of the secret, so the package's source does not give them away; when the key is
named by $MIALAB_CAPSTONE_KEY at autograde time, the hidden test grades the diagnosis against it (key_variant).
Taught in notebook 12.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import io
import json
import numbers
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import __version__, data, models
from ._validation import as_path, check_scalar, check_seed
from .blackbox import BlackBox
from .cache import model_cache_dir, training_code_hash

VARIANTS = ("none", "L2", "DP-SGD", "distillation", "label-only")
PUBLIC_SEED = 12                     # the self-paced target (anyone can rebuild it: see reveal)
TARGET_FILE = "capstone_target.pt"   # what a student receives in graded mode
KEY_FILE = "capstone_key.json"       # what the instructor keeps
KEY_ENV = "MIALAB_CAPSTONE_KEY"      # the answer key's path at autograde time
TARGET_ENV = "MIALAB_CAPSTONE"       # a target file's path (else TARGET_FILE in the working folder)
WEIGHT_DECAY = 5e-3
EPSILON = 8.0
DELTA = 1e-5
N_FEATURES, N_CLASSES = 600, 100


@dataclass
class Capstone:
    """What the auditor receives: the black box, the candidates with their membership, the weights (white-box part),
    the auditor's own population (for reference models) and the public training recipe."""

    target: BlackBox
    model: torch.nn.Module
    X_candidates: np.ndarray
    y_candidates: np.ndarray
    is_member: np.ndarray
    X_population: np.ndarray
    y_population: np.ndarray
    recipe: dict
    api: str
    n_train: int
    _origin: dict = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return (f"Capstone(api={self.api!r}, candidates={len(self.is_member):,} ({int(self.is_member.sum()):,} "
                f"members), population={len(self.y_population):,}, budget={self.target.budget:,})")


# ---------------------------------------------------------------------------------------------------------------
# building a target
# ---------------------------------------------------------------------------------------------------------------

def _digest(secret: str, *parts) -> bytes:
    return hmac.new(str(secret).encode("utf-8"), "|".join(map(str, parts)).encode("utf-8"), hashlib.sha256).digest()


def _plan(secret: str, student: str = "") -> tuple[str, int]:
    """(variant, training seed) of a secret (or a public seed, as a string) and a student name."""
    d = _digest(secret, "capstone", student)
    return VARIANTS[int.from_bytes(d[:8], "little") % len(VARIANTS)], int.from_bytes(d[8:12], "little")


def _check_budget(budget) -> int:
    return check_scalar(budget, "budget", numbers.Integral, low=1)


def _check_n_train(n_train) -> int:
    return check_scalar(n_train, "n_train", numbers.Integral, low=250, high=3000)


def _records(n_train: int):
    """Candidates (2 n_train), the defender's reference records (n_train), the auditor's population (2 n_train)."""
    X, y = data.load_purchase(n_classes=N_CLASSES)
    n = n_train
    return (X[:2 * n], y[:2 * n]), (X[2 * n:3 * n], y[2 * n:3 * n]), (X[3 * n:5 * n], y[3 * n:5 * n])


def _mlp(seed: int) -> models.MLP:
    return models.MLP(N_FEATURES, N_CLASSES, random_state=seed)


def _train_variant(variant: str, seed: int, n_train: int, is_member: np.ndarray) -> models.MLP:
    # deferred: Opacus takes seconds to import, and grading (which imports this module) never trains
    from .defenses import distillation, dpsgd
    (X_c, y_c), (X_ref, _), _ = _records(n_train)
    X_train, y_train = X_c[is_member], y_c[is_member]
    if variant in ("none", "label-only"):
        return models.train(_mlp(seed), X_train, y_train, epochs=30, random_state=seed)
    if variant == "L2":
        return models.train(_mlp(seed), X_train, y_train, epochs=30, weight_decay=WEIGHT_DECAY, random_state=seed)
    if variant == "distillation":
        teacher = models.train(_mlp(seed), X_train, y_train, epochs=30, random_state=seed)
        return distillation.train_distilled(teacher, _mlp(seed + 1), X_ref, random_state=seed)
    model = dpsgd.train_dpsgd(_mlp(seed), X_train, y_train, epsilon=EPSILON, delta=DELTA,
                              batch_size=min(250, n_train // 4), random_state=seed % (2**31))
    del model.privacy_   # the accountant's record would name the variant
    return model


def _cached_weights(variant: str, seed: int, n_train: int, is_member: np.ndarray) -> models.MLP:
    """The trained target, from mialab's model cache when there (keyed by everything that made it)."""
    key = hashlib.sha256(json.dumps([variant, seed, n_train, __version__, training_code_hash(), torch.__version__,
                                     _CODE], sort_keys=True).encode() + is_member.tobytes()).hexdigest()[:32]
    path = model_cache_dir() / f"capstone-{key}.pt"
    model = _mlp(0)
    try:
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval()
    except Exception:  # noqa: BLE001 (missing or unreadable: train it)
        pass
    model = _train_variant(variant, seed, n_train, is_member)
    try:
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache: trained, not stored
    return model.eval()


def _assemble(model, variant_api: str, n_train: int, is_member: np.ndarray, budget: int, origin: dict) -> Capstone:
    (X_c, y_c), _, (X_p, y_p) = _records(n_train)
    box = BlackBox(copy.deepcopy(model), output=variant_api, budget=budget)
    recipe = {"model": "MLP(600, 100, hidden=(256,), activation='tanh')", "epochs": 30, "batch_size": 64,
              "lr": 1e-3, "optimizer": "adam", "n_train": n_train}
    return Capstone(target=box, model=copy.deepcopy(model), X_candidates=X_c.copy(), y_candidates=y_c.copy(),
                    is_member=is_member.copy(), X_population=X_p.copy(), y_population=y_p.copy(), recipe=recipe,
                    api=variant_api, n_train=n_train, _origin=origin)


def default_budget(n_train: int) -> int:
    """The query budget: seven answers per candidate (2 n_train candidates), enough for one probability query and
    one label query per candidate and a label-only attack with 10 noisy copies of 2 n_train / 5 candidates."""
    return 14 * _check_n_train(n_train)


def build(seed: int = PUBLIC_SEED, *, variant: str | None = None, n_train: int = 2500,
          budget: int | None = None) -> Capstone:
    """A self-paced target: the variant and the training are a function of `seed` (or give `variant`).

    Anyone can rebuild it from the seed, so it hides nothing from a determined student: use it to practise
    and self-check with reveal(); graded targets come from make_assignment. Taught in notebook 12."""
    seed = check_seed(seed)
    n_train = _check_n_train(n_train)
    budget = None if budget is None else _check_budget(budget)
    planned, train_seed = _plan(f"public-seed-{seed}")
    if variant is not None and (not isinstance(variant, str) or variant not in VARIANTS):
        raise ValueError(f"`variant` must be one of {list(VARIANTS)} or None (the seed picks); got {variant!r}.")
    variant = variant or planned
    is_member = data.in_out_mask(2 * n_train, 2, random_state=train_seed % (2**31))[:, 0]
    model = _cached_weights(variant, train_seed % (2**31), n_train, is_member)
    budget = default_budget(n_train) if budget is None else budget
    return _assemble(model, "label" if variant == "label-only" else "probabilities", n_train, is_member, budget,
                     {"variant": variant, "seed": seed})


def reveal(audit: Capstone) -> str:
    """The variant of a self-paced target (built here from a seed). A graded target's variant is in the answer key
    the instructor keeps, not in the file: reveal refuses it."""
    _check_audit(audit)
    if "variant" not in audit._origin:
        raise ValueError("this target came from a file: its variant is in the answer key your instructor keeps.")
    return audit._origin["variant"]


# ---------------------------------------------------------------------------------------------------------------
# graded mode: target files and the answer key
# ---------------------------------------------------------------------------------------------------------------

def save(audit: Capstone, path) -> str:
    """Write the target file a student receives (no variant name) -> its SHA-256."""
    audit, path = _check_audit(audit), _check_path(path, "path")
    state = {"format": "mialab-capstone-1", "weights": audit.model.state_dict(), "api": audit.api,
             "n_train": audit.n_train, "is_member": torch.from_numpy(audit.is_member.copy()),
             "budget": audit.target.budget}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    Path(path).write_bytes(payload)
    return hashlib.sha256(payload).hexdigest()


def target_path() -> Path | None:
    """The graded target file in use: $MIALAB_CAPSTONE, else capstone_target.pt in the working folder, else None."""
    env = os.environ.get(TARGET_ENV, "").strip()
    path = Path(env).expanduser() if env else Path(TARGET_FILE)
    if env and not path.is_file():
        raise FileNotFoundError(f"${TARGET_ENV} names {path}, which is not a file: point it at the target file "
                                "your instructor gave you, or unset it to practise on the public target.")
    return path if path.is_file() else None


def load(path=None) -> Capstone:
    """The target of a file written by make_assignment; without `path`, the file in use (target_path()), and the
    public self-paced target (build()) when there is none."""
    path = target_path() if path is None else _check_path(path, "path")
    if path is None:
        return build()
    if not path.is_file():
        raise FileNotFoundError(f"`path` ({path}) is not a file: pass the capstone_target.pt your instructor gave you.")
    payload = path.read_bytes()
    state, model = _read_target(payload, path)
    return _assemble(model.eval(), state["api"], state["n_train"], state["is_member"], state["budget"],
                     {"sha256": hashlib.sha256(payload).hexdigest()})


def _check_path(path, name: str) -> Path:
    return as_path(path, name)


def _check_audit(audit) -> "Capstone":
    if not isinstance(audit, Capstone):
        raise TypeError(f"`audit` must be a Capstone (from capstone.build or capstone.load); got "
                        f"{type(audit).__name__}.")
    return audit


def _read_target(payload: bytes, path) -> tuple[dict, models.MLP]:
    """A target file's fields, each checked, and its model: anything else is refused, saying what is wrong."""
    bad = f"{path} is not a capstone target file (written by python -m mialab.course capstone)"
    if not payload:
        raise ValueError(f"{bad}: it is empty. Ask your instructor for the file again.")
    try:
        state = torch.load(io.BytesIO(payload), weights_only=True)
    except Exception as error:   # truncated or garbage: torch says EOFError, UnpicklingError, RuntimeError...
        raise ValueError(f"{bad}: it cannot be read ({type(error).__name__}); it may be truncated or damaged. "
                         "Ask your instructor for the file again.") from None
    if not isinstance(state, dict) or state.get("format") != "mialab-capstone-1":
        raise ValueError(f"{bad}.")
    missing = [k for k in ("weights", "api", "n_train", "is_member", "budget") if k not in state]
    if missing:
        raise ValueError(f"{bad}: it has no {missing}. Ask your instructor for the file again.")
    try:
        n_train = _check_n_train(state["n_train"])
        budget = _check_budget(state["budget"])
        api = state["api"] if state["api"] in ("label", "probabilities") else None
        if api is None:
            raise ValueError(f"its api is {state['api']!r}, not 'label' or 'probabilities'")
        is_member = state["is_member"]
        if not isinstance(is_member, torch.Tensor) or tuple(is_member.shape) != (2 * n_train,):
            raise ValueError(f"its membership is not {2 * n_train} flags for its {2 * n_train} candidates")
        model = _mlp(0)
        model.load_state_dict(state["weights"])
    except (TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise ValueError(f"{bad}: {error}. Ask your instructor for the file again.") from None
    return {"api": api, "n_train": n_train, "budget": budget,
            "is_member": is_member.numpy().astype(bool)}, model


def make_assignment(secret: str, out, students=(), *, n_train: int = 2500) -> dict:
    """Write one target file per student (out/<student>/capstone_target.pt; out/capstone_target.pt when no
    students are named) and the answer key out/capstone_key.json -> the key ({sha256: {student, variant}})."""
    if not isinstance(secret, str) or len(secret) < 8:
        raise ValueError("`secret` must be a string of at least 8 characters that students never see.")
    n_train = _check_n_train(n_train)
    out = _check_path(out, "out")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"`out` ({out}) is a file; pass a folder (it is created when missing).")
    if isinstance(students, (str, bytes)):
        raise TypeError(f"`students` must be a list of names, e.g. [{students!r}]; got the string {students!r} "
                        "(one target per letter).")
    names = list(students) or [""]
    for name in names:
        if not isinstance(name, str) or name and not re.fullmatch(r"[\w.-]+", name):
            raise ValueError(f"student name {name!r}: use letters, digits, '.', '-' or '_' (it names a folder).")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"`students` names {repeated} more than once; name each student once.")
    key = {}
    for name in names:
        variant, seed = _plan(secret, name)
        seed %= 2**31
        is_member = data.in_out_mask(2 * n_train, 2, random_state=seed)[:, 0]
        model = _train_variant(variant, seed, n_train, is_member).eval()
        api = "label" if variant == "label-only" else "probabilities"
        folder = out / name if name else out
        folder.mkdir(parents=True, exist_ok=True)
        audit = _assemble(model, api, n_train, is_member, default_budget(n_train), {})
        key[save(audit, folder / TARGET_FILE)] = {"student": name, "variant": variant}
    (out / KEY_FILE).write_text(json.dumps(key, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return key


def key_variant() -> str:
    """The variant the hidden test grades against: with $MIALAB_CAPSTONE_KEY, the key's entry for the target file
    in use (an error when the file is missing or not in the key); without it, the public target's variant."""
    env = os.environ.get(KEY_ENV, "").strip()
    path = target_path()
    if not env:
        if path is not None:
            raise LookupError(f"a capstone target file is here but no answer key: set ${KEY_ENV} to the "
                              f"{KEY_FILE} written with it.")
        return _plan(f"public-seed-{PUBLIC_SEED}")[0]
    key = json.loads(Path(env).expanduser().read_text(encoding="utf-8"))
    if path is None:
        raise LookupError("no capstone target file beside the notebook: the diagnosis cannot be graded.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest not in key:
        raise LookupError("the capstone target file is not one of this answer key's (changed or replaced).")
    return key[digest]["variant"]


_CODE = hashlib.sha256(repr((_train_variant.__code__.co_code, _train_variant.__code__.co_consts, WEIGHT_DECAY,
                             EPSILON, DELTA)).encode()).hexdigest()[:16]


__all__ = ["VARIANTS", "PUBLIC_SEED", "Capstone", "build", "reveal", "load", "save", "target_path", "default_budget",
           "make_assignment", "key_variant"]

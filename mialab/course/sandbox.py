"""Where a student's code runs when it is graded: a bubblewrap sandbox with a copy of mialab that lacks the answers.

`package_copy` writes a copy of the installed mialab from which the exercise's off-limits code is absent (each
function's body replaced by one that raises ReferenceBlocked, with the private helpers of its module that no other
function uses),
and without what only grading needs: the hidden tests, the reference answers of `use_reference`, the course tooling.
`command` wraps a command in bubblewrap (Debian's `bubblewrap`): new user, PID, network, IPC and UTS namespaces
(it cannot see, signal or trace the grading process or the kernel, nor reach a network), read-only files, a private
/tmp, the course folder, the real mialab and the capstone key hidden, an empty environment. Where bubblewrap is not
installed or cannot start (a container without user namespaces), `available()` says why and grading runs the
student's code in a plain child process with the same copy; docs/instructor_guide.md says what that leaves open.
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mialab

from .._validation import as_path

PACKAGE = Path(mialab.__file__).resolve().parent
INSIDE = "/tmp/.mialab"                  # where the copy's parent folder is seen inside the sandbox
GRADER_ONLY = ("course", "checks/hidden.py", "checks/hidden_nb*.py", "answers.py")
KEEP_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL")  # numerical correctness on some CPUs; text
ANSWERS_STUB = '''"""The reference answers are not available while an exercise is graded: each is a stub that raises
when called (an earlier exercise skipped with use_reference still loads; grading puts its reference in place, in the
grading process: mialab.checks.registry.builds_on)."""


def __getattr__(name):
    if not name.startswith("ex_"):
        raise AttributeError(name)

    def answer(*args, **kwargs):
        from ._reference import ReferenceBlocked
        raise ReferenceBlocked(f"mialab's `answers.{name}` is the reference answer to this exercise (use_reference) "
                               "and cannot be called while it is graded.")
    answer.__name__ = answer.__qualname__ = name
    return answer
'''


# ---------------------------------------------------------------- the copy of mialab without the answers

def _message(key: str) -> str:
    return (f"mialab's `{key}` is the reference answer to this exercise, or part of it, and is absent while it is "
            "graded; write the computation yourself.")


def _blocked_body(key: str) -> list[ast.stmt]:
    return ast.parse(f"from mialab._reference import ReferenceBlocked as _Blocked\nraise _Blocked({_message(key)!r})"
                     ).body


def _check_argv(argv) -> list[str]:
    if not isinstance(argv, (list, tuple)) or not argv or not all(isinstance(arg, str) for arg in argv):
        raise TypeError(f"`argv` must be a non-empty list of strings (the command and its arguments, e.g. "
                        f"['python', '-c', '...']); got {argv!r}.")
    return list(argv)


def _names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def prune_source(source: str, module: str, functions: set[str]) -> tuple[str, set[str]]:
    """`source` of module `module` ("metrics") with the bodies of `functions`, and of every private module-level
    function that nothing else of the module uses, replaced by `raise ReferenceBlocked(...)`: the same rule as the
    child's runtime blocks (mialab.checks._child.apply_blocks). Returns (new source, pruned names)."""
    if not isinstance(source, str):
        raise TypeError(f"`source` must be a module's source text (a str); got {type(source).__name__}.")
    if not isinstance(module, str) or not module:
        raise TypeError(f"`module` must be the module's name, e.g. 'metrics'; got {module!r}.")
    if isinstance(functions, str) or not isinstance(functions, (set, frozenset, list, tuple)) \
            or not all(isinstance(name, str) for name in functions):
        raise TypeError(f"`functions` must be a set of function names, e.g. {{'advantage'}}; got {functions!r}.")
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ValueError(f"`source` of module {module!r} is not valid Python ({error.msg}, line {error.lineno}); "
                         "pass the module's source as it is on disk.") from None
    defs = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    blocked = {name for name in functions if name in defs}
    if not blocked:
        return source, set()
    private = {name for name in defs if name.startswith("_") and name not in blocked}
    used = set()  # what the unblocked code of the module uses: its public functions, classes, module-level code
    for node in tree.body:
        name = getattr(node, "name", None)
        if name not in blocked and name not in private:
            used |= _names(node)
    kept, changed = set(), True
    while changed:
        changed = False
        for name in private - kept:
            if name in used:
                kept.add(name)
                used |= _names(defs[name])
                changed = True
    pruned = blocked | (private - kept)
    for name in pruned:
        defs[name].body = _blocked_body(f"{module}.{name}")
    return ast.unparse(tree) + "\n", pruned


def package_copy(off_limits, dest) -> Path:
    """Copy mialab into `dest`/mialab without the grader-only parts and with the `off_limits` functions
    ("metrics.advantage", "answers.ex_0_1") absent. Returns `dest`. A name that matches no function raises
    LookupError (a registry row that names nothing would block nothing)."""
    if isinstance(off_limits, (str, bytes)) or not isinstance(off_limits, (list, tuple, set, frozenset)):
        raise TypeError(f"`off_limits` must be a list of 'module.function' names, e.g. ['metrics.advantage']; got "
                        f"{off_limits!r}.")
    bad = [key for key in off_limits if not isinstance(key, str) or not all(key.rpartition(".")[::2])]
    if bad:
        raise ValueError(f"`off_limits` must hold 'module.function' names, e.g. 'metrics.advantage'; got {bad[0]!r}.")
    dest = as_path(dest, "dest")
    target = dest / "mialab"
    if target.exists():
        shutil.rmtree(target)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE, target, ignore=ignore)
    for pattern in GRADER_ONLY:
        for path in target.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    (target / "answers.py").write_text(ANSWERS_STUB, encoding="utf-8")
    wanted: dict[str, set[str]] = {}
    for key in off_limits:
        module, _, name = str(key).rpartition(".")
        if module != "answers":
            wanted.setdefault(module, set()).add(name)
    found: set[str] = set()
    for path in sorted(target.rglob("*.py")):
        names = wanted.get(path.stem)
        if not names:
            continue
        source = path.read_text(encoding="utf-8")
        new, pruned = prune_source(source, path.stem, names)
        found |= {f"{path.stem}.{name}" for name in pruned & names}
        if new is not source:
            path.write_text(new, encoding="utf-8")
    missing = sorted(f"{module}.{name}" for module, names in wanted.items() for name in names)
    missing = [key for key in missing if key not in found]
    if missing:
        raise LookupError(f"package_copy: no function {', '.join(missing)} in mialab to leave out; correct the "
                          "exercise's row in mialab/checks/registry.py.")
    return dest


# ---------------------------------------------------------------- bubblewrap

@functools.lru_cache(maxsize=1)
def available() -> str | None:
    """None when bubblewrap can run a sandbox here, else why not (for the grading log and the feedback)."""
    if os.environ.get("MIALAB_SANDBOX", "").strip().lower() in ("0", "off", "no", "false"):
        return "the sandbox is turned off ($MIALAB_SANDBOX)"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (`bwrap`) is not installed: `apt-get install bubblewrap`"
    try:
        probe = subprocess.run([bwrap, *_namespaces(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                                "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not start ({error})"
    if probe.returncode != 0:
        return f"bubblewrap could not start here ({probe.stderr.decode('utf-8', 'replace').strip()[:200]})"
    return None


def _namespaces() -> list[str]:
    return ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "65534", "--gid", "65534"]


def _hidden() -> list[str]:
    """Folders the student's code must not see: the real mialab (and the checkout around an editable install),
    the course folder grading runs in, the capstone key's folder, the user's home."""
    hide = {str(PACKAGE), os.getcwd(), str(Path.home())}
    if (PACKAGE.parent / "pyproject.toml").exists():  # an editable install: the checkout holds the solutions
        hide.add(str(PACKAGE.parent))
    key = os.environ.get("MIALAB_CAPSTONE_KEY", "").strip()
    if key:
        hide.add(str(Path(key).resolve().parent))
    return sorted(path for path in hide if path not in ("/", "") and Path(path).is_dir())


def _needed() -> list[str]:
    """What the Python in the sandbox needs to read: the interpreter's prefixes and the installed packages."""
    import site
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths |= {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths |= set(site.getsitepackages()) | {site.getusersitepackages()}
    return sorted(path for path in paths if path and Path(path).is_dir())


def command(argv: list[str], copy_parent, *, workdir: str = "/tmp/work", env: dict | None = None) -> list[str]:
    """`argv` wrapped in bubblewrap, with `copy_parent` (from package_copy) seen at INSIDE."""
    argv = _check_argv(argv)
    copy_parent = as_path(copy_parent, "copy_parent")
    if env is not None and not isinstance(env, dict):
        raise TypeError(f"`env` must be a dict {{name: value}} or None; got {type(env).__name__}.")
    args = ["bwrap", *_namespaces(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--tmpfs", "/run"]
    hidden = _hidden()
    for path in hidden:
        args += ["--tmpfs", path]
    for path in _needed():  # what hiding covered but Python needs (a venv inside the checkout, a pyenv in $HOME)
        if any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden):
            args += ["--ro-bind", path, path]
    args += ["--ro-bind", str(copy_parent), INSIDE, "--dir", workdir, "--chdir", workdir, "--clearenv"]
    keep = {name: os.environ[name] for name in KEEP_ENV if name in os.environ}
    for name, value in {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "MPLBACKEND": "Agg",
                        "OMP_NUM_THREADS": "1", "MIALAB_PROGRESS": "0", **keep, **(env or {})}.items():
        args += ["--setenv", name, str(value)]
    return [*args, "--", *argv]


def _cache_folder() -> str | None:
    """mialab's data and model cache (the kernel reads and fills it; it is hidden with the checkout otherwise)."""
    try:
        from ..data import cache_dir
        return str(cache_dir().resolve())
    except Exception:  # noqa: BLE001 (no writable cache: the kernel trains without one)
        return None


def kernel_command(argv: list[str], folder, io, connection_file) -> list[str]:
    """A Jupyter kernel's command `argv` wrapped in bubblewrap, for autograde: like `command`, but with the real
    mialab (read-only) and its cache, the submission's `folder` writable (its working folder), and the kernel's
    sockets in `io` (the kernel manager must use the ipc transport there: the sandbox has no network)."""
    argv = _check_argv(argv)
    connection_file = as_path(connection_file, "connection_file")
    folder, io = str(as_path(folder, "folder").resolve()), str(as_path(io, "io").resolve())
    args = ["bwrap", *_namespaces(), "--unsetenv", "JPY_PARENT_PID", "--setenv", "IPYTHONDIR", f"{io}/.ipython",
            "--setenv", "MPLCONFIGDIR", f"{io}/.matplotlib", "--ro-bind", "/", "/", "--proc", "/proc",
            "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--tmpfs", "/run"]
    hidden = [path for path in _hidden() if path != str(PACKAGE)]
    for path in hidden:
        args += ["--tmpfs", path]
    cache = _cache_folder()
    for path in [*_needed(), str(PACKAGE)]:
        if any(path == h or path.startswith(h.rstrip("/") + "/") for h in hidden):
            args += ["--ro-bind", path, path]
    if cache:
        args += ["--bind", cache, cache]
    args += ["--bind", folder, folder, "--bind", io, io, "--ro-bind", str(connection_file), str(connection_file),
             "--chdir", folder]
    for name in ("MIALAB_CAPSTONE_KEY",):
        args += ["--unsetenv", name]
    return [*args, "--", *argv]


class Copy:
    """A temporary copy of mialab without `off_limits` (see package_copy); removed by close()."""

    def __init__(self, off_limits):
        self.folder = Path(tempfile.mkdtemp(prefix="mialab-sandbox-"))
        os.chmod(self.folder, 0o755)
        package_copy(sorted(set(off_limits)), self.folder)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["Copy", "INSIDE", "available", "command", "kernel_command", "package_copy", "prune_source"]

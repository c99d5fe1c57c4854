"""The grading side of running a student's function in a separate process.

When an exercise is graded (mialab.course.verdict, in nbgrader's process after the notebook has run):

- the notebook's kernel packs the student's function with cloudpickle (`capture`: by value, with the names it
  uses from the notebook; modules by reference); the bytes are handed, unopened, to
- `grade`, in the grading process, which imports the hidden tests, draws the inputs, computes the expected values
  and compares; the student's function in it is a `StudentFunction` proxy whose calls go to
- a child process (`mialab.checks._child`, in a sandbox where bubblewrap runs), whose copy of mialab lacks the
  exercise's references, and which sends back data only.

The notebook checks use the same kind of child (`check_session`), one per function and block list, reused across
cases.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import io
import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Callable

from .. import _reference
from ._child import Handle, Oracle, Remote, read_frame, write_frame

PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # the folder that holds this mialab package
CHILD_BOOT = ("import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
              "from mialab.checks._child import main; main()")
DEFAULT_TIMEOUT = 60.0  # seconds per call of the student's function
DEFAULT_MEMORY_GIB = 4.0


def limits() -> tuple[float, float]:
    """(seconds per call, GiB of memory) for the student's function: $MIALAB_CHECK_TIMEOUT, $MIALAB_CHECK_MEMORY_GIB."""
    def read(name, default):
        try:
            value = float(os.environ.get(name, default))
        except ValueError:
            return default
        return value if value > 0 else default
    return read("MIALAB_CHECK_TIMEOUT", DEFAULT_TIMEOUT), read("MIALAB_CHECK_MEMORY_GIB", DEFAULT_MEMORY_GIB)


class ChildStopped(BaseException):
    """The student's function could not be run to the end in its process. A BaseException, so that a hidden test's
    `except Exception` does not turn it into "your function raised ..."; `what` says why, for the student."""

    def __init__(self, what: str, label: str = "", kind: str = "stopped"):
        super().__init__(f"{label}: {what}" if label else what)
        self.what, self.label, self.kind = what, label, kind


_raised: dict[str, type] = {}


def _student_error(name: str) -> type:
    """An exception class named like the one the student's code raised (the name is all a message shows)."""
    if name == "NotImplementedError":
        return NotImplementedError
    if name == "ReferenceBlocked":
        return _reference.ReferenceBlocked
    if name not in _raised:
        _raised[name] = type(name if name.isidentifier() else "Error", (Exception,), {"__module__": "student"})
    return _raised[name]


# ---------------------------------------------------------------- what comes back from the child: data only

_ALLOWED = {("numpy", "dtype"), ("numpy", "ndarray"), ("builtins", "complex"), ("mialab.checks._child", "Handle")}
_ALLOWED |= {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
             for name in ("_reconstruct", "scalar")}
_ALLOWED |= {(module, "_frombuffer") for module in ("numpy.core.numeric", "numpy._core.numeric")}


class _DataUnpickler(pickle.Unpickler):
    """Unpickles numbers, strings, NumPy arrays and scalars, containers and Handles; refuses everything else."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not data")


def _loads_data(data: bytes):
    return _DataUnpickler(io.BytesIO(data)).load()


# ---------------------------------------------------------------- one child process

class Counted:
    """A query interface handed to the student's function: `f`, counting the rows (records) it is asked about. It
    stays in this process; the student's function gets a stub that forwards each call here (mialab.checks._child)."""

    def __init__(self, f):
        self.f, self.rows = f, 0

    def __call__(self, X, *args, **kwargs):
        import numpy as np

        self.rows += len(np.atleast_2d(np.asarray(X)))
        return self.f(X, *args, **kwargs)


def _answer_query(message: dict, oracles: dict) -> dict:
    """The reply to a query the student's function sent: the oracle's answer, or the error it raised."""
    oracle = oracles.get(message.get("query"))
    args, kwargs = message.get("args", []), message.get("kwargs", {})
    try:
        if oracle is None or not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError("this query interface is not available")
        return {"ok": True, "value": oracle(*args, **{str(k): v for k, v in kwargs.items()})}
    except Exception as error:  # noqa: BLE001 (the student's query was bad: the student's function sees it)
        return {"ok": False, "type": type(error).__name__, "message": str(error)[:500]}


def earlier_references(label: str) -> dict:
    """For the exercise that `label` names ("Exercise 12.2 ..."): the reference answers of the earlier exercises
    its function may call, by the student's function name (mialab.checks.registry.builds_on), each run with the
    blocks suspended. They stay in this process; the student's function gets stubs that forward to them."""
    from .._reference import with_blocks_suspended
    from . import exercise_number
    from .registry import BY_ID, builds_on

    number = exercise_number(str(label))
    if number not in BY_ID:
        return {}
    names = builds_on(number)
    if not names:
        return {}
    from .. import answers  # deferred: loaded only for an exercise that builds on another

    return {name: with_blocks_suspended(getattr(answers, attr)) for name, attr in names.items()
            if callable(getattr(answers, attr, None))}


_EARLIER = 1_000_000  # oracle ids of the earlier exercises' references (a call's own query interfaces count from 1)


def _kill(process: subprocess.Popen, group: bool) -> None:
    try:
        if group and hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass


class Child:
    """A child process that runs a student's code (see mialab.checks._child), with a time limit per request."""

    def __init__(self, paths, cwd=None, memory_gib=DEFAULT_MEMORY_GIB, own_group=True, wrap=None):
        env = {**os.environ, "MIALAB_CHILD_MEMORY_GIB": f"{memory_gib:g}", "MIALAB_PROGRESS": "0"}
        self._stderr = tempfile.TemporaryFile()
        self._group = own_group
        argv = [sys.executable, "-I", "-c", CHILD_BOOT, json.dumps([str(p) for p in paths])]
        if wrap is not None:  # a sandbox (mialab.course.sandbox): its own environment and working folder
            argv, cwd = wrap(argv, {"MIALAB_CHILD_MEMORY_GIB": f"{memory_gib:g}"}), None
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, cwd=cwd, env=env,
            start_new_session=own_group)
        self._replies: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.memory_gib = memory_gib

    def _read(self):
        while True:
            try:
                data = read_frame(self.process.stdout)
            except (OSError, ValueError):
                data = None
            self._replies.put(data)
            if data is None:
                return

    def _why_ended(self) -> str:
        code = self.process.poll()
        try:
            self._stderr.seek(0)
            tail = self._stderr.read()[-600:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            tail = ""
        last = tail.splitlines()[-1] if tail else ""
        if code is not None and code < 0 and -code == getattr(signal, "SIGKILL", 9):
            return " (it was killed: out of memory?)"
        return f" (exit code {code}{': ' + last if last else ''})" if code is not None else ""

    def _send(self, message: dict) -> None:
        try:
            write_frame(self.process.stdin, pickle.dumps(message, protocol=5))
        except (BrokenPipeError, OSError, ValueError):
            raise ChildStopped(f"the Python process running your function ended{self._why_ended()}",
                               kind="ended") from None

    def request(self, message: dict, timeout: float, oracles: dict | None = None) -> dict:
        """Send a request and wait for its reply, answering the queries the student's function sends meanwhile to
        `oracles` (id -> a function of this process's, see mialab.checks._child.Oracle)."""
        import time

        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            try:
                data = self._replies.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                self.close()
                raise ChildStopped(f"your function ran longer than {timeout:g} s on one input and was stopped (an "
                                   "endless loop, or far too slow for the input)", kind="timeout") from None
            if data is None:
                self.process.wait(timeout=5)
                raise ChildStopped(f"the Python process running your function ended{self._why_ended()}",
                                   kind="ended")
            try:
                reply = _loads_data(data)
            except Exception as error:  # noqa: BLE001 (a forged reply: treated as a crash)
                raise ChildStopped(f"your function sent back something that is not data ({error})",
                                   kind="ended") from None
            if not (isinstance(reply, dict) and "query" in reply):
                break
            self._send(_answer_query(reply, oracles or {}))
        if not reply.get("ok") and reply.get("kind") == "memory":
            raise ChildStopped(f"your function needed more memory than the {self.memory_gib:g} GiB allowed "
                               "and was stopped", kind="memory")
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                write_frame(self.process.stdin, pickle.dumps({"op": "close"}))
                self.process.wait(timeout=0.5)
            except Exception:  # noqa: BLE001
                pass
        _kill(self.process, self._group)
        try:
            self.process.wait(timeout=2)  # reaped: no zombie, and its CPU time counts to its parent
        except Exception:  # noqa: BLE001
            pass
        for stream in (self.process.stdin, self.process.stdout, self._stderr):
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass


# ---------------------------------------------------------------- packing the student's function (in the kernel)

def _by_value(obj) -> list:
    """Modules whose functions must travel by value: the object's own module when it is the notebook's or a
    script's (not mialab, not an installed or standard library)."""
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    if module is None or module.__name__ == "__main__" or module.__name__.split(".")[0] == "mialab":
        return []
    path = getattr(module, "__file__", None)
    if not path:
        return []
    path = os.path.realpath(path)
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return [] if any(path.startswith(root + os.sep) for root in roots) else [module]


def _ufunc_home(ufunc) -> str | None:
    """The module a NumPy or SciPy ufunc can be imported from by its name (pickle would look in __main__)."""
    import importlib

    for name in (getattr(ufunc, "__module__", None), "numpy", "scipy.special"):
        try:
            if name and getattr(importlib.import_module(name), ufunc.__name__, None) is ufunc:
                return name
        except Exception:  # noqa: BLE001 (no such module here)
            continue
    return None


def _dumps(obj, by_value: list) -> bytes:
    """cloudpickle's bytes of `obj`, with what plain cloudpickle sends by a name the child cannot resolve: a ufunc
    imported by name (`from scipy.special import logit`) by its home module, a notebook function wrapped in
    functools.lru_cache / functools.cache by value (re-wrapped there)."""
    import functools

    import cloudpickle
    import numpy as np

    from . import _child

    local = {"__main__"} | {module.__name__ for module in by_value}

    class Pickler(cloudpickle.CloudPickler):
        def reducer_override(self, value):
            if isinstance(value, functools._lru_cache_wrapper) and getattr(value, "__module__", None) in local:
                params = value.cache_parameters()
                return _child.lru_cached, (value.__wrapped__, params["maxsize"], params["typed"])
            if isinstance(value, np.ufunc):
                home = _ufunc_home(value)
                if home is not None:
                    return _child.import_attribute, (home, value.__name__)
            return super().reducer_override(value)

    buffer = io.BytesIO()
    Pickler(buffer, protocol=5).dump(obj)
    return buffer.getvalue()


def pack(obj) -> dict:
    """What the grading process needs of one student object: its name, callable or not, and its bytes (or why it
    could not be packed)."""
    import cloudpickle

    item = {"name": str(getattr(obj, "__name__", type(obj).__name__)), "callable": callable(obj),
            "payload": None, "error": None}
    registered = []
    try:
        for module in _by_value(obj):
            try:
                cloudpickle.register_pickle_by_value(module)
                registered.append(module)
            except (ValueError, TypeError):
                pass
        item["payload"] = _dumps(obj, registered)
    except Exception as error:  # noqa: BLE001 (anything unpicklable the function holds)
        item["error"] = f"{type(error).__name__}: {str(error)[:300]}"
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)
    return item


def capture(obj) -> str:
    """In the kernel, when a notebook is autograded: the student's object packed (see pack) as one base64 string of
    JSON, which mialab.course.verdict reads from the kernel's reply and hands, unopened, to the sandbox."""
    item = pack(obj)
    if item["payload"] is not None:
        item["payload"] = base64.b64encode(item["payload"]).decode("ascii")
    return base64.b64encode(json.dumps(item).encode("utf-8")).decode("ascii")


def child_paths() -> list[str]:
    """sys.path for a child: this mialab first, then the notebook's own path (its helpers, its installed packages)."""
    return [PACKAGE_PARENT] + [p for p in sys.path if isinstance(p, str) and p != PACKAGE_PARENT]


# ---------------------------------------------------------------- a session: one child, the student's objects in it

def _current_blocks() -> list[str]:
    return sorted(key for key, count in _reference._blocked.items() if count and count >= 1)


def _label(frame, fallback: str) -> str:
    """The exercise a hidden test's `_call(exercise, func, ...)` names, from its frame (this process is the
    grader's: nothing of the student's runs here)."""
    for _ in range(3):
        if frame is None:
            break
        value = frame.f_locals.get("exercise") if frame.f_code.co_name == "_call" else None
        if isinstance(value, str):
            return value
        frame = frame.f_back
    return fallback


class Session:
    """The student's objects, loaded into one child process on first use (after the blocks in force then)."""

    def __init__(self, paths, cwd=None, timeout=None, memory_gib=None, own_group=True, wrap=None):
        default_timeout, default_memory = limits()
        self.paths, self.cwd, self.own_group, self.wrap = list(paths), cwd, own_group, wrap
        self.timeout = float(timeout or default_timeout)
        self.memory_gib = float(memory_gib or default_memory)
        self.child: Child | None = None
        self.loaded: dict[int, Handle] = {}  # id(item) -> handle in the child
        self.references: dict[int, Callable] = {}  # oracle id -> an earlier exercise's reference (earlier_references)
        self.warnings: list[str] = []
        self.output: list[str] = []

    def _start(self, label):
        if self.child is None:
            try:
                self.child = Child(self.paths, self.cwd, self.memory_gib, self.own_group, self.wrap)
            except Exception as error:  # noqa: BLE001
                raise ChildStopped(f"grading could not start a separate Python process to run your function "
                                   f"({type(error).__name__}: {error}); this exercise scores 0 here: please tell "
                                   "your instructor", label, kind="start") from None
        return self.child

    def _request(self, message, label, timeout=None, oracles=None):
        child = self._start(label)
        message["keys"] = _current_blocks()
        try:
            reply = child.request(message, timeout or self.timeout, {**self.references, **(oracles or {})})
        except ChildStopped as stop:
            self.close()
            raise ChildStopped(stop.what, label, stop.kind) from None
        for text in reply.get("warnings", []):
            if text not in self.warnings:
                self.warnings.append(text)
        if reply.get("stdout"):
            self.output.append(reply["stdout"])
        return reply

    def handle(self, item: dict, label: str) -> Handle:
        key = id(item)
        if key not in self.loaded:
            if item.get("payload") is None:
                raise ChildStopped(f"your function could not be copied to a fresh Python process to be tested: it "
                                   f"uses something that cannot be copied ({item.get('error')}). Keep what it uses "
                                   "to functions, NumPy arrays and modules", label, kind="load")
            linked = {}
            for name, reference in earlier_references(label).items():
                self.references[_EARLIER + len(self.references)] = reference
                linked[name] = Oracle(_EARLIER + len(self.references) - 1)
            reply = self._request({"op": "load", "payload": item["payload"], "builds_on": linked}, label,
                                  timeout=max(self.timeout, 120.0))
            if not reply.get("ok") and reply.get("blocked") and "`answers." in str(reply.get("message")):
                raise ChildStopped("skipped with the reference answer (use_reference), so it scores 0", label,
                                   kind="skipped")
            if not reply.get("ok"):
                raise ChildStopped(f"your function could not be loaded in a fresh Python process to be tested "
                                   f"({reply.get('type')}: {reply.get('message')}). Define everything it uses in the "
                                   "notebook, or import it from an installed package", label, kind="load")
            self.loaded[key] = reply["value"]
        return self.loaded[key]

    def _result(self, reply, label):
        if reply.get("ok"):
            return self._bind(reply["value"])
        raise _student_error(str(reply.get("type", "Exception")))(str(reply.get("message", "")))

    def _bind(self, value):
        if isinstance(value, Handle):
            return RemoteObject(self, value)
        if type(value) in (list, tuple):
            return type(value)(self._bind(item) for item in value)
        if type(value) is dict:
            return {key: self._bind(item) for key, item in value.items()}
        return value

    def call(self, target: int, args, kwargs, label: str):
        import cloudpickle

        oracles: dict = {}

        def swap(value):  # a Counted query interface stays here: the child gets a stub that forwards to it
            if isinstance(value, Counted):
                oracles[len(oracles) + 1] = value
                return Oracle(len(oracles))
            return value

        args, kwargs = tuple(swap(a) for a in args), {k: swap(v) for k, v in kwargs.items()}
        payload = cloudpickle.dumps((args, kwargs), protocol=5)
        return self._result(self._request({"op": "call", "id": target, "args": payload}, label, oracles=oracles),
                            label)

    def getattr(self, target: int, name: str, label: str):
        reply = self._request({"op": "getattr", "id": target, "name": name}, label)
        if not reply.get("ok") and reply.get("type") == "AttributeError":
            raise AttributeError(reply.get("message") or name)
        return self._result(reply, label)

    def student(self, item: dict):
        """A proxy of the student's object described by `item` (from `pack`)."""
        return (StudentFunction if item.get("callable") else StudentValue)(self, item)

    def close(self):
        if self.child is not None:
            self.child.close()
        self.child, self.loaded = None, {}


class StudentValue:
    """The student's graded name, when it is not a function: a hidden test's `callable(func)` is False for it."""

    def __init__(self, session: Session, item: dict):
        self._session, self._item = session, item
        self.__name__ = self.__qualname__ = item.get("name", "function")

    def __repr__(self):
        return f"<the student's {self.__name__}, run in a separate process>"


class StudentFunction(StudentValue):
    """The student's function: each call runs in the session's child process, with the references blocked that
    the grading process blocks at the time of the call (`with blocked(...)`)."""

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        label = _label(sys._getframe(1), self.__name__)
        handle = self._session.handle(self._item, label)
        return self._session.call(handle.id, args, kwargs, label)


class RemoteObject:
    """An object the student's function returned that is not plain data (a fitted model): it stays in the child;
    its attributes and calls are asked for there."""

    def __init__(self, session: Session, handle: Handle):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_handle", handle)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.getattr(self._handle.id, name, _label(sys._getframe(1), "the returned object"))

    def __call__(self, *args, **kwargs):
        return self._session.call(self._handle.id, args, kwargs, _label(sys._getframe(1), "the returned object"))

    def __reduce__(self):  # passed back to the child as an argument: the object there
        return Remote, (self._handle.id,)

    def __repr__(self):
        return f"<{self._handle.type_name} object, in the process that ran the student's function>"


# ---------------------------------------------------------------- the grading process

def hidden_module_name(notebook: str) -> str:
    own = Path(__file__).with_name(f"hidden_{notebook}.py")
    return f"mialab.checks.{own.stem if own.is_file() else 'hidden'}"


def grade(notebook: str, exercise: str, args: list, kwargs: dict, paths, cwd=None, timeout=None, memory_gib=None,
          repeat: int = 1, wrap=None) -> dict:
    """Run the hidden test `test_<exercise>` of `notebook` on the packed student objects, `repeat` times, with one
    child process (started through `wrap(argv, env)`, a sandbox, where given). Returns {"ok": bool, "message": str,
    "warnings": [...]} (the message names the exercise)."""
    import importlib

    session = Session(paths, cwd, timeout, memory_gib, own_group=False, wrap=wrap)
    try:
        session._start(exercise)  # the child starts while this process imports the tests
    except ChildStopped:
        pass  # said again at the first call, with the exercise's name
    module = importlib.import_module(hidden_module_name(notebook))
    test = getattr(module, f"test_{exercise}", None)
    if not callable(test):
        session.close()
        return {"ok": False, "message": f"there is no hidden test `test_{exercise}` for {notebook}", "warnings": []}
    try:
        proxies = [session.student(item) for item in args]
        named = {key: session.student(item) for key, item in kwargs.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reference's own warnings on random inputs: not the student's
            for _ in range(repeat):
                test(*proxies, **named)
        return {"ok": True, "message": "", "warnings": session.warnings}
    except ChildStopped as stop:
        return {"ok": False, "message": f"{stop.label or exercise}: {stop.what}", "warnings": session.warnings}
    except AssertionError as error:  # CheckError, NotDoneError
        return {"ok": False, "message": str(error).strip(), "warnings": session.warnings}
    except Exception as error:  # noqa: BLE001 (the student's object misbehaved outside `_call`)
        return {"ok": False, "message": f"{exercise}: the hidden test stopped on your answer "
                                        f"({type(error).__name__})", "warnings": session.warnings}
    finally:
        session.close()


# ---------------------------------------------------------------- notebook checks (in the kernel)

_check: dict = {}
_closes_at_exit: list = []


def check_session(func) -> tuple[Session, dict]:
    """The session and packed item for a notebook check of `func` under the blocks in force: the same child as the
    last call when the function (its bytes) and the blocks are the same, else a new one."""
    item = pack(func)
    digest = hashlib.sha256(item["payload"] or (item["error"] or "").encode()).hexdigest()
    key = (digest, tuple(_current_blocks()))
    if _check.get("key") != key:
        close_check_session()
        if not _closes_at_exit:
            atexit.register(close_check_session)
            _closes_at_exit.append(True)
        _check.update(key=key, session=Session(child_paths(), os.getcwd()), item=item)
    return _check["session"], _check["item"]


def close_check_session() -> None:
    session = _check.pop("session", None)
    _check.clear()
    if session is not None:
        session.close()


__all__ = ["ChildStopped", "Session", "StudentFunction", "RemoteObject", "check_session", "close_check_session",
           "grade", "limits", "pack"]

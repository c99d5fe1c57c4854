"""The student's side of grading: a fresh Python process that runs a student's function on the inputs it is sent.

`mialab.checks._process` starts it (`python -I -c ...`) and talks to it over its stdin and stdout: frames of an
8-byte length and a pickle. Requests (from the grading process, trusted) are plain pickles; the student's function
arrives by value (cloudpickle), with the names it uses from the notebook, and is unpickled here only after the
references of the exercise are blocked. Replies carry data only (numbers, strings, NumPy arrays, and lists, tuples
and dicts of them); any other object a student's function returns stays here, and the reply holds a `Handle` that
the grading process can ask for attributes or call. Nothing here ever sees an expected value.

Blocking here makes a reference absent, not just guarded: the original function behind each blocked
`@reference` wrapper, and the module's private helpers that only blocked references use, have their code
replaced by one that raises `ReferenceBlocked`, in every mialab module loaded now or later (reloads included).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import io
import numbers
import os
import pickle
import struct
import sys
import threading
import time
import types
import warnings

FRAME = struct.Struct("<Q")
MAX_WARNINGS = 5
MAX_OUTPUT = 2000
BLOCKED_NAME = "_mialab_blocked"


# ---------------------------------------------------------------- frames

def read_frame(stream) -> bytes | None:
    """One frame's payload, or None at the end of the stream."""
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    size = FRAME.unpack(head)[0]
    data = stream.read(size)
    return data if len(data) == size else None


def write_frame(stream, data: bytes) -> None:
    stream.write(FRAME.pack(len(data)) + data)
    stream.flush()


class Handle:
    """An object that stayed in the child process (not plain data): its id there, its type's name, callable or not."""

    __slots__ = ("id", "type_name", "is_callable")

    def __init__(self, id: int, type_name: str, is_callable: bool):
        self.id, self.type_name, self.is_callable = int(id), str(type_name), bool(is_callable)

    def __reduce__(self):
        return Handle, (self.id, self.type_name, self.is_callable)


# ---------------------------------------------------------------- data that may leave the child

_SCALARS = (type(None), bool, int, float, complex, str, bytes)


def to_data(value, keep: dict, depth: int = 0):
    """`value` as plain data (see the module docstring); other objects are kept in `keep` and become Handles."""
    import numpy as np

    kind = type(value)
    if kind in _SCALARS:
        return value
    if depth < 20:
        if kind in (list, tuple):
            return kind(to_data(item, keep, depth + 1) for item in value)
        if kind is dict and all(type(key) in (str, int) for key in value):
            return {key: to_data(item, keep, depth + 1) for key, item in value.items()}
    try:
        if isinstance(value, np.ndarray):
            array = np.array(value, copy=True, subok=False)
            if not array.dtype.hasobject:
                return array
        elif isinstance(value, np.generic) and kind.__module__ == "numpy" and not value.dtype.hasobject:
            return value
        elif isinstance(value, numbers.Integral):
            return int(value)
        elif isinstance(value, numbers.Real):
            return float(value)
        elif isinstance(value, numbers.Complex):
            return complex(value)
        elif hasattr(kind, "__array__"):  # a tensor, a pandas Series: as NumPy sees it
            array = np.array(np.asarray(value), copy=True, subok=False)
            if not array.dtype.hasobject:
                return array
    except Exception:  # noqa: BLE001 (the student's object refused: it stays here)
        pass
    handle = Handle(len(keep) + 1, kind.__name__, callable(value))
    keep[handle.id] = value
    return handle


# ---------------------------------------------------------------- blocking: references absent

_blocked: set[str] = set()


def _stub_code(n_free: int, message: str) -> types.CodeType:
    """Code that raises ReferenceBlocked(message), with `n_free` free variables (to fit any function's closure)."""
    free = [f"_free{i}" for i in range(n_free)]
    lines = ["def _outer():", *[f"    {name} = None" for name in free], f"    def {BLOCKED_NAME}(*args, **kwargs):"]
    if free:
        lines.append(f"        {', '.join(free)}")
    lines += [f"        raise __import__('mialab._reference', fromlist=['_']).ReferenceBlocked({message!r})",
              f"    return {BLOCKED_NAME}"]
    namespace: dict = {}
    exec("\n".join(lines), namespace)  # noqa: S102 (our own fixed template)
    return namespace["_outer"]().__code__


def _gut(func, message: str) -> None:
    code = getattr(func, "__code__", None)
    if isinstance(code, types.CodeType) and code.co_name != BLOCKED_NAME:
        func.__code__ = _stub_code(len(code.co_freevars), message)


def _mialab_modules() -> list[types.ModuleType]:
    return [module for name, module in list(sys.modules.items())
            if isinstance(module, types.ModuleType) and (name == "mialab" or name.startswith("mialab."))
            and not name.startswith("mialab.checks")]


def _functions(module) -> tuple[list, list]:
    """The functions of `module`: (its top-level functions, those held by its classes and top-level containers)."""
    top, held = [], []
    for value in list(vars(module).values()):
        if isinstance(value, types.FunctionType):
            top.append(value)
        elif isinstance(value, (dict, list, tuple, set)) and len(value) < 1000:
            items = value.values() if isinstance(value, dict) else value
            held += [item for item in items if isinstance(item, types.FunctionType)]
        elif isinstance(value, type) and value.__module__ == module.__name__:
            for member in vars(value).values():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    held += [f for f in (member.fget, member.fset) if isinstance(f, types.FunctionType)]
                elif isinstance(member, types.FunctionType):
                    held.append(member)
    return top, held


def _names(code: types.CodeType, out: set) -> set:
    out.update(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _names(const, out)
    return out


def _original(wrapper):
    """The function behind a `@reference` wrapper (its closure cell `func`)."""
    names = wrapper.__code__.co_freevars
    if "func" in names and wrapper.__closure__:
        return wrapper.__closure__[names.index("func")].cell_contents
    return None


def apply_blocks() -> None:
    """Make the blocked references absent in every mialab module loaded so far, with the private helpers of their
    modules that no unblocked function uses (mialab.course.sandbox prunes the same from the sandbox's copy)."""
    if not _blocked:
        return
    modules = _mialab_modules()
    originals, homes = [], set()
    for module in modules:
        for value in list(vars(module).values()):
            if isinstance(value, types.FunctionType) and getattr(value, "__mialab_reference__", None) in _blocked:
                inner = _original(value)
                if isinstance(inner, types.FunctionType):
                    originals.append((value.__mialab_reference__, inner))
                    homes.add(getattr(inner, "__module__", None))
    gone = {id(inner) for _, inner in originals}
    candidates = {}
    for module in modules:
        if module.__name__ in homes:
            for name, value in vars(module).items():
                if (name.startswith("_") and isinstance(value, types.FunctionType)
                        and value.__module__ == module.__name__ and id(value) not in gone):
                    candidates[id(value)] = value
    used: set = set()
    kept: set = set()
    for module in modules:
        top, held = _functions(module)
        for func in top + held:
            if id(func) in candidates:
                if func in held:
                    kept.add(id(func))  # a callback in a table or a class: kept
                continue
            key = getattr(func, "__mialab_reference__", None)
            if key is not None and key not in _blocked:  # an unblocked reference: what its original uses is kept
                func = _original(func) or func
            if id(func) not in gone and key not in _blocked and isinstance(func, types.FunctionType):
                _names(func.__code__, used)
    for key in kept:
        _names(candidates[key].__code__, used)
    changed = True
    while changed:
        changed = False
        for key, func in candidates.items():
            if key not in kept and func.__name__ in used:
                kept.add(key)
                _names(func.__code__, used)
                changed = True
    for key, inner in originals:
        _gut(inner, f"mialab's `{key}` is the reference answer to this exercise and cannot be called from your "
                    "solution while it is graded; write the computation yourself.")
    for key, func in candidates.items():
        if key not in kept:
            _gut(func, f"mialab's `{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}` is part of the reference "
                       "answer to this exercise and cannot be called from your solution while it is graded.")


class _BlockingLoader(importlib.abc.Loader):
    """Loads a mialab module as usual, then makes the blocked references in it absent (a reload included)."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        apply_blocks()

    def __getattr__(self, name):  # get_source, get_code, ... of the file loader
        return getattr(self._loader, name)


class _BlockingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "mialab" and not name.startswith("mialab."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, _BlockingLoader):
            spec.loader = _BlockingLoader(spec.loader)
        return spec


def block(keys) -> None:
    """Block these references ("metrics.advantage") from now on, in this process (never unblocked)."""
    new = {str(key) for key in keys} - _blocked
    if not new:
        return
    _blocked.update(new)
    if not any(isinstance(finder, _BlockingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _BlockingFinder())
    apply_blocks()


def _make_function(code, globals, name, argdefs, closure):
    """cloudpickle's function maker, except for a function of mialab's own that comes by value (an unwrapped
    reference or helper the notebook took out of mialab): it arrives with code that raises ReferenceBlocked."""
    import cloudpickle.cloudpickle as cp

    func = cp._make_function(code, globals, name, argdefs, closure)
    home = globals.get("__name__") if isinstance(globals, dict) else None
    if isinstance(home, str) and (home == "mialab" or home.startswith("mialab.")):
        _gut(func, f"mialab's own code (`{home.rsplit('.', 1)[-1]}.{name}`, taken out of mialab in the notebook) "
                   "cannot run in your solution while it is graded; write the computation yourself.")
    return func


class _StudentUnpickler(pickle.Unpickler):
    """Unpickles the student's objects (cloudpickle's format); mialab code that travels by value arrives blocked."""

    def find_class(self, module, name):
        if module == "cloudpickle.cloudpickle" and name == "_make_function":
            return _make_function
        return super().find_class(module, name)


def lru_cached(func, maxsize, typed):
    """A notebook function that came by value, wrapped again in functools.lru_cache as it was in the notebook."""
    import functools

    return functools.lru_cache(maxsize=maxsize, typed=typed)(func)


def import_attribute(module: str, name: str):
    """`name` from `module` (a ufunc the notebook imported by name)."""
    return getattr(importlib.import_module(module), name)


def load_student(payload: bytes):
    return _StudentUnpickler(io.BytesIO(payload)).load()


# ---------------------------------------------------------------- running the student's code

def _watch_parent() -> None:
    """End this process when the process that started it ends (it may be stuck in a loop of the student's)."""
    parent = os.getppid()
    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 (not Linux)
        pass

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def _limit_memory(gib: float) -> None:
    try:
        import resource

        limit = int(gib * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except Exception:  # noqa: BLE001 (no such limit on this system: the parent's time limit still holds)
        pass


def _run(objects: dict, thunk):
    """Run thunk() with the student's stdout and warnings captured; the reply (a dict of data)."""
    out, caught = io.StringIO(), []
    saved = sys.stdout
    sys.stdout = out
    try:
        with warnings.catch_warnings(record=True) as caught:  # the interpreter's default filters, as in a notebook
            value = thunk()
        reply = {"ok": True, "value": to_data(value, objects)}
    except MemoryError:
        reply = {"ok": False, "kind": "memory"}
    except BaseException as error:  # noqa: BLE001 (the student's code: SystemExit, KeyboardInterrupt included)
        name = type(error).__name__
        try:
            message = str(error)[:500]
        except Exception:  # noqa: BLE001
            message = ""
        reply = {"ok": False, "kind": "raised", "type": str(name), "message": message,
                 "blocked": name == "ReferenceBlocked"}
    finally:
        sys.stdout = saved
    seen = []
    for warning in caught or []:
        try:
            text = f"{warning.category.__name__}: {warning.message}"
        except Exception:  # noqa: BLE001
            continue
        if text not in seen:
            seen.append(text)
    reply["warnings"] = [str(text)[:300] for text in seen[:MAX_WARNINGS]]
    reply["stdout"] = out.getvalue()[:MAX_OUTPUT]
    return reply


def serve(requests, replies) -> None:
    """Answer requests until the stream ends or a "close" comes."""
    import cloudpickle
    import numpy  # noqa: F401 (every answer uses it: imported while the grader gets ready)

    objects: dict = {}
    _channel[:] = [requests, replies]
    while True:
        data = read_frame(requests)
        if data is None:
            return
        request = pickle.loads(data)  # from the grading process (trusted)
        op = request["op"]
        block(request.get("keys", ()))
        if op == "close":
            return
        if op == "load":
            reply = _run(objects, lambda: _link(load_student(request["payload"]), request.get("builds_on") or {}))
            if reply["ok"]:
                handle = reply["value"]
                reply["value"] = handle if isinstance(handle, Handle) else Handle(0, type(handle).__name__, False)
                if not isinstance(handle, Handle):  # plain data as the student's "function": keep it as such
                    objects[0] = handle
        elif op == "call":
            target = objects.get(request["id"])
            args, kwargs = cloudpickle.loads(request["args"])
            reply = _run(objects, lambda: target(*_resolve(args, objects), **_resolve(kwargs, objects)))
        elif op == "getattr":
            reply = _run(objects, lambda: getattr(objects.get(request["id"]), request["name"]))
        else:
            reply = {"ok": False, "kind": "raised", "type": "ValueError", "message": f"unknown request {op!r}",
                     "blocked": False, "warnings": [], "stdout": ""}
        try:
            payload = pickle.dumps(reply, protocol=5)
        except Exception as error:  # noqa: BLE001
            payload = pickle.dumps({"ok": False, "kind": "raised", "type": "PicklingError", "message": str(error),
                                    "blocked": False, "warnings": [], "stdout": ""}, protocol=5)
        write_frame(replies, payload)


class Remote:
    """In a request: the child's object with this id (a Handle sent back as an argument)."""

    def __init__(self, id: int):
        self.id = id


class Oracle:
    """In a request: a function of the grading process's (a query interface), called from here by message: the
    function, its closure and its query counter stay in the grading process."""

    def __init__(self, id: int):
        self.id = id


_channel: list = []  # (requests, replies) while serving


def _oracle(id: int):
    """A function that forwards each call to the grading process's function `id` and returns its answer."""
    def query(*args, **kwargs):
        requests, replies = _channel
        write_frame(replies, pickle.dumps({"query": id, "args": to_data(list(args), {}),
                                           "kwargs": to_data(dict(kwargs), {})}, protocol=5))
        data = read_frame(requests)
        if data is None:
            os._exit(3)
        answer = pickle.loads(data)  # from the grading process (trusted)
        if answer.get("ok"):
            return answer["value"]
        raise type(str(answer.get("type", "Error")), (Exception,), {})(answer.get("message", ""))
    query.__name__ = query.__qualname__ = "query"
    return query


def _link(obj, builds_on: dict):
    """The student's function, with the earlier exercises' functions it calls (by name, in its globals) replaced by
    stubs that forward to their references in the grading process (mialab.checks._process.earlier_references)."""
    names = getattr(obj, "__globals__", None)
    if isinstance(names, dict):
        for name, oracle in builds_on.items():
            if name in names and isinstance(oracle, Oracle):
                names[name] = _oracle(oracle.id)
    return obj


def _resolve(value, objects):
    if isinstance(value, Oracle):
        return _oracle(value.id)
    if isinstance(value, Remote):
        return objects.get(value.id)
    if type(value) in (list, tuple):
        return type(value)(_resolve(item, objects) for item in value)
    if type(value) is dict:
        return {key: _resolve(item, objects) for key, item in value.items()}
    return value


def main() -> None:
    """Entry point of the child process: its stdin and stdout become the frames' channel; the student's output
    goes to stderr (a file the parent reads only if this process fails)."""
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr
    _watch_parent()
    _limit_memory(float(os.environ.get("MIALAB_CHILD_MEMORY_GIB", "4")))
    serve(requests, replies)
    sys.stdout.flush()
    os._exit(0)  # no atexit handlers of the student's

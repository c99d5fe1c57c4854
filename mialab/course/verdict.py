"""Grading outside the student's kernel: two nbgrader preprocessors that `nbgrader autograde` runs.

- `CaptureExecute` is nbgrader's Execute with two changes: the kernel starts without the capstone key in its
  environment, and just before each graded check cell it asks the kernel for the exercise's function (the name its
  row in mialab.checks.registry gives), packed by value (mialab.checks._process.capture). Nothing the kernel sends
  is opened here: the bytes go, unopened, to the sandbox.
- `Verdict` then decides each check cell's points in this process: the hidden test draws fresh inputs and computes
  the expected values here; the student's function runs in a sandbox (mialab.course.sandbox) whose copy of mialab
  lacks the exercise's off-limits code, and sends back data only. The cell's outputs are replaced by the verdict
  (an error when it failed, which nbgrader scores 0), so nothing the kernel printed can turn into points.

`python -m mialab.course nbgrader-course` writes an nbgrader_config.py that installs both (`configure`).
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager

from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbclient.util import run_sync
from traitlets import Bool

from ..checks import registry
from ..checks._process import grade
from . import sandbox

ENV_MARK = "MIALAB_VERDICT"       # set in the kernel's environment: the check cells' hidden part then does nothing
SECRET_ENV = ("MIALAB_CAPSTONE_KEY",)
CAPTURED = "mialab_captured"      # resources key: exercise id -> packed item (or why there is none)


_OUTSIDE = re.compile(r'^graded_outside\("(\d+\.\d+)"\)\s*$', re.MULTILINE)


def _row(cell):
    """The registry row a graded check cell grades: by its grade_id, or (a course's own notebook reusing an
    exercise under another grade_id) by the `graded_outside("N.M")` of its hidden part. Locked cells: autograde has
    put back their source from the instructor's before this runs."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not meta.get("grade") or cell.get("cell_type") != "code":
        return None
    row = registry.BY_GRADE_ID.get(meta.get("grade_id"))
    if row is None:
        named = _OUTSIDE.findall(str(cell.get("source", "")))
        row = registry.BY_ID.get(named[0]) if len(named) == 1 else None
    return row if row is not None and not row.manual else None


def _item(reply: dict) -> dict:
    """The packed item from the kernel's reply to a capture (its user expression), checked to be the right shape."""
    content = reply.get("content", {}) if isinstance(reply, dict) else {}
    value = content.get("user_expressions", {}).get("item", {})
    if value.get("status") != "ok":
        return {"error": f"{value.get('ename', 'Error')}: {value.get('evalue', '')}"[:300]}
    try:
        text = ast.literal_eval(value["data"]["text/plain"])
        item = json.loads(base64.b64decode(text, validate=True))
        payload = base64.b64decode(item["payload"], validate=True) if item.get("payload") is not None else None
        return {"name": str(item.get("name", "function")), "callable": bool(item.get("callable")),
                "payload": payload, "error": None if item.get("error") is None else str(item["error"])[:300]}
    except (ValueError, KeyError, TypeError, SyntaxError, binascii.Error, AttributeError, MemoryError):
        return {"error": "the notebook's kernel sent something that is not a packed function"}


class CaptureExecute(Execute):
    """nbgrader's Execute, which also captures each graded exercise's function from the kernel just before its check
    cell runs, and starts the kernel without the capstone key in its environment, in a sandbox where bubblewrap
    runs (`sandbox_kernel`): the submission's cells then cannot see the course folder, other processes or the
    network, nor write anything but their own folder and mialab's cache."""

    sandbox_kernel = Bool(True, help="Run the submission's kernel in a bubblewrap sandbox where one can start "
                                     "(mialab.course.sandbox.kernel_command).").tag(config=True)
    _kernel_io = None

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        why = sandbox.available() if self.sandbox_kernel else "sandbox_kernel is off"
        if why is not None:
            self.log.warning("mialab: the submission's kernel runs without a sandbox: %s", why)
            return km
        io = tempfile.mkdtemp(prefix="mialab-kernel-")
        os.chmod(io, 0o700)
        self._kernel_io = io
        km.transport, km.ip = "ipc", os.path.join(io, "kernel")
        if km.kernel_spec is not None:  # a cell's timeout interrupts by message: a signal would reach bwrap, not it
            km.kernel_spec.interrupt_mode = "message"
        folder = (self.resources or {}).get("metadata", {}).get("path") or os.getcwd()
        plain = km.format_kernel_cmd

        def format_kernel_cmd(extra_arguments=None):
            return sandbox.kernel_command(plain(extra_arguments=extra_arguments), folder, io, km.connection_file)
        km.format_kernel_cmd = format_kernel_cmd
        return km

    async def async_start_new_kernel(self, **kwargs):
        env = {key: value for key, value in os.environ.items() if key not in SECRET_ENV}
        env[ENV_MARK] = "outside"
        kwargs.setdefault("env", env)
        return await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        resources[CAPTURED] = {}
        self._captured = resources[CAPTURED]
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._kernel_io:
                shutil.rmtree(self._kernel_io, ignore_errors=True)
                self._kernel_io = None

    def preprocess_cell(self, cell, resources, index):
        row = _row(cell)
        if row is not None:
            self._captured[row.id] = self._capture(row.function)
        return super().preprocess_cell(cell, resources, index)

    def _capture(self, name: str) -> dict:
        if not name.isidentifier():
            return {"error": f"{name!r} is not a name"}
        expression = f"__import__('mialab.checks._process', fromlist=['capture']).capture({name})"
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"item": expression})
            reply = self.wait_for_reply(msg_id)
        except Exception as error:  # noqa: BLE001 (a kernel that died or hangs: the exercise scores 0)
            return {"error": f"the kernel did not answer ({type(error).__name__})"}
        return _item(reply or {})


@contextmanager
def _working_folder(path):
    """Grade in the submission's folder (the capstone's target file lies there), then come back."""
    here = os.getcwd()
    os.chdir(path or here)
    try:
        yield
    finally:
        os.chdir(here)


def grade_exercise(row: registry.Exercise, item: dict | None) -> dict:
    """Run `row`'s hidden test on the captured `item` with the student's code in a sandbox (a plain child process,
    said in the reply, where no sandbox can start). Returns {"ok", "message", "sandbox"}."""
    if not item or item.get("payload") is None:
        why = (item or {}).get("error") or "it was not captured"
        return {"ok": False, "sandbox": None, "message": f"Exercise {row.id}: there is no function "
                f"`{row.function}` to grade ({why}). Define it in the exercise cell and run the notebook top to "
                "bottom."}
    copy = sandbox.Copy(row.off_limits)
    try:
        unavailable = sandbox.available()
        if unavailable is None:
            def wrap(argv, env):
                return sandbox.command(argv, copy.folder, env=env)
            paths = [sandbox.INSIDE, *[p for p in sys.path if p and p != str(sandbox.PACKAGE.parent)]]
        else:
            wrap, paths = None, [str(copy.folder), *[p for p in sys.path if p and p != str(sandbox.PACKAGE.parent)]]
        reply = grade(row.notebook, row.test, [item], {}, paths, wrap=wrap)
    finally:
        copy.close()
    reply["sandbox"] = unavailable
    if not reply.get("ok") and not str(reply.get("message", "")).startswith(f"Exercise {row.id}"):
        reply["message"] = f"Exercise {row.id}: " + str(reply.get("message", "")).split(": ", 1)[-1]
    return reply


def _verdict_outputs(row: registry.Exercise, reply: dict) -> list:
    warned = "".join(f"⚠️ Exercise {row.id}: your function warned: {text} (not an error: decide whether it "
                     "matters)\n" for text in reply.get("warnings", [])[:5])
    if reply.get("ok"):
        text = f"✅ Exercise {row.id}: passed the hidden tests ({row.points:g} points).\n" + warned
        return [NotebookNode(output_type="stream", name="stdout", text=text)]
    message = str(reply.get("message", "")).strip().removeprefix("❌").strip()
    label, sep, what = message.partition(": ")
    text = (f"❌ {label} failed a hidden test: {what}" if sep
            else f"❌ Exercise {row.id} failed a hidden test: {message}")
    return [NotebookNode(output_type="error", ename="HiddenTestFailed", evalue=text, traceback=text.splitlines())]


class Verdict(NbGraderPreprocessor):
    """Decide each registered check cell's points outside the kernel (after CaptureExecute) and write the verdict
    as the cell's only output."""

    def preprocess(self, nb, resources):
        captured = resources.get(CAPTURED, {})
        folder = resources.get("metadata", {}).get("path") or None
        with _working_folder(folder):
            for cell in nb.cells:
                row = _row(cell)
                if row is None:
                    continue
                reply = grade_exercise(row, captured.get(row.id))
                if reply.get("sandbox"):
                    self.log.warning("mialab: exercise %s graded without a sandbox: %s", row.id, reply["sandbox"])
                cell.outputs = _verdict_outputs(row, reply)
        return nb, resources


def configure(config) -> None:
    """Install CaptureExecute and Verdict in nbgrader's autograde pipeline (in an nbgrader_config.py: `c`)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)

    config.Autograde.autograde_preprocessors = [CaptureExecute, Verdict, IgnorePattern, ClearMetadataPreprocessor,
                                                LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


__all__ = ["CaptureExecute", "Verdict", "configure", "grade_exercise"]

"""Read and write notebooks byte-stably: stable cell ids, only the metadata that matters, nbformat's JSON layout."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbformat import NotebookNode

# cell metadata that carries meaning: nbgrader's (grade ids, points, checksums), its locks, and tags (nbval, nbclient)
CELL_METADATA = ("nbgrader", "deletable", "editable", "tags")


class NotebookError(ValueError):
    """A notebook the course tooling cannot use as it is; the message says what to do."""


def read_notebook(path, *, fix_ids: bool = False) -> NotebookNode:
    """Read an nbformat 4 notebook whose cells all have unique ids (or give missing ones stable ids)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise NotebookError(f"cannot read notebook {path}: {error}") from None
    if raw.get("nbformat") != 4:
        raise NotebookError(f"{path} is nbformat {raw.get('nbformat')}; the course tooling needs nbformat 4.")
    cells = raw.get("cells", [])
    missing = [i for i, cell in enumerate(cells) if not cell.get("id")]
    if missing or raw.get("nbformat_minor", 0) < 5:
        if not fix_ids:
            raise NotebookError(
                f"{path}: cells {missing[:5]}{'...' if len(missing) > 5 else ''} have no id (or the file is older "
                "than nbformat 4.5), so the release would invent random ids. Give them stable ids with "
                f"`python -m mialab.course execute {path}` (or save the notebook in JupyterLab 3+).")
        taken = {cell["id"] for cell in cells if cell.get("id")}
        for i in missing:
            new_id, k = f"cell-{i:03d}", 0
            while new_id in taken:
                k += 1
                new_id = f"cell-{i:03d}-{k}"
            cells[i]["id"] = new_id
            taken.add(new_id)
        raw["nbformat_minor"] = max(raw.get("nbformat_minor", 0), 5)
    ids = [cell["id"] for cell in cells]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise NotebookError(f"{path}: cell ids {duplicated} are used more than once; give each cell its own id.")
    return nbformat.reads(json.dumps(raw), as_version=4)


def tidy(nb: NotebookNode) -> NotebookNode:
    """Keep only metadata that means something (no timings, widget state, UI state, kernel versions); in place."""
    kernelspec = nb.metadata.get("kernelspec")
    language = nb.metadata.get("language_info", {}).get("name") or (kernelspec or {}).get("language", "python")
    nb.metadata = nbformat.from_dict({"language_info": {"name": language}})
    if kernelspec:
        nb.metadata["kernelspec"] = nbformat.from_dict(
            {key: kernelspec[key] for key in ("display_name", "language", "name") if key in kernelspec})
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in CELL_METADATA})
        for output in cell.get("outputs", []):
            output.pop("transient", None)
    return nb


def dumps(nb: NotebookNode) -> str:
    """The notebook as nbformat writes it (sorted keys, indent 1), ending in one newline."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: NotebookNode, path) -> bool:
    """Write `nb` to `path` with LF line ends; leave the file (and its mtime) alone when the bytes are the same.

    Returns True when the file changed."""
    path = Path(path)
    data = dumps(nb).encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True

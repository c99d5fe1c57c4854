"""Build the course website from the stored notebook outputs: `python docs/site/build.py [OUT]` (`make site`).

Nothing is executed: each solution notebook is rendered with the outputs stored in `solutions/` (myst-nb with
execution off), so the build is fast and offline. The pages are staged first, then Sphinx builds them:

    OUT/src/   the staged sources (generated; never edit)
    OUT/html/  the website: open OUT/html/index.html
    OUT/warnings.txt  Sphinx's warnings (tests/test_site.py fails on any)

The notebook pages come from a glob of `solutions/[0-9][0-9]_*.ipynb`, so a notebook appears on the site once
its file exists; the syllabus (README's course table, all 14 notebooks) marks the others "in preparation".
Why Sphinx + myst-nb rather than jupyter-book: see docs/site/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = ROOT / "build" / "site"

# modules of the package left out of the API reference: per-notebook checks and hidden tests are course internals; the
# course tooling is documented by its package (its submodules' names clash with the functions it exports)
API_SKIP = re.compile(r"^mialab\.(checks\.(nb\d\d|hidden_nb\d\d)|course\.\w+)$")


@dataclass
class Entry:
    """One row of the syllabus: a notebook number, its topic and time, and its files once they exist."""

    number: str
    slug: str
    topic: str
    time: str
    solution: Path | None = None
    student: Path | None = None
    title: str = ""

    @property
    def exists(self) -> bool:
        return self.solution is not None


def readme_syllabus(readme: Path = ROOT / "README.md") -> dict[str, Entry]:
    """The course table of README.md (rows "| `NN_slug` | topic | time |"), by notebook number."""
    entries = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`(\d\d)_([A-Za-z0-9_]+)`\s*\|(.*)\|(.*)\|\s*$", line)
        if match:
            number, slug, topic, when = match.groups()
            entries[number] = Entry(number, f"{number}_{slug}", topic.strip(), when.strip())
    return entries


def _cell_text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def syllabus(root: Path = ROOT) -> list[Entry]:
    """All notebooks: README's rows joined with the files in solutions/ (a file not in README still appears)."""
    entries = readme_syllabus(root / "README.md")
    for path in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = _cell_text(nb["cells"][0]) if nb["cells"] else ""
        heading = re.search(r"^#\s+(.+)$", first, re.M)
        minutes = re.search(r"\*\*Estimated time:?\*\*:?\s*([^·\n*]+)", first)
        entry = entries.get(number) or Entry(number, path.stem, "", "")
        entry.slug, entry.solution = path.stem, path
        entry.title = heading.group(1).strip() if heading else path.stem
        if minutes:
            entry.time = minutes.group(1).strip().rstrip(".").strip()  # "60 min." in some notebooks: "60 min"
        student = root / "notebooks" / path.name
        entry.student = student if student.exists() else None
        entries[number] = entry
    return [entries[k] for k in sorted(entries)]


# --- staging ---------------------------------------------------------------------------------------------------

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
_NBVAL = re.compile(r"^# NBVAL_\w+[ \t]*\n", re.M)
_SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.M)


_REPRODUCTION = re.compile(r"\[([^\]]+)\]\(\.\./docs/reproduction\.md#([\w-]+)\)")


def _reproduction_link(match) -> str:
    """A notebook's [text](../docs/reproduction.md#entry) as a link to the site's page (raw HTML: the entries'
    anchors are raw HTML too)."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", match.group(1))
    return f'<a href="../guide/reproduction.html#{match.group(2)}">{text}</a>'


def _reading_copy(entry: Entry) -> dict:
    """The solution notebook as a reader sees it: hidden tests, nbval markers and nbgrader's solution markers out (the
    solution's code stays), a download note in."""
    nb = json.loads(entry.solution.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            text = _NBVAL.sub("", _HIDDEN.sub("", _cell_text(cell))).rstrip("\n")
            cell["source"] = _SOLUTION_MARKER.sub("", text)
        elif _SOLUTION_MARKER.search(_cell_text(cell)):
            cell["source"] = _SOLUTION_MARKER.sub("", _cell_text(cell))
        if cell["cell_type"] == "markdown" and _REPRODUCTION.search(_cell_text(cell)):
            # docs/reproduction.md is the site's guide/reproduction page; its entries are raw-HTML anchors
            cell["source"] = _REPRODUCTION.sub(_reproduction_link, _cell_text(cell))
    links = []
    if entry.student is not None:
        links.append(f"{{download}}`the student notebook <../_files/student/{entry.student.name}>` "
                     "(exercises blank, outputs cleared: work in this one)")
    links.append(f"{{download}}`this solution notebook <../_files/solutions/{entry.slug}_solution.ipynb>`")
    note = ("```{note}\nThis page shows the **solution** notebook with its stored outputs, for reading. "
            "Download " + " or ".join(links) + ". Run it with `make lab` in a clone of the repository.\n```")
    nb["cells"].insert(1 if nb["cells"] else 0,
                     {"cell_type": "markdown", "id": "mialab-site-note", "metadata": {}, "source": note})
    return nb


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _readiness(ready: list[Entry], entries: list[Entry]) -> str:
    if len(ready) == len(entries):
        return f"All {len(entries)} notebooks are ready."
    return (f"{len(ready)} of the {len(entries)} notebooks are ready; the others are in preparation and appear "
            "here once their files exist.")


def _index(entries: list[Entry]) -> str:
    ready = [e for e in entries if e.exists]
    rows = []
    for e in entries:
        topic = _md_cell(e.topic)
        if e.exists:
            name = f"[{_md_cell(e.title)}](notebooks/{e.slug})"
            student = (f"{{download}}`download <_files/student/{e.student.name}>`" if e.student
                       else "not released yet")
            rows.append(f"| {name} | {topic} | {e.time} | {student} |")
        else:
            name = f"{e.number} · {e.slug[3:].replace('_', ' ')}"
            rows.append(f"| {name} | {topic} | — | *in preparation* |")
    toctree = "\n".join(f"notebooks/{e.slug}" for e in ready)
    return f"""# mialab: membership inference, hands on

A Jupyter course on membership inference attacks and defences in machine learning, over a small helper
package (`mialab`). It runs offline on a 2-core laptop CPU. Each notebook builds an attack step by step; after
every exercise a check cell says at once whether your function is right, with a hint when it is not. The same
notebooks are nbgrader assignments for a graded course.

- **Students:** read a notebook here, then download the student version (or clone the repository and run
  `make lab`) and work through it top to bottom.
- **Instructors:** [Teach with this](guide/teach.md) (course length, prerequisites, picking notebooks, grading)
  and the [instructor guide](guide/instructor_guide.md) (nbgrader, step by step).
- **Researchers:** the [API reference](api/index.md) of the helper package and [how it is
  built](guide/architecture.md) (its layers, the path from queries to metrics, how to add an attack); each notebook
  ends with the paper's numbers beside ours, and the [reproductions at paper scale](guide/reproduction.md) run the
  trends the notebooks could not show at laptop scale.

## Syllabus

{_readiness(ready, entries)} Each notebook's page shows the complete solution with its outputs; the student
notebook (exercises blank) is the one to work in.

::::{{container}} mialab-syllabus

| notebook | what it covers | time | to work in |
| --- | --- | --- | --- |
{chr(10).join(rows)}

::::

```{{toctree}}
:caption: Notebooks
:maxdepth: 1
:hidden:

{toctree}
```

```{{toctree}}
:caption: Teaching
:maxdepth: 1
:hidden:

guide/teach
guide/instructor_guide
```

```{{toctree}}
:caption: Reference
:maxdepth: 1
:hidden:

datasets/index
api/index
guide/architecture
guide/reproduction
```

## Licence

The code is MIT-licensed; the notebooks' text and figures are licensed CC BY 4.0 (see `LICENSE` and
`LICENSE-notebooks` in the repository).
"""


def _datasets_index(names: list[str]) -> str:
    toctree = "\n".join(names)
    return f"""# Datasheets

One datasheet per dataset the course uses or can fetch: provenance, licence, how the course builds or
downloads it, and its checksum.

```{{toctree}}
:maxdepth: 1

{toctree}
```
"""


def api_modules() -> list[str]:
    """The package's public modules (no `_private` ones, no per-notebook checks), in import order."""
    import pkgutil  # noqa: PLC0415 (stdlib, only needed here)

    sys.path.insert(0, str(ROOT))
    import mialab  # noqa: PLC0415 (the package is imported from this checkout, after the path is set)

    names = ["mialab"]
    for info in pkgutil.walk_packages(mialab.__path__, "mialab."):
        if any(part.startswith("_") for part in info.name.split(".")) or API_SKIP.match(info.name):
            continue
        names.append(info.name)
    return sorted(names)


def _api_pages(src: Path) -> None:
    api = src / "api"
    api.mkdir()
    modules = api_modules()
    for name in modules:
        underline = "=" * len(name)
        (api / f"{name}.rst").write_text(
            f"{name}\n{underline}\n\n.. automodule:: {name}\n   :members:\n   :show-inheritance:\n",
            encoding="utf-8")
    toctree = "\n".join(f"   {name}" for name in modules)
    (api / "index.md").write_text(
        "# API reference\n\nThe helper package `mialab`, from its docstrings. Each function says what it "
        "computes, the shapes it takes, the paper it follows and the notebook that teaches it.\n\n"
        "```{toctree}\n:maxdepth: 1\n\n" + toctree.replace("   ", "") + "\n```\n", encoding="utf-8")


def stage(src: Path, root: Path = ROOT) -> list[Entry]:
    """Write the Sphinx sources of the site into `src` (emptied first)."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    entries = syllabus(root)
    for sub in ("student", "solutions"):
        (src / "_files" / sub).mkdir(parents=True)
    for e in entries:
        if not e.exists:
            continue
        (src / "notebooks" / e.solution.name).write_text(json.dumps(_reading_copy(e), indent=1), encoding="utf-8")
        shutil.copy2(e.solution, src / "_files" / "solutions" / f"{e.slug}_solution.ipynb")
        if e.student is not None:
            shutil.copy2(e.student, src / "_files" / "student" / e.student.name)
    (src / "index.md").write_text(_index(entries), encoding="utf-8")
    (src / "guide").mkdir()
    for name in ("teach.md", "instructor_guide.md", "architecture.md", "reproduction.md"):
        shutil.copy2(root / "docs" / name, src / "guide" / name)
    (src / "guide" / "reproduction").mkdir()   # the figures docs/reproduction.md shows (python -m mialab.reproduce)
    for figure in sorted((root / "docs" / "reproduction").glob("*.png")):
        shutil.copy2(figure, src / "guide" / "reproduction" / figure.name)
    (src / "datasets").mkdir()
    sheets = sorted(p.stem for p in (root / "datasets").glob("*.md"))
    for name in sheets:
        shutil.copy2(root / "datasets" / f"{name}.md", src / "datasets" / f"{name}.md")
    (src / "datasets" / "index.md").write_text(_datasets_index(sheets), encoding="utf-8")
    _api_pages(src)
    (src / "_static").mkdir()
    shutil.copy2(HERE / "static" / "mialab.css", src / "_static" / "mialab.css")
    shutil.copy2(HERE / "conf.py", src / "conf.py")
    return entries


def build(out: Path = DEFAULT_OUT, quiet: bool = True) -> int:
    """Stage and build the site into `out`/html; return Sphinx's exit status (warnings go to warnings.txt)."""
    from sphinx.cmd.build import build_main  # noqa: PLC0415 (Sphinx is a dev dependency, imported when building)

    out = Path(out).resolve()
    os.environ["MIALAB_SITE_ROOT"] = str(ROOT)  # conf.py puts this checkout on sys.path for autodoc
    src, html, doctrees = out / "src", out / "html", out / "doctrees"
    stage(src)
    for path in (html, doctrees):
        if path.exists():
            shutil.rmtree(path)
    warnings = out / "warnings.txt"
    args = ["-b", "html", "-d", str(doctrees), "-w", str(warnings), "--keep-going", "-E"]
    if quiet:
        args.append("-q")
    return build_main(args + [str(src), str(html)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="output folder (build/site)")
    parser.add_argument("--verbose", action="store_true", help="Sphinx's progress output")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    status = build(args.out, quiet=not args.verbose)
    warnings = (args.out / "warnings.txt").read_text(encoding="utf-8").strip()
    if warnings:
        print(warnings, file=sys.stderr)
    took = time.perf_counter() - start
    print(f"site: {args.out / 'html' / 'index.html'} ({took:.1f} s"
          f"{', with warnings' if warnings else ''}{', FAILED' if status else ''})")
    return status or (1 if warnings else 0)


if __name__ == "__main__":
    sys.exit(main())

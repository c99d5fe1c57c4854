"""Paper-scale reproductions (issue 30): `python -m mialab.reproduce NAME` or `--all` (`make reproduce`).

The notebooks run at laptop scale and say where a paper's trend did not show there. Each entry of `REGISTRY`
runs that paper's headline experiment at the scale where its trend should appear (deeper or wider models, more
records, more epochs), with the package's own attacks, and writes docs/reproduction/NAME.json (the table of the
paper's figure against ours with 95% intervals, the scale, the seconds taken, the seed, the host's CPU and a hash
of the entry's source) and docs/reproduction/NAME.png; docs/reproduction.md is then regenerated from every JSON
file there (`render`, never typed by hand). Adding an entry is one module under mialab/reproduce/ with an
`ENTRY` and one row below.

    >>> sorted(REGISTRY)[:2]
    ['carlini-exposure', 'fredrikson-gap']
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
import warnings
from pathlib import Path

from .._validation import as_path, check_choice, check_seed
from ..metrics import FewNonMembersWarning
from ..progress import progress
from . import (carlini_exposure, fredrikson_gap, hilprecht_vae, nasr_active, nasr_layers, salem_dropout,
               shokri_synthesis, tramer_labels)
from ._entry import Entry

REGISTRY: dict[str, Entry] = {entry.name: entry for entry in (
    salem_dropout.ENTRY,
    nasr_layers.ENTRY,
    hilprecht_vae.ENTRY,
    carlini_exposure.ENTRY,
    tramer_labels.ENTRY,
    fredrikson_gap.ENTRY,
    shokri_synthesis.ENTRY,
    nasr_active.ENTRY,
)}

SIZES = ("tiny", "full")
DOCS = Path(__file__).resolve().parents[2] / "docs"
_HERE = Path(__file__).resolve().parent


def entry(name) -> Entry:
    """The registered entry called `name`; an unknown name is refused with the list of known ones."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown reproduction {name!r}; the known ones are: {', '.join(sorted(REGISTRY))} "
                         "(or --all for every one).")
    return REGISTRY[name]


def source_hash(name: str) -> str:
    """SHA-256 of the entry's source files (its module and the shared _entry.py): the JSON stores it, and
    docs/reproduction.md's test fails when an entry's code changed after its JSON was produced."""
    digest = hashlib.sha256()
    for path in (_HERE / f"{entry(name).module}.py", _HERE / "_entry.py"):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _device(device):
    from ..many_models import check_device
    return check_device(device)


def run(name: str, size: str = "full", *, device="cpu", seed: int = 0, out_dir=None) -> dict:
    """Run entry `name` at `size` ("tiny": seconds, for tests; "full": the paper's scale, minutes) on `device`
    ("cpu", or "cuda" where torch has it) -> the JSON record; with `out_dir`, also write out_dir/NAME.json and
    out_dir/NAME.png. Seeded by `seed`."""
    chosen = entry(name)
    size = check_choice(size, "size", SIZES)
    torch_device = _device(device)
    seed = check_seed(seed, "seed")
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import torch

    start = time.perf_counter()
    with warnings.catch_warnings():   # small candidate sets at `tiny`: the tables print no TPR they cannot measure
        warnings.simplefilter("ignore", FewNonMembersWarning)
        outcome = chosen.experiment(dict(chosen.sizes[size]), device=torch_device, seed=seed)
    seconds = time.perf_counter() - start
    record = {
        "name": chosen.name, "title": chosen.title, "notebooks": list(chosen.notebooks), "claim": chosen.claim,
        "paper": chosen.paper, "source": chosen.source, "course": chosen.course, "at_scale": chosen.at_scale,
        "size": size, "scale": outcome.scale, "parameters": chosen.sizes[size], "seed": seed,
        "device": str(torch_device), "seconds": round(seconds, 1), "cpu": _cpu(),
        "python": platform.python_version(), "torch": torch.__version__, "source_hash": source_hash(name),
        "verdict": outcome.verdict, "summary": outcome.summary, "table": outcome.rows,
        "numbers": outcome.numbers, "figure": f"reproduction/{chosen.name}.png",
    }
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        outcome.figure.savefig(out_dir / f"{chosen.name}.png", dpi=110, bbox_inches="tight")
        (out_dir / f"{chosen.name}.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n",
                                                      encoding="utf-8")
    plt.close(outcome.figure)
    return record


def _table(rows: list) -> str:
    columns = list(dict.fromkeys(key for r in rows for key in r))
    escape = lambda text: str(text).replace("|", "\\|")   # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(escape(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


HEADER = """# Reproductions at paper scale

<!-- generated by `python -m mialab.reproduce` from docs/reproduction/*.json: do not edit by hand -->

The notebooks run at laptop scale and say where a paper's trend did not show there. Each entry below runs the
paper's headline experiment at the scale where the trend should appear, with the package's own attacks, and
reports the paper's figure (from the course's table of papers' figures, with its confidence mark: **H** read from
the paper or the authors' code, **M** from a reliable secondary source, **L** recalled, qualitative only) against
ours with 95% bootstrap intervals. A negative result is reported as one, with its numbers. Regenerate one entry
with `python -m mialab.reproduce NAME`, all with `make reproduce`; this page is rebuilt from the JSON files each
time. Synthetic data (the course's purchase records, the warfarin cohort, the text corpus) are stand-ins for the
papers' data sets, as in the notebooks.
"""


def render(folder=None) -> str:
    """docs/reproduction.md's text from the JSON files in `folder` (default docs/reproduction), in registry order;
    a registered entry without a JSON file is listed as not yet run."""
    folder = DOCS / "reproduction" if folder is None else as_path(folder, "folder")
    records = {}
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record["name"]] = record
    parts = [HEADER, "| entry | notebooks | verdict | size | time |", "| --- | --- | --- | --- | --- |"]
    for name, chosen in REGISTRY.items():
        r = records.get(name)
        status = (r["verdict"], r["size"], _minutes(r["seconds"])) if r else ("not yet run", "-", "-")
        parts.append(f'| <a href="#{name}">{chosen.title}</a> | {", ".join(chosen.notebooks)} | '   # raw HTML: the
                     + " | ".join(status) + " |")                     # site's MyST checks Markdown links to ids
    for name, chosen in REGISTRY.items():
        r = records.get(name)
        parts += ["", f'<a id="{name}"></a>', "", f"## {chosen.title}", ""]
        if r is None:
            parts += [f"**Claim.** {chosen.claim}", "", f"Not yet run: `python -m mialab.reproduce {name}`."]
            continue
        parts += [
            f"**Claim.** {r['claim']}", "",
            f"**Paper** ({r['source']}): {r['paper']}.", "",
            f"**At course scale** (notebook{'s' * (len(r['notebooks']) > 1)} {', '.join(r['notebooks'])}): "
            f"{r['course']}", "",
            f"**What changes at scale:** {r['at_scale']}", "",
            f"**Scale run here** (`{r['size']}`, seed {r['seed']}, {r['device']}): {r['scale']}.", "",
            _table(r["table"]), "",
            f"**Verdict: {r['verdict']}.** {_sentence(r['summary'])}", "",
            f"![{chosen.title}]({r['figure']})", "",
            f"<sub>{_minutes(r['seconds'])} on {r['cpu']} (Python {r['python']}, torch {r['torch']}); "
            f"source hash `{r['source_hash']}`; `python -m mialab.reproduce {name}`.</sub>",
        ]
    return "\n".join(parts) + "\n"


def write_report(docs=None) -> Path:
    """Regenerate docs/reproduction.md from docs/reproduction/*.json -> its path."""
    docs = DOCS if docs is None else as_path(docs, "docs")
    path = docs / "reproduction.md"
    path.write_text(render(docs / "reproduction"), encoding="utf-8")
    return path


def main(argv=None) -> int:
    """The command line: python -m mialab.reproduce NAME [NAME ...] | --all [--size tiny|full] [--device cpu]."""
    parser = argparse.ArgumentParser(prog="python -m mialab.reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"entries to run: {', '.join(REGISTRY)}")
    parser.add_argument("--all", action="store_true", help="run every entry, one after another")
    parser.add_argument("--size", default="full", help="tiny (seconds, for tests) or full (default: the paper's "
                                                        "scale, minutes each)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda where torch has it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--docs", default=str(DOCS), help="the docs folder: JSON and PNG go to DOCS/reproduction, "
                                                          "the page to DOCS/reproduction.md")
    parser.add_argument("--report-only", action="store_true", help="only regenerate DOCS/reproduction.md")
    args = parser.parse_args(argv)
    names = list(REGISTRY) if args.all else args.names
    try:
        for name in names:
            entry(name)
        check_choice(args.size, "size", SIZES)
        _device(args.device)
        check_seed(args.seed, "seed")
    except ValueError as error:
        parser.error(str(error))
    if not names and not args.report_only:
        parser.error(f"name an entry ({', '.join(REGISTRY)}), or pass --all or --report-only")
    docs = Path(args.docs)
    for name in progress(names, desc="reproductions") if names else ():
        record = run(name, args.size, device=args.device, seed=args.seed, out_dir=docs / "reproduction")
        print(f"{name}: {record['verdict']} ({_minutes(record['seconds'])}): {record['summary']}", flush=True)
    print(f"wrote {write_report(docs)}")
    return 0


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())

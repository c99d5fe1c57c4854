"""`python -m mialab.reproduce` (issue 30): every registered entry runs at `tiny`, the CLI refuses what it cannot run,
and docs/reproduction.md is exactly what the committed JSON files and the current sources generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mialab import reproduce
from mialab.reproduce._entry import NOT_REPRODUCED, REPRODUCED

DOCS = Path(__file__).resolve().parents[1] / "docs"
RESULTS = sorted((DOCS / "reproduction").glob("*.json"))


@pytest.mark.parametrize("name", list(reproduce.REGISTRY))
def test_every_entry_runs_at_tiny_and_writes_a_well_formed_record(name, tmp_path):
    record = reproduce.run(name, "tiny", out_dir=tmp_path, seed=0)
    assert record["seconds"] < 90, f"{name} takes {record['seconds']} s at `tiny`; tiny is for tests (seconds)"
    assert record["verdict"] in (REPRODUCED, NOT_REPRODUCED)
    assert record["size"] == "tiny" and record["device"] == "cpu" and record["seed"] == 0
    assert record["source_hash"] == reproduce.source_hash(name)
    assert record["table"] and all({"setting", "paper", "ours"} <= set(row) for row in record["table"])
    assert any("[" in row["ours"] for row in record["table"]), "the table shows ours with 95% intervals"
    assert record["summary"] and record["scale"] and record["cpu"]
    saved = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(record))
    assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert f'<a id="{name}"></a>' in reproduce.render(tmp_path)


def test_the_registry_is_one_row_per_entry_module():
    here = Path(reproduce.__file__).parent
    modules = {p.stem for p in here.glob("*.py") if not p.stem.startswith("_")}
    assert {e.module for e in reproduce.REGISTRY.values()} == modules, "every entry module has a registry row"
    for name, entry in reproduce.REGISTRY.items():
        assert entry.name == name and set(entry.sizes) == set(reproduce.SIZES)
        assert entry.paper and entry.source and entry.at_scale and entry.course


def test_the_cli_refuses_an_unknown_name_and_lists_the_known_ones(capsys):
    with pytest.raises(SystemExit) as stop:
        reproduce.main(["no-such-entry"])
    assert stop.value.code == 2
    message = capsys.readouterr().err
    assert "unknown reproduction 'no-such-entry'" in message
    assert all(name in message for name in reproduce.REGISTRY)


@pytest.mark.parametrize("argv, message", [
    (["salem-dropout", "--size", "huge"], "`size`"),
    (["salem-dropout", "--device", "tpu"], "`device`"),
    ([], "name an entry"),
])
def test_the_cli_refuses_bad_options_before_running_anything(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        reproduce.main([*argv, "--docs", str(tmp_path)])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "nothing ran, nothing was written"


def test_the_cli_runs_an_entry_and_regenerates_the_page(tmp_path, capsys):
    assert reproduce.main(["fredrikson-gap", "--size", "tiny", "--docs", str(tmp_path)]) == 0
    assert (tmp_path / "reproduction" / "fredrikson-gap.json").exists()
    assert (tmp_path / "reproduction.md").read_text(encoding="utf-8") == reproduce.render(tmp_path / "reproduction")
    assert "fredrikson-gap:" in capsys.readouterr().out


@pytest.mark.parametrize("call, error, match", [
    (lambda: reproduce.run("no-such-entry"), ValueError, "unknown reproduction.*known ones are: carlini-exposure"),
    (lambda: reproduce.run("salem-dropout", "huge"), ValueError, "`size`"),
    (lambda: reproduce.run("salem-dropout", "tiny", seed=-1), ValueError, "seed"),
    (lambda: reproduce.run("salem-dropout", "tiny", device="tpu"), ValueError, "`device`"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_refused():
    with pytest.raises(ValueError, match="no CUDA device available"):
        reproduce.run("salem-dropout", "tiny", device="cuda")


def test_the_page_is_what_the_json_files_generate():
    page = DOCS / "reproduction.md"
    assert page.exists(), "run `python -m mialab.reproduce --report-only` to generate docs/reproduction.md"
    assert page.read_text(encoding="utf-8") == reproduce.render(), (
        "docs/reproduction.md differs from what docs/reproduction/*.json generate: it was edited by hand or not "
        "regenerated; run `python -m mialab.reproduce --report-only`")


@pytest.mark.parametrize("path", RESULTS, ids=[p.stem for p in RESULTS])
def test_each_result_was_produced_by_the_current_source_at_full_size(path):
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["name"] == path.stem and record["name"] in reproduce.REGISTRY
    assert record["size"] == "full", f"{path.name} holds a `{record['size']}` run; commit full runs only"
    assert record["source_hash"] == reproduce.source_hash(record["name"]), (
        f"mialab/reproduce/{reproduce.REGISTRY[record['name']].module}.py (or _entry.py) changed since {path.name} "
        f"was produced: rerun `python -m mialab.reproduce {record['name']}`")
    assert (DOCS / record["figure"]).exists()

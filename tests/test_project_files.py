"""What someone adopting the course looks for: licences, a citation, a changelog, a page for teachers."""

import tomllib
from pathlib import Path

import yaml

import mialab

ROOT = Path(__file__).resolve().parents[1]


def test_the_code_is_mit_and_the_notebooks_cc_by_and_the_readme_says_so():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"
    assert "CC BY 4.0" in (ROOT / "LICENSE-notebooks").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "(LICENSE)" in readme and "(LICENSE-notebooks)" in readme and "CC BY 4.0" in readme


def test_citation_cff_has_the_required_fields_and_the_package_version():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["message"] and cff["title"] and cff["authors"]
    assert str(cff["version"]) == mialab.__version__
    assert str(cff["version"]) == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_the_changelog_has_the_package_version_and_the_readme_links_it_and_teach_with_this():
    assert f"## [{mialab.__version__}]" in (ROOT / "CHANGELOG.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "(CHANGELOG.md)" in readme and "(CITATION.cff)" in readme and "(docs/teach.md)" in readme
    teach = (ROOT / "docs" / "teach.md").read_text()
    assert all(word in teach for word in ("Prerequisites", "How long", "subset", "grading"))

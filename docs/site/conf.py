"""Sphinx configuration of the course website; copied into the staged sources by docs/site/build.py."""

import html
import html.parser
import json
import os
import re
import sys
import textwrap
from pathlib import Path

import jupyter_server_mathjax

ROOT = Path(os.environ.get("MIALAB_SITE_ROOT", Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(ROOT))  # autodoc imports mialab from this checkout

project = "mialab"
author = "the mialab authors"
copyright = "the mialab authors; code MIT, notebooks' text CC BY 4.0"  # noqa: A001 (Sphinx's name)

extensions = ["myst_nb", "sphinx.ext.autodoc"]

# the notebooks are rendered from their stored outputs: nothing runs at build time
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_update_mathjax = False  # its MathJax 3 settings (window.MathJax = ...) would stop the MathJax 2 below
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "_files", "**.ipynb_checkpoints"]

# autodoc: signatures as written, members in source order, `x` in docstrings as code
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
default_role = "code"

html_theme = "furo"
html_title = "mialab: membership inference, hands on"
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None

# MathJax from a local copy (the jupyter-server-mathjax package), so pages render math offline and load nothing
# from a CDN
html_static_path = ["_static"]  # staged by build.py from docs/site/static/
html_css_files = ["mialab.css"]  # code cells wrap; the syllabus fits a phone's width
html_extra_path = []
_MATHJAX = Path(jupyter_server_mathjax.__file__).parent / "static"
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
# TeX in, the browser's own MathML out (Chromium >= 109, Firefox, Safari): that copy carries only the STIX-Web
# fonts of the HTML-CSS output, whose web-font loading is a console error under file://
mathjax2_config = {
    "MMLorHTML": {"prefer": "MML"},
    "menuSettings": {"renderer": "NativeMML"},
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None, "preferredFont": None},
    "messageStyle": "none",
    # the MathML output would fetch MathJax's TeX fonts for \mathcal, \mathbb, \mathfrak, which that copy lacks
    # (a console error); the browser's own fonts stand in
    "NativeMML": {"styles": {
        f"@font-face /*{i}*/": {"font-family": family, "src": "local('STIXGeneral'), local('STIX Two Math')",
                                **({"font-weight": "bold"} if bold else {})}
        for i, (family, bold) in enumerate([("MathJax_Caligraphic-WEB", False), ("MathJax_Caligraphic-WEB", True),
                                            ("MathJax_AMS-WEB", False), ("MathJax_Script-WEB", False),
                                            ("MathJax_Fraktur-WEB", False), ("MathJax_Fraktur-WEB", True)], 1)}},
}


# The package's docstrings are plain text (STYLE.md), not reST: `x` for code, indented lists and tables, names
# like `threshold_`, prose hard-wrapped at 120 characters. Each docstring is shown as written: prose lines are
# joined back into paragraphs, every other line (indented blocks, list items, lines after a colon) stays a line
# of its own with its indentation (reST line blocks), `code` spans are kept and every other reST markup
# character is escaped.
_CODE = re.compile(r"(``[^`]+``|`[^`]+`)")
_SPECIAL = re.compile(r"([\\*_|<>\[\]])")
_LIST_ITEM = re.compile(r"^([-*+]|\d+[.)])\s")


def _escape(text: str) -> str:
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _SPECIAL.sub(r"\\\1", parts[i])
    for i in range(1, len(parts), 2):
        if not parts[i].startswith("``"):
            parts[i] = "``" + parts[i][1:-1] + "``"
    return "".join(parts)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        previous = lines[-1] if lines else ""
        prose = line.strip() and not line[0].isspace() and not _LIST_ITEM.match(line)
        if prose and previous.strip() and not previous[0].isspace() and not previous.rstrip().endswith(":"):
            lines[-1] = previous.rstrip() + " " + line.strip()
        else:
            lines.append(line.rstrip())
    return lines


def _plain_docstring(app, what, name, obj, options, lines):
    if not lines:
        return
    text = textwrap.dedent("\n".join(lines)).strip("\n")
    lines[:] = [("| " + _escape(line)) if line.strip() else "" for line in _logical_lines(text)]


def _copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        import shutil  # noqa: PLC0415 (stdlib, only needed after a build)

        target = Path(app.outdir) / "_static" / "mathjax"
        if not target.exists():
            shutil.copytree(_MATHJAX, target)


# Search summaries under file://: Sphinx's search fetch()es each result's page for its summary, which the browser
# refuses for files; the search page loads the pages' main text as a script instead (static/search_pages.js.in).
SEARCH_PAGES = "mialab_search_pages.js"
_SEARCH_TEMPLATE = ROOT / "docs" / "site" / "static" / "search_pages.js.in"
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _MainText(html.parser.HTMLParser):
    """The text of a page's [role=main] element, as HTML with only its <section id=...> elements (what Sphinx's
    search summary reads), without scripts, styles and heading links (which the summary drops too)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str | None] = []  # inside main: per open element, "section", "skip" or None
        self.skipping = 0
        self.out: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        attrs = dict(attrs)
        if not self.stack:
            if attrs.get("role") == "main":
                self.stack.append(None)
            return
        if self.skipping or tag in ("script", "style") or "headerlink" in (attrs.get("class") or "").split():
            self.skipping += 1
            self.stack.append("skip")
        elif tag == "section" and attrs.get("id"):
            self.out.append(f'<section id="{html.escape(attrs["id"])}">')
            self.stack.append("section")
        else:
            self.stack.append(None)

    def handle_endtag(self, tag):
        if tag in _VOID or not self.stack:
            return
        kind = self.stack.pop()
        if kind == "skip":
            self.skipping -= 1
        elif kind == "section":
            self.out.append("</section>")

    def handle_data(self, data):
        if self.stack and not self.skipping:
            self.out.append(html.escape(re.sub(r"\s+", " ", data), quote=False))


def search_pages(outdir: Path) -> dict[str, str]:
    """{page path relative to the site: its main text with its sections}, for every page search can list."""
    pages = {}
    for page in sorted(Path(outdir).rglob("*.html")):
        name = page.relative_to(outdir).as_posix()
        if name.startswith("_") or name in ("search.html", "genindex.html", "py-modindex.html"):
            continue
        parser = _MainText()
        parser.feed(page.read_text(encoding="utf-8"))
        pages[name] = '<div role="main">' + "".join(parser.out) + "</div>"
    return pages


def _write_search_pages(app, exception):
    if exception is None and app.builder.format == "html":
        data = json.dumps(search_pages(Path(app.outdir)), ensure_ascii=False).replace("</", "<\\/")
        script = _SEARCH_TEMPLATE.read_text(encoding="utf-8").replace("__PAGES__", data)
        (Path(app.outdir) / "_static" / SEARCH_PAGES).write_text(script, encoding="utf-8")


def _search_page_scripts(app, pagename, templatename, context, doctree):
    if pagename == "search":
        app.add_js_file(SEARCH_PAGES)


def setup(app):
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _write_search_pages)
    app.connect("html-page-context", _search_page_scripts)
    app.connect("autodoc-process-docstring", _plain_docstring)

"""Check the built course website in a real browser: Debian's chromium, headless, driven by selenium.

    python docs/site/browser.py [build/site/html] [--screenshots DIR]

Every page is opened from disk (file://, as a student opens the built folder) and must load with no console
error and no request leaving the machine; every image must load, and each notebook page must show at least as
many figures as its notebook has image outputs; math must typeset; every internal link (page and anchor) must
resolve. Search, opened from disk, must list results with their summaries for a query; at a phone's width (400 px)
the page must not scroll sideways, the syllabus must show its download column, and code cells must wrap at the page
width (at every width). Only the system browser is used (/usr/bin/chromium with /usr/bin/chromedriver, so Selenium
Manager never downloads one); `find_browser()` says why there is none.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMEDRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")
SKIP_DIRS = ("_static", "_sources", "_downloads", "_images")
SEARCH_QUERY = "shadow"  # a word of several notebooks' text
NARROW = 400             # px, a phone's width


def find_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths of the system browser, or a sentence saying why there is none."""
    browser = next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)
    driver = next((p for p in CHROMEDRIVER_PATHS if Path(p).exists()), None)
    if browser and driver:
        return browser, driver
    missing = " and ".join(name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path)
    return (f"no {missing} on this machine (looked in {', '.join(CHROMIUM_PATHS + CHROMEDRIVER_PATHS)}); "
            "install Debian's with `apt-get install chromium chromium-driver` (.ci/run does)")


def open_browser(browser: str, driver: str, width: int = 1280, height: int = 1000):
    """A headless chromium under selenium, logging the console, that downloads nothing."""
    from selenium import webdriver  # noqa: PLC0415 (selenium is a dev dependency, needed only here)
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager, should anything start it, stays offline
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@dataclass
class Report:
    pages: int = 0
    links: int = 0
    figures: dict[str, tuple[int, int]] = field(default_factory=dict)  # notebook page: (shown, expected)
    errors: list[str] = field(default_factory=list)
    search: dict = field(default_factory=dict)  # {results, summaries, bare, status} of the search check
    seconds: float = 0.0

    def summary(self) -> str:
        figures = ", ".join(f"{Path(p).stem} {shown}/{want}" for p, (shown, want) in sorted(self.figures.items()))
        return (f"{self.pages} pages, {self.links} internal links, figures shown/expected: {figures}; "
                f"search {SEARCH_QUERY!r}: {self.search.get('results', 0)} results, "
                f"{self.search.get('summaries', 0)} with a summary; "
                f"{len(self.errors)} problems; {self.seconds:.1f} s")


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


def _ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        parser = _Ids()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = parser.ids
    return cache[path]


def expected_figures(notebook: Path) -> int:
    """Image outputs stored in a notebook (each must appear as a figure on its page)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return sum(1 for cell in nb["cells"] for out in cell.get("outputs", [])
               if any(k.startswith("image/") for k in out.get("data", {})))


_PAGE_STATE = """
const resources = performance.getEntriesByType('resource').map(r => r.name);
const images = Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete && i.naturalWidth > 0]);
const figures = document.querySelectorAll('.cell_output img').length;
const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
const math = document.querySelectorAll('.math').length;
const done = '.MathJax_MathML, .MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG, mjx-container';
const untypeset = Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector(done)).length;
const mathErrors = document.querySelectorAll('.MathJax_Error, merror, .merror').length;
return {resources, images, figures, links, math, untypeset, mathErrors};
"""


def _wait_for_math(driver, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = driver.execute_script(_PAGE_STATE)
        if not state["untypeset"] or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


_SEARCH_STATE = """
const items = Array.from(document.querySelectorAll('#search-results li'));
const summary = li => Boolean((li.querySelector('p.context') || {}).textContent);
const described = li => Boolean(li.querySelector(':scope > span'));  // an API object: its kind, not a summary
return {results: items.length, summaries: items.filter(summary).length,
        bare: items.filter(li => !summary(li) && !described(li)).length,
        status: (document.querySelector('#search-results .search-summary') || {}).textContent || ''};
"""


def check_search(driver, root: Path, query: str = SEARCH_QUERY, timeout: float = 20.0,
                 page: str = "search.html") -> dict:
    """Search the site from disk for `query`: {results, summaries, bare, status} once every page result has its
    summary (`bare`: results with neither a summary nor, for an API object, its description)."""
    driver.get((root / page).as_uri() + f"?q={query}")
    deadline = time.monotonic() + timeout
    while True:
        state = driver.execute_script(_SEARCH_STATE)
        if (state["status"] and state["results"] and not state["bare"]) or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


_WIDTH_STATE = """
const width = document.documentElement.clientWidth;
const cell = document.querySelector('.mialab-syllabus tr:nth-child(1) td:last-child, .mialab-syllabus th:last-child');
const box = cell ? cell.getBoundingClientRect() : null;
const codes = Array.from(document.querySelectorAll('.highlight pre'));
return {width, page: document.documentElement.scrollWidth,
        lastColumn: box ? [box.left, box.right] : null,
        codeScrolls: codes.filter(pre => pre.scrollWidth > pre.clientWidth + 1).length, codes: codes.length};
"""


def check_widths(driver, root: Path, pages: list[Path], width: int = NARROW) -> list[str]:
    """At `width` px: the page does not scroll sideways, the syllabus's last column is in view, code cells wrap."""
    problems = []
    driver.set_window_size(width, 1200)
    try:
        for page in pages:
            driver.get(page.as_uri())
            state = driver.execute_script(_WIDTH_STATE)
            name = page.relative_to(root).as_posix()
            if state["page"] > state["width"] + 1:
                problems.append(f"{name} at {width} px: the page is {state['page']} px wide, wider than the window")
            column = state["lastColumn"]  # None on a page without the syllabus; the landing page must have it
            if (column is None and page == root / "index.html") or (
                    column is not None and (column[1] > state["width"] + 1 or column[0] < 0)):
                problems.append(f"{name} at {width} px: the syllabus's download column is out of view "
                                f"({column} in a {state['width']} px window)")
            if state["codeScrolls"]:
                problems.append(f"{name} at {width} px: {state['codeScrolls']} of {state['codes']} code cells scroll "
                                "sideways instead of wrapping")
    finally:
        driver.set_window_size(1280, 1000)
    return problems


def check_site(root: Path, notebooks: dict[str, Path] | None = None, screenshots: Path | None = None,
               browser: tuple[str, str] | None = None) -> Report:
    """Open every page of the site in `root` in headless chromium; return what was checked and every problem.

    `notebooks` maps a notebook page's stem (e.g. "00_membership_game") to its source notebook, whose image
    outputs the page must show; by default, the ones under `root`/../src/notebooks."""
    root = Path(root).resolve()
    if notebooks is None:
        notebooks = {p.stem: p for p in (root.parent / "src" / "notebooks").glob("*.ipynb")}
    found = browser or find_browser()
    if isinstance(found, str):
        raise RuntimeError(found)
    pages = sorted(p for p in root.rglob("*.html") if not any(part in SKIP_DIRS for part in p.relative_to(root).parts))
    report, ids = Report(), {}
    start = time.perf_counter()
    driver = open_browser(*found)
    try:
        for page in pages:
            name = page.relative_to(root).as_posix()
            driver.get(page.as_uri())
            state = _wait_for_math(driver)
            report.pages += 1
            for entry in driver.get_log("browser"):
                if entry["level"] in ("SEVERE", "ERROR"):
                    report.errors.append(f"{name}: console {entry['level']}: {entry['message']}")
            for url in state["resources"]:
                if not url.startswith("file://"):
                    report.errors.append(f"{name}: requested {url} (the site must load nothing from outside)")
            for src, ok in state["images"]:
                if not ok:
                    report.errors.append(f"{name}: image {src} did not load")
            if state["untypeset"] or state["mathErrors"]:
                report.errors.append(f"{name}: of {state['math']} formulas, {state['untypeset']} not typeset, "
                                     f"{state['mathErrors']} with MathJax errors")
            if page.parent.name == "notebooks" and page.stem in notebooks:
                want = expected_figures(notebooks[page.stem])
                report.figures[name] = (state["figures"], want)
                if state["figures"] < max(want, 1):
                    report.errors.append(f"{name}: shows {state['figures']} figures, its notebook has {want}")
            for href in state["links"]:
                parts = urlsplit(href)
                if parts.scheme != "file":
                    continue
                report.links += 1
                target = Path(unquote(parts.path))
                if not target.exists():
                    shown = target.relative_to(root) if target.is_relative_to(root) else target
                    report.errors.append(f"{name}: link to missing {shown}")
                elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target, ids):
                    report.errors.append(f"{name}: link to missing anchor {target.name}#{parts.fragment}")
        driver.get("about:blank")  # errors the last page logs after it has loaded
        for entry in driver.get_log("browser"):
            if entry["level"] in ("SEVERE", "ERROR"):
                report.errors.append(f"after the last page: console {entry['level']}: {entry['message']}")
        if (root / "search.html").exists():
            report.search = check_search(driver, root)
            if not report.search["summaries"] or report.search["bare"]:
                report.errors.append(f"search.html?q={SEARCH_QUERY}: {report.search['results']} results, "
                                     f"{report.search['summaries']} with a summary, {report.search['bare']} with "
                                     "neither a summary nor a description")
            driver.get("about:blank")
            for entry in driver.get_log("browser"):
                if entry["level"] in ("SEVERE", "ERROR"):
                    report.errors.append(f"search.html: console {entry['level']}: {entry['message']}")
        wide = [p for p in pages if p.parent.name == "notebooks"]
        narrow = [p for p in (root / "index.html", *wide[:1]) if p.exists()]
        report.errors += check_widths(driver, root, wide, width=1280) + check_widths(driver, root, narrow)
        if screenshots is not None:
            shoot(driver, root, screenshots, notebooks)
    finally:
        driver.quit()
    report.seconds = time.perf_counter() - start
    return report


def shoot(driver, root: Path, out: Path, notebooks: dict[str, Path]) -> list[Path]:
    """Screenshots of the landing page (wide, then 400 px), of a search at 400 px and of the first notebook page (its
    top, then a figure) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    driver.set_window_size(1280, 1400)
    driver.get((root / "index.html").as_uri())
    _wait_for_math(driver)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 1400), 4000))  # the whole landing page, syllabus included
    shots.append(out / "landing.png")
    driver.save_screenshot(str(shots[-1]))
    driver.set_window_size(NARROW, 1200)
    shots.append(out / f"landing_{NARROW}px.png")
    driver.save_screenshot(str(shots[-1]))
    check_search(driver, root)
    shots.append(out / f"search_{NARROW}px.png")
    driver.save_screenshot(str(shots[-1]))
    driver.set_window_size(1280, 1400)
    first = sorted(notebooks)[0] if notebooks else None
    if first:
        driver.get((root / "notebooks" / f"{first}.html").as_uri())
        _wait_for_math(driver)
        time.sleep(1.0)
        shots.append(out / f"notebook_{first}_top.png")
        driver.save_screenshot(str(shots[-1]))
        driver.execute_script("const f = document.querySelector('.cell_output img');"
                              "if (f) f.scrollIntoView({block: 'center'});")
        time.sleep(0.5)
        shots.append(out / f"notebook_{first}_figure.png")
        driver.save_screenshot(str(shots[-1]))
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", type=Path, default=Path(__file__).resolve().parents[2] / "build/site/html")
    parser.add_argument("--screenshots", type=Path, help="also save screenshots into this folder")
    args = parser.parse_args(argv)
    found = find_browser()
    if isinstance(found, str):
        print(f"SKIPPED: {found}")
        return 0
    report = check_site(args.html, screenshots=args.screenshots, browser=found)
    for error in report.errors:
        print(error, file=sys.stderr)
    print(report.summary())
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""A real headless Chromium against the real app served by waitress; saves screenshots."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_web_support import web_index_dir

from web.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install '.[browser]')"
)
if not CHROMIUM.exists() and not shutil.which("chromium"):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The app on waitress on a free localhost port, in a thread."""
    import waitress

    app = create_app({"INDEX_PATH": str(web_index_dir())})
    srv: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    stopping = threading.Event()

    def run() -> None:
        # Closing the server from this thread can pull a socket out from under the loop's
        # select() in the server thread ("Bad file descriptor"): expected only while stopping.
        try:
            srv.run()
        except (OSError, ValueError):
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.effective_port}"
    finally:
        stopping.set()
        srv.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Watch:
    """Console errors (CSP violations show up there) and requests that leave the server."""

    def __init__(self, page: Any, base: str) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        host = urlsplit(base).netloc
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "request",
            lambda r: urlsplit(r.url).netloc not in (host, "") and self.external.append(r.url),
        )


def api_total(base: str, page_url: str) -> int:
    """total_determinations of /api/search with the query string of a page URL."""
    query = urlsplit(page_url).query
    with urllib.request.urlopen(f"{base}/api/search?{query}") as response:
        total: int = json.load(response)["total_determinations"]
    return total


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_search_filter_open_and_back(server: str, browser: Any) -> None:
    context = browser.new_context(
        viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + "/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link").first  # "Skip to results", then "Skip to main content"
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()

    # the facet links are reachable by keyboard on a wide screen (filters shown, not collapsed)
    first_option = page.locator(".facet-option").first
    first_option.focus()
    assert first_option.evaluate("el => el === document.activeElement")
    assert first_option.is_visible()
    outline = first_option.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "keyboard focus is visible"

    page.fill("#q", "tizanidine")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=tizanidine*")
    assert page.locator("mark").first.is_visible()

    # tick a first facet value (outcome), then one of another facet
    page.locator("#facet-outcome ~ .facet-options .facet-option").first.click()
    page.wait_for_url("**outcome=*")
    other = page.locator(
        ".facet:not([aria-labelledby='facet-outcome']) .facet-options .facet-option:not(.is-active)"
    ).first
    other_value = other.locator(".facet-value").inner_text().replace("\u200b", "")
    other.click()
    page.wait_for_load_state()
    chips = page.locator(".chips-bar .chip")  # filter chips (not the words read as filters)
    assert chips.count() == 2
    assert other_value in chips.nth(0).inner_text() + chips.nth(1).inner_text()
    # ticked: the two filters, and the value read from the words ("tizanidine" -> drug)
    read = page.locator(".chip-read").count()
    assert page.locator(".facet-option.is-active").count() == 2 + read
    total = api_total(server, page.url)
    assert total > 0
    assert page.locator(".results-title strong").inner_text().replace(",", "") == str(total)
    assert page.locator("mark").first.is_visible()
    search_url = page.url
    shot(page, "desktop-search")

    # open a decision of the first result: its permalink anchor
    link = page.locator(".decision-request").first
    href = link.get_attribute("href") or ""
    assert "#decision-" in href
    link.click()
    page.wait_for_url("**/determinations/**")
    anchor = href.split("#", 1)[1]
    assert page.url.endswith("#" + anchor)
    target = page.locator(":target")
    assert target.get_attribute("id") == anchor
    assert target.is_visible()
    # copy-link: still a plain anchor, and the script copies the full URL
    copy = page.locator(f"#{anchor} [data-copy-link]")
    copy.click()
    page.wait_for_function("document.querySelector('.copy-link.is-copied') !== null")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith("#" + anchor) and copied.startswith(server)
    shot(page, "desktop-determination")

    page.go_back()
    page.wait_for_url(search_url)
    page.wait_for_load_state()
    assert page.locator(".chips-bar .chip").count() == 2
    assert page.input_value("#q") == "tizanidine"
    assert watch.errors == []
    assert watch.external == []
    context.close()


def test_phone_layout_and_charts(server: str, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + "/search?q=pain")
    filters = page.locator("details.filters")
    # on a phone the filters are collapsed above the results
    assert not filters.evaluate("el => el.open")
    box_filters = filters.bounding_box()
    box_results = page.locator(".results").bounding_box()
    assert box_filters is not None and box_results is not None
    assert box_filters["y"] < box_results["y"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no horizontal scrolling on a phone"
    shot(page, "phone-search")
    page.locator(".filters-toggle").click()
    assert page.locator("#facet-outcome").is_visible()
    shot(page, "phone-search-filters-open")

    page.locator(".hit-title a").first.click()
    page.wait_for_url("**/determinations/**")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "phone-determination")

    page.goto(server + "/charts")
    assert page.locator("svg[role=img]").count() >= 2
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "phone-charts")
    assert watch.errors == []
    assert watch.external == []
    context.close()


def test_desktop_charts(server: str, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + "/charts")
    assert page.locator("h1").inner_text().startswith("Overturn rates")
    assert page.locator(".bar-numbers").first.is_visible()
    assert page.locator("svg.trend[role=img] title").count() == 1
    assert page.locator("svg.trend").is_visible()
    assert page.locator(".bar-ci").first.is_visible()
    # greyed small values come after the others in every chart
    for chart in page.locator(".charts-grid .chart").all():
        flags = chart.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => r.classList.contains('is-small'))"
        )
        assert flags == sorted(flags)
    shot(page, "desktop-charts")
    page.goto(server + "/charts?q=pain")
    shot(page, "desktop-charts-query")
    page.goto(server + "/determinations/no-such-id")
    assert page.locator("h1").inner_text() == "Not found"
    shot(page, "desktop-404")
    assert watch.errors == [] or all("404" in e for e in watch.errors)
    assert watch.external == []
    context.close()


# At the top of the viewport (below its scroll margin), or as high as the page can scroll;
# scrolling may be smooth, so tests wait for it.
IN_VIEW = (
    "el => { const top = el.getBoundingClientRect().top; return top >= 0 && (top < 80 ||"
    " scrollY + innerHeight >= document.documentElement.scrollHeight - 1); }"
)


def _later_decision() -> tuple[str, str, str, int]:
    """(letter id, drug, a rationale word, ordinal) of a decision after a letter's first."""
    import re

    from search.engine.searcher import SearchIndex
    from search.results import SearchRequest

    with SearchIndex.open(str(web_index_dir())) as idx:
        for hit in idx.search(SearchRequest(size=100)).results:
            record = idx.get(hit.id)
            assert record is not None
            drugs = [d.drug for d in record.decisions]
            for d in record.decisions[1:]:
                words = re.findall(r"[a-z]{6,}", d.rationale.lower())
                if d.drug and drugs.count(d.drug) == 1 and words:
                    return record.id, d.drug, words[0], d.ordinal
    pytest.fail("no letter with a distinct drug after its first decision")


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_reader_from_search(server: str, browser: Any, viewport: dict[str, int], name: str) -> None:
    det_id, drug, word, ordinal = _later_decision()
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(f"{server}/search?q={word}&drug={drug}&sort=newest")
    search_url = page.url
    card = page.locator("li.hit", has=page.locator(f"a[href*='/determinations/{det_id}?']"))
    assert "decisions match" in card.locator(".match-count").inner_text()
    card.locator(".decision-request").first.click()
    page.wait_for_url(f"**/determinations/{det_id}?**#decision-{ordinal}")
    target = page.locator(f"#decision-{ordinal}")
    assert "is-match" in (target.get_attribute("class") or "")
    assert target.evaluate("el => el.matches(':target')")
    # the first matching decision is in view, with the query's word highlighted inside it
    in_view = IN_VIEW
    # Chromium scrolls to the fragment once layout settles, shortly after "load"
    page.wait_for_function(f"() => ({in_view})(document.getElementById('decision-{ordinal}'))")
    assert target.evaluate(in_view)
    assert target.locator("mark").count() > 0
    assert word in target.locator("mark").first.inner_text().lower()
    page.screenshot(path=str(SCREENSHOTS / f"{name}-reader-viewport.png"))
    shot(page, f"{name}-reader")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator(".from-search .back-link").click()
    page.wait_for_url(search_url)
    assert page.input_value("#q") == word
    assert page.locator(".chip").count() == 1
    assert watch.errors == []
    assert watch.external == []
    context.close()

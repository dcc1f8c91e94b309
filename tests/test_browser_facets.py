"""Real Chromium, desktop and phone: facet search inline and without JS, the filter panel
staying open while several values are ticked, and the skip link to the results."""

from __future__ import annotations

from typing import Any

import pytest
from test_browser import DESKTOP, PHONE, Watch, browser, server, shot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


def visible_values(page: Any, facet: str) -> list[str]:
    section = page.locator(f".facet[aria-labelledby='facet-{facet}']")
    values = section.locator(".facet-options > li:not([hidden]) .facet-value")
    return [v.replace("\u200b", "") for v in values.all_inner_texts()]


def open_filters(page: Any) -> None:
    """On a phone the panel starts closed: open it like a user would."""
    toggle = page.locator(".filters-toggle")
    if toggle.is_visible() and not page.locator("#filters").evaluate("el => el.open"):
        toggle.click()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_inline_facet_search(server: str, browser: Any, viewport: dict[str, int]) -> None:  # noqa: F811
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + "/search?q=pain")
    open_filters(page)
    box = page.locator("#fq-drug")
    box.fill("codon")
    shown = visible_values(page, "drug")
    assert shown and all("codon" in v.lower() for v in shown)
    assert any(v == "oxycodone" or "oxycodone/" in v for v in shown)
    assert page.locator(".facet[aria-labelledby='facet-drug'] .facet-more").evaluate(
        "el => el.open"
    )
    name = "desktop" if viewport == DESKTOP else "phone"
    shot(page, f"facet-search-inline-{name}")
    # Enter jumps to the first match; choosing it filters the search
    box.press("Enter")
    focused = page.evaluate("document.activeElement.querySelector('.facet-value').textContent")
    assert "codon" in focused.replace("\u200b", "").lower()
    page.keyboard.press("Enter")
    page.wait_for_url("**drug=*")
    assert page.locator(".chips-bar .chip").count() == 1
    box = page.locator("#fq-drug")
    box.fill("")
    assert len(visible_values(page, "drug")) > 8  # everything back
    assert not watch.errors and not watch.external
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_facet_search_without_javascript(
    server: str,  # noqa: F811
    browser: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    context = browser.new_context(viewport=viewport, java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/search?q=pain&outcome=Upheld")
    page.locator("#fq-drug").fill("codon")
    page.locator("#fq-drug").press("Enter")
    page.wait_for_url("**/facets/drug?*")
    assert "fq=codon" in page.url and "outcome=Upheld" in page.url and "q=pain" in page.url
    values = [v.replace("\u200b", "") for v in page.locator(".facet-value").all_inner_texts()]
    assert values and all("codon" in v.lower() for v in values)
    name = "desktop" if viewport == DESKTOP else "phone"
    shot(page, f"facet-search-page-{name}")
    page.locator(".facet-option").first.click()
    page.wait_for_url("**/search?*drug=*")
    assert "outcome=Upheld" in page.url and "q=pain" in page.url
    assert page.locator(".chips-bar .chip").count() == 2
    context.close()


def test_phone_filter_panel_stays_open_while_ticking(server: str, browser: Any) -> None:  # noqa: F811
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(server + "/search?q=pain")
    assert not page.locator("#filters").evaluate("el => el.open")  # results first on a phone
    page.locator(".filters-toggle").click()
    page.locator("#facet-outcome ~ .facet-options .facet-option").first.click()
    page.wait_for_url("**outcome=*")
    assert page.locator("#filters").evaluate("el => el.open")
    # the page comes back at the panel, so the next value is right there
    top = "() => document.getElementById('filters').getBoundingClientRect().top"
    for _ in range(100):  # the browser scrolls to #filters once the page is laid out
        if abs(page.evaluate(top)) < 100:
            break
        page.wait_for_timeout(100)
    assert abs(page.evaluate(top)) < 100
    option = page.locator(
        ".facet[aria-labelledby='facet-drug'] .facet-options .facet-option:not(.is-active)"
    ).first
    assert option.is_visible()
    option.click()
    page.wait_for_url("**drug=*")
    assert page.locator("#filters").evaluate("el => el.open")
    assert page.locator(".facet-option.is-active").count() >= 2
    shot(page, "filters-open-phone")
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_skip_link_reaches_the_first_result(
    server: str,  # noqa: F811
    browser: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(server + "/search?q=pain")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link[href='#hits']")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "hits"
    page.keyboard.press("Tab")
    first = page.locator(".hit-title a").first
    assert first.evaluate("el => el === document.activeElement")  # 3 key presses, not 78
    context.close()


def test_a_truncated_facet_list_searches_every_value_on_enter(
    server: str,  # noqa: F811
    browser: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the page lists only a facet's most frequent values, typing narrows those in
    place and says so, and Enter opens the facet's page with every matching value."""
    from web import views

    monkeypatch.setattr(views, "FACET_VISIBLE", 2)
    monkeypatch.setattr(views, "FACET_LISTED", 4)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + "/search?q=pain")
    assert len(visible_values(page, "drug")) == 4
    page.locator("#fq-drug").fill("o")
    status = page.locator(".facet[aria-labelledby='facet-drug'] .facet-search-status")
    assert "Enter searches them all" in status.inner_text()
    page.locator("#fq-drug").press("Enter")
    page.wait_for_url("**/facets/drug?*")
    assert "fq=o" in page.url and "q=pain" in page.url
    values = [v.replace("\u200b", "") for v in page.locator(".facet-value").all_inner_texts()]
    assert len(values) > 4 and all("o" in v.lower() for v in values)
    assert not watch.errors and not watch.external
    context.close()

"""The supervision view, and what every page loads: only the front's own files."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.web.fake_node import ENTERPRISE_A, OFFICER, PASSWORD, TOTP
from tests.web.harness import Portal, fill, follow_ticket, sign_in_enterprise, submit, text_of

pytestmark = pytest.mark.browser


def sign_in_officer(browser: Any, url: str) -> None:
    browser.get(url + "/supervision/sign-in")
    fill(
        browser, "officer-sign-in", {"officer_id": OFFICER, "password": PASSWORD, "totp_code": TOTP}
    )
    submit(browser, "officer-sign-in")


def test_a_county_officer_sees_the_standings_and_the_roster_as_tables(
    browser: Any, portal: Portal
) -> None:
    sign_in_officer(browser, portal.url)

    standings = browser.find_elements(By.CSS_SELECTOR, "#standings tbody tr")
    assert [row.find_elements(By.TAG_NAME, "td")[7].text for row in standings] == ["良好", "警告"]
    assert "answered in time 50% < 80%" in standings[1].text  # the county's rule, as judged
    verdicts = [row.find_elements(By.TAG_NAME, "td")[7] for row in standings]
    red = "rgba(207, 34, 46, 1)"
    assert [cell.value_of_css_property("color") == red for cell in verdicts] == [False, True]
    roster = text_of(browser, "#roster")
    assert "商场消费争议受理站" in roster and "已警告" in roster
    assert "ODR企业名录(第7版)" in browser.page_source


def test_an_enterprise_user_cannot_open_the_supervision_view(browser: Any, portal: Portal) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    browser.get(portal.url + "/supervision/")
    assert browser.current_url.endswith("/supervision/sign-in")


def local_references(browser: Any) -> list[str]:
    """Every src/href of a script, link or img of the page, as written in the HTML."""
    found = browser.execute_script(
        "return Array.from(document.querySelectorAll('script, link, img, iframe, source'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href') || '');"
    )
    return [str(value) for value in found]


def loaded_resources(browser: Any) -> list[str]:
    """Every resource the browser fetched for the page."""
    names = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);"
    )
    return [str(name) for name in names]


def test_no_page_loads_anything_from_outside(browser: Any, portal: Portal) -> None:
    ticket_id = next(d.ticket_id for d in portal.world.disputes.values() if not d.overdue)
    pages: list[str] = []

    def visit(path: str = "") -> None:
        if path:
            browser.get(portal.url + path)
        pages.append(browser.current_url)
        for reference in local_references(browser):
            assert reference.startswith("/") and not reference.startswith("//"), reference
        for resource in loaded_resources(browser):
            assert resource.startswith(portal.url + "/"), resource

    for path in ("/", "/consumer/", "/enterprise/sign-in", "/supervision/sign-in", "/nowhere"):
        visit(path)
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    visit()
    visit(f"/enterprise/disputes/{ticket_id}")
    visit("/enterprise/performance")
    browser.delete_all_cookies()
    follow_ticket(browser, portal.url, ticket_id, portal.world.codes[ticket_id])
    visit()
    browser.delete_all_cookies()
    sign_in_officer(browser, portal.url)
    visit()
    assert len(pages) == 10
    assert any(r.endswith("/static/style.css") for r in loaded_resources(browser))

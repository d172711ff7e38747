"""The web front's test harness (test-only): servers in a loop thread, the browser's paths.

A fake node and the web front run in an event loop of their own thread, so that a test can
drive the browser from its own; ``browser_missing`` says why the browser tests cannot run here.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from dataclasses import dataclass
from typing import Any

from tests.web.fake_node import TOTP, USER, FakeWorld
from tests.web.fake_servicers import FakeNode

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@dataclass
class Portal:
    """A fake node and the web front before it; ``url`` is the front's address."""

    url: str
    world: FakeWorld
    node: FakeNode


class LoopThread:
    """An event loop in a thread of its own, for servers the browser test talks to."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def browser_missing() -> str:
    """Why the browser tests cannot run here ('' when they can)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        return f"{' and '.join(missing)} missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return ""


def fill(browser: Any, form_id: str, values: dict[str, str]) -> None:
    """Type ``values`` into the fields of form ``form_id`` (by input name), replacing any text;
    a select gets the option of that visible text, a datetime-local its value set directly."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    form = browser.find_element(By.ID, form_id)
    for name, value in values.items():
        field = form.find_element(By.NAME, name)
        kind = field.get_attribute("type")
        if field.tag_name == "select":
            Select(field).select_by_visible_text(value)
        elif kind == "datetime-local":
            browser.execute_script("arguments[0].value = arguments[1];", field, value)
        elif kind == "checkbox":
            if field.is_selected() != (value == "1"):
                field.click()
        else:
            field.clear()
            field.send_keys(value)


def submit(browser: Any, form_id: str) -> None:
    """Submit form ``form_id`` with its button and wait for the next page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    form = browser.find_element(By.ID, form_id)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait = WebDriverWait(browser, 15)
    wait.until(lambda _: gone(form))
    wait.until(lambda b: b.execute_script("return document.readyState") == "complete")


def gone(element: Any) -> bool:
    """True once ``element``'s page was replaced (Chromium says so in two ways)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def text_of(browser: Any, css: str) -> str:
    """The visible text of the first element matching ``css`` (waiting for it to appear: a
    click on a link returns before the next page is in)."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        browser, 10, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )
    try:
        return str(wait.until(lambda b: b.find_element(By.CSS_SELECTOR, css).text or " ")).strip()
    except TimeoutException:
        page = browser.page_source
        raise AssertionError(f"no {css} on {browser.current_url}: {page[-1200:]}") from None


def field_error(browser: Any, field: str) -> str:
    """The message shown next to the field ``field`` ('' when none)."""
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.CSS_SELECTOR, f'.field-error[data-field="{field}"]')
    return str(found[0].text) if found else ""


def sign_in_enterprise(browser: Any, url: str, credit_code: str, password: str) -> None:
    """Sign an enterprise user in through the portal's form."""
    browser.get(url + "/enterprise/sign-in")
    fill(
        browser,
        "enterprise-sign-in",
        {"credit_code": credit_code, "user_id": USER, "password": password, "totp_code": TOTP},
    )
    submit(browser, "enterprise-sign-in")


def follow_ticket(browser: Any, url: str, ticket_id: str, code: str) -> None:
    """Open the consumer's page and sign in with the ticket's id and code."""
    browser.get(url + "/consumer/")
    fill(browser, "follow-form", {"ticket_id": ticket_id, "code": code})
    submit(browser, "follow-form")


def sign_out(browser: Any) -> None:
    """Sign out with the button of the page's bar."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "sign-out").click()
    text_of(browser, ".flash")

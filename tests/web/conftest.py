"""The web front's test harness: a fake node and the front on loopback, headless Chromium.

Each test gets a fresh fake node (tests/web/fake_node.py, test-only) and a web front in front
of it, both on ports picked at run time in a background event loop, stopped afterwards. The
browser is Debian's chromium driven by its chromedriver through Selenium, headless; where it
is missing the browser tests skip saying so, unless HOTLINE_REQUIRE_BROWSER=1 (CI) makes that
a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.fake_node import seeded_world
from tests.web.fake_servicers import FakeNode, start_fake_node
from tests.web.harness import CHROMEDRIVER, CHROMIUM, LoopThread, Portal, browser_missing
from web.app import RunningWeb, make_app, start_web


@pytest.fixture
def portal() -> Iterator[Portal]:
    """A seeded fake node and a web front for it, stopped after the test."""
    loop = LoopThread()
    world = seeded_world()

    async def start() -> tuple[FakeNode, RunningWeb]:
        node = await start_fake_node(world)
        running = await start_web(make_app(node.target, node.root_pem))
        return node, running

    node, running = loop.run(start())
    try:
        yield Portal(running.url, world, node)
    finally:

        async def stop() -> None:
            await running.stop()
            await node.server.stop(None)

        loop.run(stop())
        loop.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Chromium under Selenium (skips with the reason when it is missing)."""
    why = browser_missing()
    if why:
        if os.environ.get("HOTLINE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HOTLINE_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(f"no browser: {why}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--lang=zh-CN",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: Any, portal: Portal) -> Iterator[Any]:
    """The browser, its cookies cleared, pointed at the test's portal."""
    chromium.get(portal.url + "/")
    chromium.delete_all_cookies()
    yield chromium

"""The web front in front of a real county node: an enterprise user signs in and out.

The ODR servicers are not behind this node yet; what is real here is AccessService: the
enterprise user added by the county's security administrator signs in through the portal's
form with password and TOTP code, the page knows whose session it is, and signing out ends the
node's session (its access record says so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.helpers.databases import DbUrlFactory
from tests.helpers.signin import (
    STRONG_PASSWORD,
    HandMovedTime,
    code_at,
    make_admin,
    reasons,
)
from tests.helpers.world import World, spec
from tests.web.harness import LoopThread, fill, submit, text_of
from web.app import RunningWeb, make_app, start_web

pytestmark = pytest.mark.browser

ADMIN = "620102-90"
CREDIT = "91620102MA74A1B2C9"
USER_PASSWORD = "Gym-owner-2027-ok"


@pytest.fixture
def db_urls(tmp_path: Path) -> DbUrlFactory:
    """SQLite only: the front does not care where the node keeps its data."""
    counter = iter(range(1000))
    return lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"


def test_an_enterprise_user_signs_in_to_a_real_node_through_the_portal_and_out_again(
    world: World, chromium: Any
) -> None:
    time = HandMovedTime()
    county = world.start(spec("chengguan"), real_ms=time)
    admin = make_admin(county, ADMIN, at_ms=time.ms)
    with county.client() as client:
        client.sign_in(ADMIN, STRONG_PASSWORD, code_at(admin.totp_secret, time.ms))
        added = client.add_enterprise_user(
            CREDIT, "zhang", "张经理", USER_PASSWORD, enterprise_name="兰州某健身有限公司"
        )
    time.advance(seconds=31)
    loop = LoopThread()
    running: RunningWeb = loop.run(start_web(make_app(county.target, county.root)))
    try:
        chromium.get(running.url + "/enterprise/sign-in")
        chromium.delete_all_cookies()
        chromium.get(running.url + "/enterprise/sign-in")
        code = code_at(added.totp_secret, time.ms)
        values = {"credit_code": CREDIT, "user_id": "zhang", "password": USER_PASSWORD}
        fill(chromium, "enterprise-sign-in", {**values, "totp_code": code})
        submit(chromium, "enterprise-sign-in")

        assert chromium.current_url == running.url + "/enterprise/"
        assert text_of(chromium, ".who") == "兰州某健身有限公司"
        assert reasons(county)[-1] != "sign-out/done/"
        chromium.find_element(By.ID, "sign-out").click()
        assert "已退出登录" in text_of(chromium, ".flash")
        assert "sign-out/done/" in reasons(county)[-3:]
    finally:
        loop.run(running.stop())
        loop.close()


def test_a_wrong_code_at_a_real_node_shows_its_refusal_on_the_form(
    world: World, chromium: Any
) -> None:
    county = world.start(spec("chengguan"))
    loop = LoopThread()
    running: RunningWeb = loop.run(start_web(make_app(county.target, county.root)))
    try:
        chromium.get(running.url + "/enterprise/sign-in")
        chromium.delete_all_cookies()
        chromium.get(running.url + "/enterprise/sign-in")
        values = {"credit_code": CREDIT, "user_id": "nobody", "password": "x" * 12}
        fill(chromium, "enterprise-sign-in", {**values, "totp_code": "000000"})
        submit(chromium, "enterprise-sign-in")

        assert "登录信息有误" in text_of(chromium, "#alert")
        assert chromium.find_element(By.NAME, "user_id").get_attribute("value") == "nobody"
    finally:
        loop.run(running.stop())
        loop.close()

"""Screenshots of every portal page for docs/odr.md, taken in the browser tests' set-up.

``make screenshots`` (HOTLINE_SCREENSHOTS=docs/odr) writes them into docs/odr/; otherwise
they go to a temporary folder, and the test still checks each page was drawn.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.web.fake_node import ENTERPRISE_A, OFFICER, PASSWORD, TOTP
from tests.web.harness import Portal, fill, follow_ticket, sign_in_enterprise, sign_out, submit

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n"


def shoot(browser: Any, folder: Path, name: str) -> Path:
    """The whole page as ``folder/name.png``."""
    height = browser.execute_script("return document.documentElement.scrollHeight;")
    browser.set_window_size(1280, max(int(height), 600))
    path = folder / f"{name}.png"
    browser.find_element(By.TAG_NAME, "body").screenshot(str(path))
    browser.set_window_size(1280, 1000)
    return path


def test_every_portal_page_is_drawn_for_the_docs(
    browser: Any, portal: Portal, tmp_path: Path
) -> None:
    folder = Path(os.environ.get("HOTLINE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    ticket_id = next(d.ticket_id for d in portal.world.disputes.values() if not d.overdue)
    shots = []

    browser.get(portal.url + "/")
    shots.append(shoot(browser, folder, "home"))
    browser.get(portal.url + "/enterprise/sign-in")
    shots.append(shoot(browser, folder, "enterprise-sign-in"))
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    shots.append(shoot(browser, folder, "enterprise-disputes"))
    browser.get(f"{portal.url}/enterprise/disputes/{ticket_id}")
    fill(
        browser,
        "contact-form",
        {
            "method": "电话",
            "contacted_at": "2026-12-02T10:30",
            "result": "消费者同意退货，商定上门取件",
        },
    )
    submit(browser, "contact-form")
    fill(browser, "propose-form", {"terms": "", "amount_fen": "399"})
    submit(browser, "propose-form")
    shots.append(shoot(browser, folder, "enterprise-dispute-form-error"))
    fill(browser, "propose-form", {"terms": "全额退款399元，上门取回商品", "amount_fen": "399"})
    submit(browser, "propose-form")
    shots.append(shoot(browser, folder, "enterprise-dispute"))
    browser.get(portal.url + "/enterprise/performance")
    shots.append(shoot(browser, folder, "enterprise-performance"))
    other = next(
        d.ticket_id for d in portal.world.disputes.values() if d.credit_code != ENTERPRISE_A
    )
    browser.get(f"{portal.url}/enterprise/disputes/{other}")
    shots.append(shoot(browser, folder, "refused"))
    sign_out(browser)

    browser.get(portal.url + "/consumer/")
    shots.append(shoot(browser, folder, "consumer-home"))
    filing = {
        "consumer.name": "陈六",
        "consumer.phone": "13912345678",
        "respondent.name": "济南某某商场有限公司",
        "respondent.credit_code": ENTERPRISE_A,
        "category": "家用电器",
        "facts": "购买的吸尘器开机即冒烟",
        "request": "退货退款",
        "amount_fen": "1299",
        "odr_green_channel": "1",
    }
    fill(browser, "file-form", filing)
    submit(browser, "file-form")
    shots.append(shoot(browser, folder, "consumer-filed"))
    follow_ticket(browser, portal.url, ticket_id, portal.world.codes[ticket_id])
    shots.append(shoot(browser, folder, "consumer-ticket-proposal"))
    sign_out(browser)

    browser.get(portal.url + "/supervision/sign-in")
    fill(
        browser, "officer-sign-in", {"officer_id": OFFICER, "password": PASSWORD, "totp_code": TOTP}
    )
    submit(browser, "officer-sign-in")
    shots.append(shoot(browser, folder, "supervision"))

    assert len(shots) == 11
    for path in shots:
        data = path.read_bytes()
        assert data.startswith(PNG) and len(data) > 5000, path

"""The consumer's page in a real browser: file online, follow with id and code, answer, rate."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from proto.hotline.v1 import odr_pb2
from tests.web.fake_node import ENTERPRISE_A, ENTERPRISE_B, LOCK_AFTER, PASSWORD
from tests.web.harness import (
    Portal,
    field_error,
    fill,
    follow_ticket,
    sign_in_enterprise,
    sign_out,
    submit,
    text_of,
)

pytestmark = pytest.mark.browser

COMPLAINT = {
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


def file_complaint(browser: Any, portal: Portal, values: dict[str, str]) -> None:
    browser.get(portal.url + "/consumer/")
    fill(browser, "file-form", values)
    submit(browser, "file-form")


def test_the_consumer_files_online_follows_with_id_and_code_and_accepts_the_proposal(
    browser: Any, portal: Portal
) -> None:
    file_complaint(browser, portal, COMPLAINT)
    ticket_id, code = text_of(browser, "#ticket-id"), text_of(browser, "#ticket-code")
    assert portal.world.codes[ticket_id] == code
    assert portal.world.disputes[ticket_id].amount_fen == 129900

    follow_ticket(browser, portal.url, ticket_id, code)
    assert text_of(browser, "#odr-status") == "协商中"
    assert "北京时间(UTC+8)" in text_of(browser, "#due-at")
    assert not browser.find_elements(By.ID, "accept-form")
    sign_out(browser)

    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    browser.get(f"{portal.url}/enterprise/disputes/{ticket_id}")
    fill(browser, "propose-form", {"terms": "退货并全额退款", "amount_fen": "1299"})
    submit(browser, "propose-form")
    sign_out(browser)

    follow_ticket(browser, portal.url, ticket_id, code)
    assert "退货并全额退款（¥1299.00）" in text_of(browser, "#proposal")
    submit(browser, "accept-form")
    assert "您已接受和解方案" in text_of(browser, ".flash")
    assert text_of(browser, "#odr-status") == "已和解"
    assert portal.world.disputes[ticket_id].status == odr_pb2.DISPUTE_STATUS_SETTLED
    steps = text_of(browser, "#odr-history")  # where the node tells the ODR steps
    assert "提出和解方案（¥1299.00）：退货并全额退款" in steps
    assert "消费者答复（接受）" in steps
    assert "已登记（网站）" in text_of(browser, "#steps")

    fill(browser, "rate-form", {"rating": "满意"})
    submit(browser, "rate-form")
    assert "感谢您的评价" in text_of(browser, ".flash")
    assert not browser.find_elements(By.ID, "rate-form")


def test_a_rejection_without_a_reason_shows_the_message_beside_the_reason(
    browser: Any, portal: Portal
) -> None:
    ticket_id = next(d.ticket_id for d in portal.world.disputes.values() if not d.overdue)
    dispute = portal.world.disputes[ticket_id]
    dispute.status = odr_pb2.DISPUTE_STATUS_PROPOSED
    dispute.proposal_terms = "补偿50元"
    follow_ticket(browser, portal.url, ticket_id, portal.world.codes[ticket_id])

    submit(browser, "reject-form")
    assert "理由填写有误" in field_error(browser, "reason")
    assert dispute.status == odr_pb2.DISPUTE_STATUS_PROPOSED


def test_a_complaint_with_a_bad_phone_shows_the_message_beside_the_phone_and_keeps_the_form(
    browser: Any, portal: Portal
) -> None:
    before = len(portal.world.disputes)
    file_complaint(browser, portal, {**COMPLAINT, "consumer.phone": "12345"})

    assert "联系电话填写有误" in field_error(browser, "consumer.phone")
    assert "'12345'" in field_error(browser, "consumer.phone")
    form = browser.find_element(By.ID, "file-form")
    assert form.find_element(By.NAME, "facts").get_attribute("value") == COMPLAINT["facts"]
    assert form.find_element(By.NAME, "odr_green_channel").is_selected()
    assert len(portal.world.disputes) == before


def test_a_code_guessed_too_often_shows_the_lockout_message(browser: Any, portal: Portal) -> None:
    ticket_id = next(iter(portal.world.disputes))
    for _ in range(LOCK_AFTER - 1):
        follow_ticket(browser, portal.url, ticket_id, "WRONG000")
        assert "登录信息有误" in text_of(browser, "#alert")

    follow_ticket(browser, portal.url, ticket_id, "WRONG000")
    assert "错误次数过多，已暂时锁定" in text_of(browser, "#alert")
    assert "锁定" in text_of(browser, "#alert")
    form = browser.find_element(By.ID, "follow-form")
    assert form.find_element(By.NAME, "ticket_id").get_attribute("value") == ticket_id
    assert form.find_element(By.NAME, "code").get_attribute("value") == ""

    follow_ticket(browser, portal.url, ticket_id, portal.world.codes[ticket_id])
    assert "错误次数过多" in text_of(browser, "#alert")


def test_nothing_of_another_ticket_is_reachable_from_the_consumers_page(
    browser: Any, portal: Portal
) -> None:
    ours, theirs = (d.ticket_id for d in portal.world.disputes.values() if not d.overdue)
    follow_ticket(browser, portal.url, ours, portal.world.codes[ours])

    browser.get(f"{portal.url}/consumer/ticket?ticket_id={theirs}")
    assert text_of(browser, "h1") == f"我的投诉 {ours}"
    browser.get(f"{portal.url}/enterprise/disputes/{theirs}")
    assert browser.current_url.endswith("/enterprise/sign-in")
    assert portal.world.disputes[theirs].facts not in browser.page_source
    assert portal.world.disputes[theirs].credit_code in (ENTERPRISE_A, ENTERPRISE_B)

"""The enterprise portal in a real browser: sign in, the disputes list, the forms, refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from core.deadlines.china_time import CHINA_TZ
from proto.hotline.v1 import odr_pb2
from tests.web.fake_node import ENTERPRISE_A, ENTERPRISE_B, PASSWORD
from tests.web.harness import (
    Portal,
    field_error,
    fill,
    sign_in_enterprise,
    submit,
    text_of,
)

pytestmark = pytest.mark.browser


def disputes_of(portal: Portal, credit_code: str) -> list[odr_pb2.Dispute]:
    return [d for d in portal.world.disputes.values() if d.credit_code == credit_code]


def test_an_enterprise_user_signs_in_and_sees_its_open_disputes_with_the_time_left(
    browser: Any, portal: Portal
) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)

    rows = browser.find_elements(By.CSS_SELECTOR, "#disputes tbody tr")
    shown = {row.get_attribute("data-ticket"): row for row in rows}
    assert set(shown) == {d.ticket_id for d in disputes_of(portal, ENTERPRISE_A)}
    on_time, late = sorted(disputes_of(portal, ENTERPRISE_A), key=lambda d: d.overdue)
    assert "剩余5个工作日" in shown[on_time.ticket_id].text
    assert "已超期" in shown[late.ticket_id].text
    late_cell = shown[late.ticket_id].find_element(By.CSS_SELECTOR, ".time-left")
    assert late_cell.value_of_css_property("color") == "rgba(207, 34, 46, 1)"
    on_time_cell = shown[on_time.ticket_id].find_element(By.CSS_SELECTOR, ".time-left")
    assert on_time_cell.value_of_css_property("color") != "rgba(207, 34, 46, 1)"
    assert "北京时间(UTC+8)" in shown[on_time.ticket_id].text
    assert "济南另一家电器" not in browser.page_source


def test_a_wrong_password_keeps_the_user_on_the_sign_in_form_with_the_nodes_reason(
    browser: Any, portal: Portal
) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, "not-the-password")

    assert "登录信息有误" in text_of(browser, "#alert")
    assert "wrong user, password or code" in text_of(browser, "#alert")
    field = browser.find_element(By.NAME, "credit_code")
    assert field.get_attribute("value") == ENTERPRISE_A
    assert browser.find_element(By.NAME, "password").get_attribute("value") == ""


def test_the_enterprise_records_a_contact_and_proposes_a_settlement_through_the_forms(
    browser: Any, portal: Portal
) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    dispute = next(d for d in disputes_of(portal, ENTERPRISE_A) if not d.overdue)
    browser.find_element(By.LINK_TEXT, dispute.ticket_id).click()
    assert text_of(browser, "#consumer").startswith("张三 13800000001")

    fill(
        browser,
        "contact-form",
        {
            "method": "电话",
            "contacted_at": "2026-12-02T10:30",
            "result": "同意退货，待确认退款方式",
        },
    )
    submit(browser, "contact-form")
    assert "已记录协商情况" in text_of(browser, ".flash")
    assert "同意退货，待确认退款方式" in text_of(browser, "#history")
    assert "2026-12-02 10:30 北京时间(UTC+8)" in text_of(browser, "#history")

    fill(browser, "propose-form", {"terms": "全额退款并上门取回商品", "amount_fen": "399"})
    submit(browser, "propose-form")
    assert text_of(browser, "#status") == "待消费者确认"
    assert "全额退款并上门取回商品（¥399.00）" in text_of(browser, "#proposal")
    held = portal.world.disputes[dispute.ticket_id]
    assert (held.proposal_terms, held.proposal_amount_fen) == ("全额退款并上门取回商品", 39900)
    contact = held.history[1]
    assert contact.method == odr_pb2.CONTACT_METHOD_PHONE
    assert (
        contact.contacted_at.ToSeconds()
        == dt.datetime(2026, 12, 2, 10, 30, tzinfo=CHINA_TZ).timestamp()
    )


def test_a_form_with_bad_input_shows_the_fields_message_and_keeps_what_was_typed(
    browser: Any, portal: Portal
) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    dispute = next(d for d in disputes_of(portal, ENTERPRISE_A) if not d.overdue)
    browser.get(f"{portal.url}/enterprise/disputes/{dispute.ticket_id}")

    fill(browser, "propose-form", {"terms": "", "amount_fen": "88.50"})
    submit(browser, "propose-form")
    assert "和解方案填写有误" in field_error(browser, "terms")
    assert "required" in field_error(browser, "terms")
    form = browser.find_element(By.ID, "propose-form")
    assert form.find_element(By.NAME, "amount_fen").get_attribute("value") == "88.50"

    fill(browser, "contact-form", {"contacted_at": "2026-12-02T09:00", "result": "电话未接通"})
    submit(browser, "contact-form")
    assert "联系方式填写有误" in field_error(browser, "method")
    form = browser.find_element(By.ID, "contact-form")
    assert form.find_element(By.NAME, "result").get_attribute("value") == "电话未接通"
    assert form.find_element(By.NAME, "contacted_at").get_attribute("value") == "2026-12-02T09:00"
    assert len(portal.world.disputes[dispute.ticket_id].history) == 1  # nothing was written


def test_another_enterprises_dispute_by_url_gives_the_refusal_page_and_nothing_of_it(
    browser: Any, portal: Portal
) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    theirs = disputes_of(portal, ENTERPRISE_B)[0]

    browser.get(f"{portal.url}/enterprise/disputes/{theirs.ticket_id}")
    assert text_of(browser, "#refused") == "无权访问"
    assert theirs.facts not in browser.page_source
    assert theirs.consumer_phone not in browser.page_source
    assert f"refused:{ENTERPRISE_A}:{theirs.ticket_id}" in portal.world.calls

    browser.get(f"{portal.url}/enterprise/disputes/T000000000000000000")
    assert text_of(browser, "#refused") == "未找到该页面"


def test_a_form_posted_at_another_enterprises_dispute_is_refused_and_writes_nothing(
    browser: Any, portal: Portal
) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    ours = next(d for d in disputes_of(portal, ENTERPRISE_A) if not d.overdue)
    theirs = disputes_of(portal, ENTERPRISE_B)[0]
    browser.get(f"{portal.url}/enterprise/disputes/{ours.ticket_id}")
    browser.execute_script(
        "document.getElementById('propose-form').action = arguments[0];",
        f"/enterprise/disputes/{theirs.ticket_id}/propose",
    )
    fill(browser, "propose-form", {"terms": "退款", "amount_fen": "1"})
    submit(browser, "propose-form")

    assert text_of(browser, "#refused") == "无权访问"
    assert portal.world.disputes[theirs.ticket_id].proposal_terms == ""


def test_the_performance_page_shows_the_enterprises_own_figures(
    browser: Any, portal: Portal
) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    browser.find_element(By.LINK_TEXT, "考核情况").click()
    assert text_of(browser, "#verdict") == "良好"
    assert "收到纠纷 12" in text_of(browser, "#performance")
    assert "依据 answered in time 92%" in text_of(browser, "#performance")


def test_signing_out_ends_the_nodes_session(browser: Any, portal: Portal) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    assert len(portal.world.sessions) == 1
    browser.find_element(By.ID, "sign-out").click()
    assert "已退出登录" in text_of(browser, ".flash")
    assert portal.world.sessions == {}
    browser.get(portal.url + "/enterprise/")
    assert browser.current_url.endswith("/enterprise/sign-in")


def test_a_long_list_of_disputes_goes_on_to_a_next_page(browser: Any, portal: Portal) -> None:
    for _ in range(55):
        portal.world.add_dispute(ENTERPRISE_A, "济南某某商场有限公司", 3, category="食品")
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#disputes tbody tr")) == 50

    browser.find_element(By.ID, "next-page").click()
    text_of(browser, "#disputes")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#disputes tbody tr")) == 57 - 50
    assert not browser.find_elements(By.ID, "next-page")


def test_declining_closes_the_dispute_and_its_forms_are_gone(browser: Any, portal: Portal) -> None:
    sign_in_enterprise(browser, portal.url, ENTERPRISE_A, PASSWORD)
    dispute = next(d for d in disputes_of(portal, ENTERPRISE_A) if not d.overdue)
    browser.get(f"{portal.url}/enterprise/disputes/{dispute.ticket_id}")

    fill(
        browser, "close-form", {"reason": "企业不同意和解(转为正式投诉)", "note": "商品无质量问题"}
    )
    submit(browser, "close-form")
    assert text_of(browser, "#status") == "已转为投诉"
    assert not browser.find_elements(By.ID, "propose-form")
    assert portal.world.disputes[dispute.ticket_id].status == odr_pb2.DISPUTE_STATUS_CONVERTED

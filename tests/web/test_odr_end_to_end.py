"""The ODR green channel end to end: real nodes, the real web front, a real browser.

Issue 13's "done when". Two enterprises of Chengguan enrol through their county (EnrolmentService)
and the roster travels up. In headless Chromium, before the web front of Chengguan's node:

- a consumer files a complaint online against the gym and chooses the green channel; the gym's
  user signs in to the portal, sees only the gym's disputes, records a contact and proposes a
  settlement; the consumer opens the ticket with its id and code and accepts; after
  replication the ticket is closed as settled at the county, the city and the province;
- a second dispute gets no answer within the ODR limit on the drill clock: Chengguan's sweep
  turns it into a complaint, which reaches the competent county (Qilihe) with its ODR history,
  and the portal shows it as converted;
- the other enterprise asking for the gym's dispute, by URL and by a form aimed at it, gets the
  refusal page; nothing is written and the node's access record keeps each refusal.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from core.odr.dispute import ConversionReason, DisputeStatus
from core.ticket.state import TicketState, TicketStatus
from node.app.clock import Clock
from node.devnet.officers import now_ms
from node.devnet.samples import APPLIANCES, GYM, demo_tickets
from node.edge.client import NodeClient
from node.edge.front import front_key
from proto.hotline.v1 import enrolment_pb2 as pb
from proto.hotline.v1 import intake_pb2
from sync.codec import from_message, to_message
from tests.helpers.clock import HandMovedTime, china
from tests.helpers.databases import DbUrlFactory
from tests.helpers.signin import code_at, reasons
from tests.helpers.world import World, spec, sweep
from tests.web.harness import LoopThread, fill, follow_ticket, sign_out, submit, text_of
from web.app import make_app, start_web

pytestmark = pytest.mark.browser

PASSWORD = "Odr-portal-2027-ok"


@pytest.fixture
def db_urls(tmp_path: Path) -> DbUrlFactory:
    """SQLite: the channel's rules are tested on both databases in tests/node/test_odr_*."""
    counter = iter(range(1000))
    return lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"


@dataclass
class Channel:
    """Province, city, Chengguan and Qilihe on a drill clock; two enterprises of Chengguan on
    the roster; the web front of Chengguan's node at ``url``."""

    world: World
    time: HandMovedTime
    url: str
    secrets: dict[str, str]

    def state(self, name: str, ticket_id: str) -> TicketState:
        with self.world.officer(name) as officer:
            return from_message(TicketState, officer.get(ticket_id))

    def register_at_centre(self, respondent_region: str = "620102") -> str:
        """The centre registers a complaint against the gym; the consumer chose the channel."""
        command = dict(demo_tickets())["gym"]
        command = replace(command, respondent=replace(GYM, operating_region=respondent_region))
        ticket = to_message(command, intake_pb2.NewTicket)
        ticket.odr_green_channel = True
        with self.world.officer("province") as centre:
            return centre.register(uuid.uuid4().hex, ticket).ticket_id

    def sign_in(self, browser: Any, credit_code: str) -> None:
        """The enterprise's user signs in through the portal's form."""
        browser.get(self.url + "/enterprise/sign-in")
        code = code_at(self.secrets[credit_code], now_ms())
        fill(
            browser,
            "enterprise-sign-in",
            {
                "credit_code": credit_code,
                "user_id": "staff",
                "password": PASSWORD,
                "totp_code": code,
            },
        )
        submit(browser, "enterprise-sign-in")
        assert browser.current_url == self.url + "/enterprise/", browser.page_source[-800:]


def _enrol(world: World, credit_code: str, name: str) -> str:
    """Chengguan's handler registers the application, its head approves: the TOTP secret."""
    letter = hashlib.sha256(f"{name} 承诺书".encode()).hexdigest()
    with world.officer("chengguan", 0) as handler:
        submitted = handler.call(
            "EnrolmentService",
            "SubmitApplication",
            pb.SubmitApplicationRequest(
                request_id=f"odr-{credit_code}",
                credit_code=credit_code,
                name=name,
                kind=pb.APPLICANT_KIND_ENTERPRISE,
                licence_number="620102600" + credit_code[-6:],
                commitment_letter_sha256=letter,
                address="兰州市城关区",
                region="620102",
                contact_name="王经理",
                contact_phone="0931-8000000",
                fixed_premises=True,
                staff_count=2,
                online_computer=True,
                dedicated_phone=True,
                handling_rules=True,
            ),
        )
    with world.officer("chengguan", 1) as head:
        reviewed = head.call(
            "EnrolmentService",
            "ReviewApplication",
            pb.ReviewApplicationRequest(
                application_id=submitted.application_id,
                approve=True,
                first_user_id="staff",
                first_user_name="王经理",
                first_user_password=PASSWORD,
            ),
        )
    return str(reviewed.totp_secret)


@pytest.fixture
def channel(world: World, chromium: Any) -> Iterator[Channel]:
    time = HandMovedTime(china("2026-12-01", 10))  # a Tuesday
    for name in ("province", "city", "chengguan", "qilihe"):
        world.start(spec(name), clock=Clock(_real=time))
    secrets = {
        GYM.credit_code: _enrol(world, GYM.credit_code, GYM.name),
        APPLIANCES.credit_code: _enrol(world, APPLIANCES.credit_code, APPLIANCES.name),
    }
    world.sync("chengguan", "city", "qilihe")  # the roster up to the province and down again
    county = world["chengguan"]
    loop = LoopThread()
    key = front_key(world.settings["chengguan"].data_dir)  # visitors counted one by one
    running = loop.run(start_web(make_app(county.target, county.root, front_key=key)))
    chromium.get(running.url + "/")
    chromium.delete_all_cookies()
    try:
        yield Channel(world, time, running.url, secrets)
    finally:
        loop.run(running.stop())
        loop.close()


def _centre(world: World) -> NodeClient:
    return world.officer("province")


def test_a_dispute_filed_online_is_settled_in_the_portal_and_closed_at_every_level(
    channel: Channel, chromium: Any
) -> None:
    browser = chromium
    browser.get(channel.url + "/consumer/")
    fill(
        browser,
        "file-form",
        {
            "consumer.name": "陈六",
            "consumer.phone": "13912345678",
            "respondent.name": GYM.name,
            "respondent.credit_code": GYM.credit_code,
            "category": "健身服务",
            "facts": "健身房停业，预付卡余额2800元无法退还",
            "request": "退还余额",
            "amount_fen": "2800",
            "odr_green_channel": "1",
        },
    )
    submit(browser, "file-form")
    ticket_id, code = text_of(browser, "#ticket-id"), text_of(browser, "#ticket-code")
    other = channel.register_at_centre()  # a second dispute of the gym, from the phone
    channel.world.sync("city", "chengguan")
    channel.time.set(china("2026-12-01", 12))

    channel.sign_in(browser, GYM.credit_code)
    rows = browser.find_elements(By.CSS_SELECTOR, "#disputes tbody tr")
    assert {r.get_attribute("data-ticket") for r in rows} == {ticket_id, other}
    assert "北京时间(UTC+8)" in text_of(browser, "#disputes")
    browser.find_element(By.LINK_TEXT, ticket_id).click()
    assert text_of(browser, "#consumer").startswith("陈六 13912345678")  # open: in full
    fill(
        browser,
        "contact-form",
        {"method": "电话", "contacted_at": "2026-12-01T11:00", "result": "已电话联系，同意退款"},
    )
    submit(browser, "contact-form")
    assert "已电话联系，同意退款" in text_of(browser, "#history")
    fill(browser, "propose-form", {"terms": "退还预付卡余额", "amount_fen": "2800"})
    submit(browser, "propose-form")
    assert text_of(browser, "#status") == "待消费者确认"
    sign_out(browser)

    follow_ticket(browser, channel.url, ticket_id, code)
    assert text_of(browser, "#ticket-status") == "已登记"  # as the fake node says too
    assert "退还预付卡余额（¥2800.00）" in text_of(browser, "#proposal")
    submit(browser, "accept-form")
    assert text_of(browser, "#odr-status") == "已和解"
    # What the fake node's FollowTicket mimics (test_fake_node_answers_as_the_real_one.py):
    # the ticket's own steps, and the ODR steps in the dispute's history.
    assert "已登记（网站）" in text_of(browser, "#steps")
    odr_steps = text_of(browser, "#odr-history")
    assert "提出和解方案（¥2800.00）：退还预付卡余额" in odr_steps
    assert "消费者答复（接受）" in odr_steps
    sign_out(browser)

    channel.world.sync("chengguan", "city")
    for name in ("chengguan", "city", "province"):
        state = channel.state(name, ticket_id)
        assert state.status is TicketStatus.CLOSED, name
        assert state.dispute is not None and state.dispute.status is DisputeStatus.SETTLED, name


def test_an_unanswered_dispute_becomes_a_complaint_at_the_competent_county_with_its_history(
    channel: Channel, chromium: Any
) -> None:
    ticket_id = channel.register_at_centre(respondent_region="620103")  # it trades in Qilihe
    channel.world.sync("city", "chengguan")
    # Opened Tuesday 12-01: ten working days end with Tuesday 12-15 (24:00 China time).
    channel.time.set(china("2026-12-16", 1))
    assert sweep(channel.world["chengguan"]) == 1
    channel.world.sync("chengguan", "city", "qilihe")

    state = channel.state("qilihe", ticket_id)
    assert (state.holder_unit, state.status) == ("620103", TicketStatus.ROUTED)
    assert state.dispute is not None
    assert state.dispute.conversion is ConversionReason.NO_ANSWER_IN_TIME
    with channel.world.officer("qilihe") as officer:
        names = [e.event_type for e in officer.history(ticket_id).entries]
    assert names[:2] == ["TicketRegistered", "OdrDisputeOpened"]
    assert "OdrDisputeConverted" in names

    channel.sign_in(chromium, GYM.credit_code)
    chromium.get(f"{channel.url}/enterprise/disputes/{ticket_id}")
    assert text_of(chromium, "#status") == "已转为投诉"
    assert not chromium.find_elements(By.ID, "propose-form")


def test_another_enterprise_is_refused_the_gyms_dispute_by_url_and_by_form_and_it_is_recorded(
    channel: Channel, chromium: Any
) -> None:
    ticket_id = channel.register_at_centre()
    channel.world.sync("city", "chengguan")
    county = channel.world["chengguan"]
    before = len(reasons(county))
    facts = dict(demo_tickets())["gym"].facts

    channel.sign_in(chromium, APPLIANCES.credit_code)
    assert not chromium.find_elements(By.CSS_SELECTOR, f'#disputes tr[data-ticket="{ticket_id}"]')
    chromium.get(f"{channel.url}/enterprise/disputes/{ticket_id}")
    assert text_of(chromium, "#refused") == "无权访问"
    assert facts not in chromium.page_source

    chromium.get(channel.url + "/enterprise/performance")
    chromium.execute_script(
        "const f = document.createElement('form'); f.id = 'aimed'; f.method = 'post';"
        "f.action = arguments[0];"
        "for (const [k, v] of [['terms', '退款'], ['amount_fen', '1'],"
        " ['csrf', document.querySelector('input[name=csrf]').value]]) {"
        "  const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }"
        "const b = document.createElement('button'); b.type = 'submit'; f.appendChild(b);"
        "document.body.appendChild(f);",
        f"/enterprise/disputes/{ticket_id}/propose",
    )
    submit(chromium, "aimed")
    assert text_of(chromium, "#refused") == "无权访问"

    state = channel.state("chengguan", ticket_id)
    assert state.dispute is not None and state.dispute.status is DisputeStatus.NEGOTIATING
    refusals = [r for r in reasons(county)[before:] if "outside-jurisdiction" in r]
    assert len(refusals) >= 2, reasons(county)[before:]

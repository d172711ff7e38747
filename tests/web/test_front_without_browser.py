"""What the front promises without a browser: CSRF, cookie flags, headers, words and numbers."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from node.edge.client import CallError
from tests.web.fake_node import ENTERPRISE_A, PASSWORD, TOTP, USER
from tests.web.harness import Portal
from web.display import china_time, due_time, fen_of, parse_china_minute, yuan
from web.pages import SECURE_COOKIE, visitor_address
from web.refusals import refusal_of
from web.sessions import IDLE_SECONDS, VisitorBook


def fetch(
    url: str, data: dict[str, str] | None = None, cookie: str = ""
) -> tuple[int, dict[str, str], str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_a_post_without_the_sessions_csrf_token_is_refused_and_signs_nobody_in(
    portal: Portal,
) -> None:
    form = {"credit_code": ENTERPRISE_A, "user_id": USER, "password": PASSWORD, "totp_code": TOTP}
    _, headers, _ = fetch(portal.url + "/enterprise/sign-in")
    cookie = headers["Set-Cookie"].split(";")[0]

    refused, _, page = fetch(portal.url + "/enterprise/sign-in", form, cookie)
    assert refused == 403 and "表单已过期" in page
    wrong, _, _ = fetch(portal.url + "/enterprise/sign-in", {**form, "csrf": "guess"}, cookie)
    assert wrong == 403
    assert portal.world.sessions == {}


def test_the_session_cookie_is_http_only_and_same_site_strict_and_pages_load_only_their_own(
    portal: Portal,
) -> None:
    status, headers, page = fetch(portal.url + "/")
    assert status == 200 and "消费纠纷在线解决" in page
    cookie = headers["Set-Cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_a_signed_in_enterprise_user_keeps_no_node_token_in_the_browser(portal: Portal) -> None:
    _, headers, page = fetch(portal.url + "/enterprise/sign-in")
    cookie = headers["Set-Cookie"].split(";")[0]
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    form = {"credit_code": ENTERPRISE_A, "user_id": USER, "password": PASSWORD, "totp_code": TOTP}
    status, headers, _ = fetch(portal.url + "/enterprise/sign-in", {**form, "csrf": csrf}, cookie)

    assert status == 303 and headers["Location"] == "/enterprise/"
    (token,) = portal.world.sessions
    assert token not in headers["Set-Cookie"]
    assert headers["Set-Cookie"].split(";")[0] != cookie  # a new session on sign-in


@pytest.mark.parametrize(
    ("detail", "field", "message"),
    [
        ("terms: required", "terms", "和解方案填写有误：required"),
        ("consumer.phone: not a phone", "consumer.phone", "联系电话填写有误：not a phone"),
        ("no field here at all", "", "填写有误：no field here at all"),
    ],
)
def test_an_invalid_argument_is_placed_on_the_field_it_names_with_the_nodes_detail(
    detail: str, field: str, message: str
) -> None:
    refusal = refusal_of(CallError("INVALID_ARGUMENT", detail))
    assert (refusal.field, refusal.message) == (field, message)


def test_permission_denied_and_not_found_hide_the_ticket_and_nothing_else_does() -> None:
    hiding = {
        code
        for code in ("PERMISSION_DENIED", "NOT_FOUND", "FAILED_PRECONDITION", "INVALID_ARGUMENT")
        if refusal_of(CallError(code, "x")).hides_the_ticket
    }
    assert hiding == {"PERMISSION_DENIED", "NOT_FOUND"}


def test_times_read_in_china_time_with_the_zone_and_amounts_in_yuan() -> None:
    stamp = parse_china_minute("2026-12-03T18:00")
    assert stamp is not None and stamp.ToSeconds() == 1796292000
    assert china_time(stamp) == "2026-12-03 18:00 北京时间(UTC+8)"
    assert china_time(Timestamp()) == "—"
    assert parse_china_minute("tomorrow") is None
    assert (fen_of("120.5"), fen_of(""), fen_of("-3"), fen_of("1.234"), fen_of("abc")) == (
        12050,
        0,
        -300,
        None,
        None,
    )
    assert (yuan(12050), yuan(-5)) == ("¥120.50", "-¥0.05")


def test_a_visitor_idle_too_long_is_forgotten_and_a_busy_one_kept() -> None:
    now = [0.0]
    book = VisitorBook(clock=lambda: now[0])
    idle, busy = book.new(), book.new()
    for _ in range(3):
        now[0] += IDLE_SECONDS / 2
        assert book.find(busy.session_id) is busy
    assert book.find(idle.session_id) is None
    assert len(book) == 1


def test_a_limit_ending_with_a_day_reads_as_that_days_24_00() -> None:
    end_of_day = parse_china_minute("2026-12-10T00:00")
    afternoon = parse_china_minute("2026-12-09T15:30")
    assert end_of_day is not None and afternoon is not None
    assert due_time(end_of_day) == "2026-12-09 24:00 北京时间(UTC+8)"
    assert due_time(afternoon) == "2026-12-09 15:30 北京时间(UTC+8)"


def _request_to(secure: bool, headers: dict[str, str], remote: str = "127.0.0.1") -> Any:
    from aiohttp import web as aioweb
    from aiohttp.test_utils import make_mocked_request

    app = aioweb.Application()
    app[SECURE_COOKIE] = secure
    request = make_mocked_request("GET", "/consumer/", headers=headers, app=app)
    return request.clone(remote=remote)


def test_behind_the_tls_proxy_the_visitor_is_the_last_address_the_proxy_added() -> None:
    request = _request_to(True, {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
    assert visitor_address(request) == "203.0.113.7"


def test_without_a_proxy_a_forwarded_for_header_is_not_believed() -> None:
    request = _request_to(False, {"X-Forwarded-For": "203.0.113.7"})
    assert visitor_address(request) == "127.0.0.1"


def test_a_forwarded_for_header_from_a_caller_off_this_machine_is_not_believed() -> None:
    request = _request_to(True, {"X-Forwarded-For": "203.0.113.7"}, remote="198.51.100.4")
    assert visitor_address(request) == "198.51.100.4"

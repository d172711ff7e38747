"""The enterprise portal (企业ODR工作台): its disputes, one dispute and its forms, its figures.

Every page calls OdrService as the signed-in enterprise user; the node decides what the
enterprise may see (only its own disputes) and whether a step is allowed. A dispute the node
refuses or does not know gives the same refusal page, whatever the URL. A form the node refuses
is shown again with what was typed and the node's message next to the field it names.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.edge.client import CallError
from proto.hotline.v1 import odr_pb2
from web.display import fen_of, parse_china_minute
from web.pages import (
    ask,
    form_errors,
    node,
    refusal_page,
    render,
    see_other,
    session_ended,
    signed_in_as,
    visitor,
)
from web.refusals import Refusal, refusal_of

SIGN_IN = "/enterprise/sign-in"
PAGE_SIZE = 50
"""Disputes per page of the list (the node's default page)."""
FORM_FIELDS = {
    "contact": ("method", "contacted_at", "result"),
    "propose": ("terms", "amount_fen"),
    "close": ("reason", "note"),
}
"""Each form of the dispute page and the field paths it shows messages beside."""


def _refused(request: web.Request, error: CallError) -> web.Response | Refusal:
    """The page for a refusal that ends the visit (signed out, hidden dispute), else the
    refusal to show on the page."""
    refusal = refusal_of(error)
    if refusal.code == "UNAUTHENTICATED":
        return session_ended(request, SIGN_IN)
    if refusal.hides_the_ticket:
        return refusal_page(request, refusal)
    return refusal


@signed_in_as("enterprise", SIGN_IN)
async def dispute_list(request: web.Request) -> web.Response:
    """The enterprise's disputes, open ones first, with the time left (overdue in red)."""
    include_closed = request.query.get("closed") == "1"
    page_token = request.query.get("page", "")
    try:
        answer = await ask(
            request,
            node(request).odr.ListDisputes,
            odr_pb2.ListDisputesRequest(
                include_closed=include_closed, page_size=PAGE_SIZE, page_token=page_token
            ),
        )
    except CallError as error:
        shown = _refused(request, error)
        if isinstance(shown, web.Response):
            return shown
        return render(
            request,
            "disputes.html",
            disputes=[],
            include_closed=include_closed,
            next_page="",
            alert=shown.message,
        )
    return render(
        request,
        "disputes.html",
        disputes=list(answer.disputes),
        include_closed=include_closed,
        next_page=answer.next_page_token,
    )


async def _dispute_page(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    """The dispute page of the URL's ticket, with ``context`` (a form's errors and values)."""
    ticket_id = request.match_info["ticket_id"]
    try:
        dispute = await ask(
            request, node(request).odr.GetDispute, odr_pb2.GetDisputeRequest(ticket_id=ticket_id)
        )
    except CallError as error:
        shown = _refused(request, error)
        if isinstance(shown, web.Response):
            return shown
        return render(request, "refused.html", 503, refusal_status=503, alert=shown.message)
    context.setdefault("failed_form", "")
    return render(request, "dispute.html", status, dispute=dispute, **context)


@signed_in_as("enterprise", SIGN_IN)
async def dispute_page(request: web.Request) -> web.Response:
    """One dispute: facts, the consumer's contact as the node gives it, history, forms."""
    return await _dispute_page(request)


async def _submit(
    request: web.Request, form_name: str, message: Any, method: Any, form: dict[str, str], done: str
) -> web.Response:
    """Send one form's request; on success back to the dispute page, else the form again."""
    try:
        await ask(request, method, message)
    except CallError as error:
        shown = _refused(request, error)
        if isinstance(shown, web.Response):
            return shown
        errors, alert = form_errors(shown, FORM_FIELDS[form_name])
        return await _dispute_page(
            request, 400, errors=errors, alert=alert, form=form, failed_form=form_name
        )
    visitor(request).flash.append(done)
    return see_other(f"/enterprise/disputes/{request.match_info['ticket_id']}")


def _number(text: str) -> int:
    """A choice of a select box as its enum number (0, unset, when it is none)."""
    return int(text) if text.isdigit() else 0


def _form(posted: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in posted.items() if k != "csrf"}


@signed_in_as("enterprise", SIGN_IN)
async def record_contact(request: web.Request) -> web.Response:
    """The form 记录协商: when, how and with what result the enterprise reached the consumer."""
    form = _form(await request.post())
    message = odr_pb2.RecordContactRequest(
        ticket_id=request.match_info["ticket_id"],
        method=odr_pb2.ContactMethod.ValueType(_number(form.get("method", ""))),
        result=form.get("result", "").strip(),
    )
    contacted_at = parse_china_minute(form.get("contacted_at", ""))
    if contacted_at is not None:
        message.contacted_at.CopyFrom(contacted_at)
    link = node(request)
    return await _submit(
        request, "contact", message, link.odr.RecordContact, form, "已记录协商情况。"
    )


@signed_in_as("enterprise", SIGN_IN)
async def propose_settlement(request: web.Request) -> web.Response:
    """The form 提出和解方案: the terms and the amount offered (in yuan on the page)."""
    form = _form(await request.post())
    amount = fen_of(form.get("amount_fen", ""))
    if amount is None:
        refusal = Refusal(
            "INVALID_ARGUMENT",
            "填写有误",
            "amount_fen",
            "金额",
            "请填写以元为单位的金额，如 120.50",
        )
        return await _dispute_page(
            request, 400, errors={"amount_fen": refusal.message}, form=form, failed_form="propose"
        )
    message = odr_pb2.ProposeSettlementRequest(
        ticket_id=request.match_info["ticket_id"],
        terms=form.get("terms", "").strip(),
        amount_fen=amount,
    )
    link = node(request)
    return await _submit(
        request,
        "propose",
        message,
        link.odr.ProposeSettlement,
        form,
        "和解方案已提交，等待消费者确认。",
    )


@signed_in_as("enterprise", SIGN_IN)
async def close_dispute(request: web.Request) -> web.Response:
    """The form 关闭纠纷: declined (becomes a complaint at once) or withdrawn by the consumer."""
    form = _form(await request.post())
    reason = form.get("reason", "")
    message = odr_pb2.CloseDisputeRequest(
        ticket_id=request.match_info["ticket_id"],
        reason=odr_pb2.CloseReason.ValueType(_number(reason)),
        note=form.get("note", "").strip(),
    )
    link = node(request)
    return await _submit(request, "close", message, link.odr.CloseDispute, form, "纠纷已关闭。")


@signed_in_as("enterprise", SIGN_IN)
async def performance(request: web.Request) -> web.Response:
    """The enterprise's own figures for the last 90 days (GetPerformance)."""
    try:
        standing = await ask(
            request, node(request).odr.GetPerformance, odr_pb2.GetPerformanceRequest()
        )
    except CallError as error:
        shown = _refused(request, error)
        if isinstance(shown, web.Response):
            return shown
        return render(request, "performance.html", standing=None, alert=shown.message)
    return render(request, "performance.html", standing=standing)


def add_enterprise_routes(app: web.Application) -> None:
    """Register the enterprise portal's pages."""
    app.router.add_get("/enterprise/", dispute_list)
    app.router.add_get("/enterprise/performance", performance)
    app.router.add_get("/enterprise/disputes/{ticket_id}", dispute_page)
    app.router.add_post("/enterprise/disputes/{ticket_id}/contact", record_contact)
    app.router.add_post("/enterprise/disputes/{ticket_id}/propose", propose_settlement)
    app.router.add_post("/enterprise/disputes/{ticket_id}/close", close_dispute)

"""The consumer's page (消费者): file a complaint online, then follow that one ticket.

Filing (ConsumerService.FileComplaint) needs no sign-in and shows the ticket id and the
verification code once. Following needs the ticket's id and code (ConsumerSignIn); after that
every page is about the session's own ticket, which is never taken from the URL or a form, so
nothing of another ticket is reachable from here. Answering an ODR proposal and rating the
handling are forms the node accepts or refuses.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from node.edge.client import CallError
from proto.hotline.v1 import common_pb2, consumer_pb2
from web.display import fen_of
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
from web.refusals import refusal_of

HOME = "/consumer/"
FILE_FIELDS = (
    "consumer.name",
    "consumer.phone",
    "consumer.address",
    "respondent.name",
    "respondent.credit_code",
    "respondent.address",
    "category",
    "facts",
    "request",
    "amount_fen",
    "odr_green_channel",
)
ANSWER_FIELDS = ("accept", "reason")
RATE_FIELDS = ("rating", "comment")


def _form(posted: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in posted.items() if k != "csrf"}


async def consumer_home(request: web.Request) -> web.Response:
    """The consumer's page: the filing form and the form to follow a ticket."""
    return render(request, "consumer_home.html", request_id=secrets.token_hex(16))


async def file_complaint(request: web.Request) -> web.Response:
    """File a complaint online (the web channel); show the ticket id and code once."""
    form = _form(await request.post())
    amount = fen_of(form.get("amount_fen", ""))
    if amount is None:
        errors = {"amount_fen": "金额填写有误：请填写以元为单位的金额，如 120.50"}
        return render(
            request,
            "consumer_home.html",
            400,
            errors=errors,
            form={"file": form},
            request_id=form.get("request_id", ""),
        )
    message = consumer_pb2.FileComplaintRequest(
        request_id=form.get("request_id", ""),
        consumer=common_pb2.Consumer(
            name=form.get("consumer.name", "").strip(),
            phone=form.get("consumer.phone", "").strip(),
            address=form.get("consumer.address", "").strip(),
        ),
        respondent=common_pb2.Respondent(
            name=form.get("respondent.name", "").strip(),
            credit_code=form.get("respondent.credit_code", "").strip(),
            address=form.get("respondent.address", "").strip(),
        ),
        category=form.get("category", "").strip(),
        facts=form.get("facts", "").strip(),
        request=form.get("request", "").strip(),
        amount_fen=amount,
        odr_green_channel=form.get("odr_green_channel") == "1",
    )
    try:
        filed = await node(request).call(node(request).consumer.FileComplaint, message)
    except CallError as error:
        errors, alert = form_errors(refusal_of(error), FILE_FIELDS)
        return render(
            request,
            "consumer_home.html",
            400,
            errors=errors,
            alert=alert,
            form={"file": form},
            request_id=form.get("request_id", ""),
        )
    return render(request, "filed.html", filed=filed)


async def _ticket_page(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    """Where the session's ticket is, what was done, the deadline, and what may be done now."""
    who = visitor(request)
    try:
        progress = await ask(
            request,
            node(request).consumer.FollowTicket,
            consumer_pb2.FollowTicketRequest(ticket_id=who.ticket_id),
        )
    except CallError as error:
        refusal = refusal_of(error)
        if refusal.code == "UNAUTHENTICATED":
            return session_ended(request, HOME)
        if refusal.hides_the_ticket:
            return refusal_page(request, refusal)
        return render(request, "refused.html", 503, refusal_status=503, alert=refusal.message)
    context.setdefault("failed_form", "")
    return render(request, "ticket.html", status, progress=progress, **context)


@signed_in_as("consumer", HOME)
async def ticket_page(request: web.Request) -> web.Response:
    """The consumer's own ticket (the session's; never one named in the URL)."""
    return await _ticket_page(request)


async def _submit(
    request: web.Request,
    form_name: str,
    fields: tuple[str, ...],
    method: Any,
    message: Any,
    form: dict[str, str],
    done: str,
) -> web.Response:
    try:
        await ask(request, method, message)
    except CallError as error:
        refusal = refusal_of(error)
        if refusal.code == "UNAUTHENTICATED":
            return session_ended(request, HOME)
        if refusal.hides_the_ticket:
            return refusal_page(request, refusal)
        errors, alert = form_errors(refusal, fields)
        return await _ticket_page(
            request, 400, errors=errors, alert=alert, form=form, failed_form=form_name
        )
    visitor(request).flash.append(done)
    return see_other("/consumer/ticket")


@signed_in_as("consumer", HOME)
async def answer_proposal(request: web.Request) -> web.Response:
    """Accept or reject the enterprise's settlement proposal (AnswerProposal)."""
    form = _form(await request.post())
    accept = form.get("accept") == "1"
    message = consumer_pb2.AnswerProposalRequest(
        ticket_id=visitor(request).ticket_id, accept=accept, reason=form.get("reason", "").strip()
    )
    done = "您已接受和解方案。" if accept else "您已拒绝和解方案，纠纷将转为正式投诉。"
    method = node(request).consumer.AnswerProposal
    return await _submit(request, "answer", ANSWER_FIELDS, method, message, form, done)


@signed_in_as("consumer", HOME)
async def rate_handling(request: web.Request) -> web.Response:
    """Rate the handling once the ticket is closed (RateHandling)."""
    form = _form(await request.post())
    rating = form.get("rating", "")
    message = consumer_pb2.RateHandlingRequest(
        ticket_id=visitor(request).ticket_id,
        rating=common_pb2.Satisfaction.ValueType(int(rating) if rating.isdigit() else 0),
        comment=form.get("comment", "").strip(),
    )
    method = node(request).consumer.RateHandling
    return await _submit(request, "rate", RATE_FIELDS, method, message, form, "感谢您的评价。")


def add_consumer_routes(app: web.Application) -> None:
    """Register the consumer's pages."""
    app.router.add_get("/consumer/", consumer_home)
    app.router.add_post("/consumer/file", file_complaint)
    app.router.add_get("/consumer/ticket", ticket_page)
    app.router.add_post("/consumer/answer", answer_proposal)
    app.router.add_post("/consumer/rate", rate_handling)

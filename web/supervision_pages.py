"""The supervision view (ODR企业监督) for county officers: standings and the roster as tables.

An officer signed in (AccessService.SignIn) reads EnrolmentService.GetStandings (each enrolled
enterprise's figures and verdict for the last 90 days) and GetRoster (who is on the roster and
in what standing). What the officer may read is the node's to decide.
"""

from __future__ import annotations

from aiohttp import web

from node.edge.client import CallError
from proto.hotline.v1 import enrolment_pb2
from web.pages import ask, node, refusal_page, render, session_ended, signed_in_as
from web.refusals import refusal_of

SIGN_IN = "/supervision/sign-in"


@signed_in_as("officer", SIGN_IN)
async def supervision(request: web.Request) -> web.Response:
    """The county's ODR enterprises: their standing this period and the roster."""
    link = node(request)
    try:
        standings = await ask(
            request, link.enrolment.GetStandings, enrolment_pb2.GetStandingsRequest()
        )
        roster = await ask(
            request, link.enrolment.GetRoster, enrolment_pb2.GetRosterRequest(include_out=True)
        )
    except CallError as error:
        refusal = refusal_of(error)
        if refusal.code == "UNAUTHENTICATED":
            return session_ended(request, SIGN_IN)
        if refusal.hides_the_ticket:
            return refusal_page(request, refusal)
        return render(request, "refused.html", 503, refusal_status=503, alert=refusal.message)
    return render(request, "supervision.html", standings=list(standings.standings), roster=roster)


def add_supervision_routes(app: web.Application) -> None:
    """Register the supervision view."""
    app.router.add_get("/supervision/", supervision)

"""The ODR green channel's enrolment on the command line: ``hotline odr apply|review|
applications|roster|list|standings|thresholds|remove``.

A county's handler registers an enterprise's application (申请) with the conditions checked at
the counter; its unit head approves it, giving the enterprise's first user (their TOTP secret
is printed once), or refuses it with a reason (审核). Officers read the ODR roster (名录) their
node holds, put a unit on or off the abnormal-operations list or a blacklist, read standings,
and a unit head decides a proposed removal. The rules are the node's (``node.enrolment``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from typing import Any

from google.protobuf.message import Message

from core.deadlines.china_time import start_of_day_ms
from node.cli.access import NEW_PASSWORD_VARIABLE, _secret, _secret_flags, _show_new_credentials
from node.cli.catalogue import Audience, Catalogue, node_flags, required_flags
from node.cli.display import china_time_of
from node.cli.session_file import node_client
from proto.hotline.v1 import enrolment_pb2 as pb
from proto.hotline.v1 import odr_pb2, rules_pb2
from sync.rule_book_signing import odr_thresholds_from

KINDS = {
    "enterprise": pb.APPLICANT_KIND_ENTERPRISE,
    "mall-desk": pb.APPLICANT_KIND_MALL_DESK,
    "association": pb.APPLICANT_KIND_ASSOCIATION,
}
KIND_TERMS = {
    pb.APPLICANT_KIND_ENTERPRISE: "enterprise 企业",
    pb.APPLICANT_KIND_MALL_DESK: "mall desk 商场消费争议受理站",
    pb.APPLICANT_KIND_ASSOCIATION: "association 行业协会",
}
STATUS_TERMS = {
    pb.APPLICATION_STATUS_PENDING: "pending 待审核",
    pb.APPLICATION_STATUS_APPROVED: "approved 已通过",
    pb.APPLICATION_STATUS_REFUSED: "refused 未通过",
}
STATUSES = {
    "pending": pb.APPLICATION_STATUS_PENDING,
    "approved": pb.APPLICATION_STATUS_APPROVED,
    "refused": pb.APPLICATION_STATUS_REFUSED,
}
STANDING_TERMS = {
    pb.ROSTER_STANDING_ENROLLED: "enrolled 在册",
    pb.ROSTER_STANDING_WARNED: "warned 已警告",
    pb.ROSTER_STANDING_REMOVED: "removed 已移出",
    pb.ROSTER_STANDING_DISQUALIFIED: "disqualified 取消资格",
}
VERDICT_TERMS = {
    odr_pb2.STANDING_VERDICT_GOOD: "good 良好",
    odr_pb2.STANDING_VERDICT_WARNING: "warning 警告",
    odr_pb2.STANDING_VERDICT_REMOVAL_PROPOSED: "removal proposed 建议移出",
}
LISTINGS = {
    "abnormal": pb.LISTING_KIND_ABNORMAL_OPERATIONS,
    "blacklist": pb.LISTING_KIND_BLACKLIST,
}


def _call(args: argparse.Namespace, method: str, request: Message) -> Any:
    with node_client(args) as client:
        return client.call("EnrolmentService", method, request)


def _application_line(a: pb.OdrApplication) -> str:
    reviewed = (
        f"; reviewed by {a.reviewed_by} {china_time_of(a.reviewed_at)}" if a.reviewed_by else ""
    )
    why = f"; {a.reason}" if a.reason else ""
    return (
        f"{a.application_id} {a.credit_code} {a.name} ({KIND_TERMS.get(a.kind, '?')}): "
        f"{STATUS_TERMS.get(a.status, '?')}, submitted {china_time_of(a.submitted_at)}"
        f"{reviewed}{why}"
    )


def _entry_line(e: pb.RosterEntry) -> str:
    why = f"; {e.reason}" if e.reason else ""
    return (
        f"{e.credit_code} {e.name} ({KIND_TERMS.get(e.kind, '?')}) of {e.unit}: "
        f"{STANDING_TERMS.get(e.standing, '?')} since {china_time_of(e.since)}{why}"
    )


def _apply(args: argparse.Namespace) -> int:
    request = pb.SubmitApplicationRequest(
        request_id=args.request_id or f"cli-{uuid.uuid4().hex[:20]}",
        credit_code=args.credit_code,
        name=args.name,
        kind=KINDS[args.kind],
        licence_number=args.licence,
        commitment_letter_sha256=args.letter_sha256,
        address=args.address,
        region=args.region,
        contact_name=args.contact,
        contact_phone=args.phone,
        fixed_premises=args.fixed_premises,
        staff_count=args.staff,
        online_computer=args.online_computer,
        dedicated_phone=args.dedicated_phone,
        handling_rules=args.handling_rules,
    )
    print(_application_line(_call(args, "SubmitApplication", request)))
    return 0


def _review(args: argparse.Namespace) -> int:
    request = pb.ReviewApplicationRequest(
        application_id=args.application, approve=args.approve, reason=args.reason or ""
    )
    if args.approve:
        request.first_user_id = args.user_id or ""
        request.first_user_name = args.user_name or ""
        request.first_user_password = _secret(
            args.password_file, NEW_PASSWORD_VARIABLE, "First user's password", confirm=True
        )
    answer = _call(args, "ReviewApplication", request)
    print(_application_line(answer.application))
    if answer.totp_secret:
        who = f"{answer.application.credit_code}:{request.first_user_id}"
        _show_new_credentials(who, answer.totp_secret, answer.otpauth_uri, args.secret_out)
    return 0


def _applications(args: argparse.Namespace) -> int:
    status = STATUSES[args.status] if args.status else pb.APPLICATION_STATUS_UNSPECIFIED
    found = _call(args, "ListApplications", pb.ListApplicationsRequest(status=status))
    if not found.applications:
        print("no applications" + (f" {args.status}" if args.status else ""))
    for application in found.applications:
        print(_application_line(application))
    return 0


def _roster(args: argparse.Namespace) -> int:
    roster = _call(args, "GetRoster", pb.GetRosterRequest(include_out=args.all))
    print(f"ODR roster (名录) version {roster.version}: {len(roster.entries)} unit(s)")
    for entry in roster.entries:
        print("  " + _entry_line(entry))
    return 0


def _list(args: argparse.Namespace) -> int:
    request = pb.SetListingRequest(
        credit_code=args.credit_code,
        kind=LISTINGS[args.listing],
        listed=not args.off,
        note=args.note,
    )
    print(_entry_line(_call(args, "SetListing", request)))
    return 0


def _standings(args: argparse.Namespace) -> int:
    request = pb.GetStandingsRequest(credit_code=args.credit_code or "")
    if args.since:
        request.period_start.FromMilliseconds(_day_start(args.since))
    if args.until:
        request.period_end.FromMilliseconds(_day_start(args.until))
    method = "ReviewStandings" if args.review else "GetStandings"
    found = _call(args, method, request)
    if not found.standings:
        print("no unit " + ("left to judge for that period" if args.review else "on the roster"))
    for s in found.standings:
        print(
            f"{s.credit_code} {s.enterprise_name} ({china_time_of(s.period_start)} to "
            f"{china_time_of(s.period_end)}): received {s.received}, answered in time "
            f"{s.answered_in_time}, settled {s.settled}, accepted {s.accepted}, converted "
            f"{s.converted}: {VERDICT_TERMS.get(s.verdict, '?')}; {s.reason}"
        )
    if args.review and found.standings:
        print("  signed on the roster; it reaches every node at the next syncs")
    return 0


def _day_start(text: str) -> int:
    """The start of a day in China (``2026-12-01``) as epoch milliseconds."""
    return start_of_day_ms(dt.date.fromisoformat(text))


def _remove(args: argparse.Namespace) -> int:
    request = pb.DecideRemovalRequest(
        credit_code=args.credit_code, approve=not args.keep, note=args.note
    )
    print(_entry_line(_call(args, "DecideRemoval", request)))
    return 0


def _thresholds(args: argparse.Namespace) -> int:
    wanted = rules_pb2.OdrThresholds(
        answered_in_time_percent=args.answered_in_time,
        converted_percent=args.converted,
        removal_after_poor_periods=args.poor_periods,
        min_disputes=args.min_disputes,
    )
    with node_client(args) as client:
        view = client.amend_rules(rules_pb2.RuleAmendment(odr_thresholds=wanted))
    held = odr_thresholds_from(view.rule_book.odr_thresholds)
    print(
        f"rule book {view.rule_book.number} (规则): ODR supervision warns below "
        f"{held.answered_in_time_percent}% answered in time or above {held.converted_percent}% "
        f"converted, proposes removal after {held.removal_after_poor_periods} poor period(s) in "
        f"a row, judges periods of {held.min_disputes}+ dispute(s)"
    )
    return 0


def _credit_code(parser: argparse.ArgumentParser) -> None:
    required_flags(parser).add_argument(
        "--credit-code",
        dest="credit_code",
        required=True,
        metavar="CODE",
        help="the unit's unified social credit code (统一社会信用代码, 18 characters)",
    )


def add_odr_enrolment_commands(odr: Catalogue) -> None:
    """Register ``hotline odr apply|review|applications|roster|list|standings|thresholds|
    remove`` in the ``odr`` family."""
    apply = odr.command(
        Audience.HANDLERS,
        "apply",
        summary="register an enterprise's application to join the ODR channel (申请)",
        description="At the county the enterprise applies to. Each condition the rules set "
        "is a flag: a missing one is refused, naming it. A unit on the abnormal-operations "
        "list or a blacklist cannot apply.",
        examples=[
            "hotline odr apply --node 127.0.0.1:7300 --credit-code 91620102MA74A1B2C9 "
            "--name 兰州某健身有限公司 --licence 620102600123456 --letter-sha256 "
            + "0"
            * 64
            + " --address 张掖路1号 --region 620102 --contact 张经理 --phone 0931-8888888 "
            "--staff 2 --fixed-premises --online-computer --dedicated-phone --handling-rules"
        ],
        run=_apply,
    )
    node_flags(apply, officer=False)
    _credit_code(apply)
    need = required_flags(apply)
    need.add_argument("--name", required=True, help="the applicant's registered name")
    need.add_argument("--licence", required=True, help="its business licence number (营业执照)")
    need.add_argument(
        "--letter-sha256",
        dest="letter_sha256",
        required=True,
        metavar="HEX",
        help="SHA-256 of the signed commitment letter (承诺书)",
    )
    need.add_argument("--address", required=True, help="its premises")
    need.add_argument("--region", required=True, metavar="CODE", help="the county of the premises")
    need.add_argument("--contact", required=True, help="the contact person")
    need.add_argument("--phone", required=True, help="the contact phone")
    apply.add_argument(
        "--kind", choices=sorted(KINDS), default="enterprise", help="what kind of applicant"
    )
    apply.add_argument("--staff", type=int, default=0, help="staff handling disputes (>= 1)")
    for flag, what in (
        ("--fixed-premises", "it has fixed premises (固定经营场所)"),
        ("--online-computer", "it has a computer online (联网电脑)"),
        ("--dedicated-phone", "it has a dedicated phone (专用电话)"),
        ("--handling-rules", "it has written complaint-handling rules (处理制度)"),
    ):
        apply.add_argument(flag, action="store_true", help=what)
    apply.add_argument(
        "--request-id", dest="request_id", help="makes a retry safe (default: a fresh one)"
    )

    review = odr.command(
        Audience.HANDLERS,
        "review",
        summary="approve an application (with the first user) or refuse it with a reason (审核)",
        description="The county's unit head. Approving enrols the enterprise on this node, "
        "prints its first user's TOTP secret once, and signs its roster entry, which reaches "
        "every node at the next syncs.",
        examples=[
            "hotline odr review --node 127.0.0.1:7300 --application ODR-620102-0A1B2C3D4E "
            "--approve --user-id zhang --user-name 张经理",
            "hotline odr review --node 127.0.0.1:7300 --application ODR-620102-0A1B2C3D4E "
            "--reason 无专用电话",
        ],
        run=_review,
    )
    node_flags(review, officer=False)
    required_flags(review).add_argument(
        "--application", required=True, metavar="ID", help="the application"
    )
    review.add_argument("--approve", action="store_true", help="approve (else: refuse)")
    review.add_argument("--reason", help="why (required when refusing)")
    review.add_argument("--user-id", dest="user_id", help="approving: the first user's id")
    review.add_argument("--user-name", dest="user_name", help="approving: their full name")
    _secret_flags(review, new=True)

    applications = odr.command(
        Audience.HANDLERS,
        "applications",
        summary="the applications of this county, newest first",
        examples=["hotline odr applications --node 127.0.0.1:7300 --status pending"],
        run=_applications,
    )
    node_flags(applications, officer=False)
    applications.add_argument("--status", choices=sorted(STATUSES), help="only these")

    roster = odr.command(
        Audience.HANDLERS,
        "roster",
        summary="the ODR roster (名录) as this node holds it",
        examples=["hotline odr roster --node 127.0.0.1:7300 --all"],
        run=_roster,
    )
    node_flags(roster, officer=False)
    roster.add_argument(
        "--all", action="store_true", help="removed, disqualified and listed units too"
    )

    listing = odr.command(
        Audience.SUPERVISORS,
        "list",
        summary="put a unit on the abnormal-operations list or a blacklist, or take it off",
        description="A listed unit is disqualified (取消资格) on the roster everywhere at the "
        "next syncs, and cannot apply. Officers of its county or a unit above it.",
        examples=[
            "hotline odr list --node 127.0.0.1:7100 --credit-code 91620102MA74A1B2C9 "
            "--listing blacklist --note 严重违法失信"
        ],
        run=_list,
    )
    node_flags(listing, officer=False)
    _credit_code(listing)
    need = required_flags(listing)
    need.add_argument("--listing", required=True, choices=sorted(LISTINGS), help="which list")
    need.add_argument("--note", required=True, help="why (the decision's reference)")
    listing.add_argument("--off", action="store_true", help="take the unit off the list")

    standings = odr.command(
        Audience.SUPERVISORS,
        "standings",
        summary="each enrolled unit's figures and verdict for a period (ODR企业监督)",
        description="Reads only, unless --review: then the county's unit head or supervisor "
        "judges a closed period once per unit and signs what it finds on the roster (a "
        "warning, a removal proposal for `hotline odr remove`, or good standing again). The "
        "thresholds are the province's rule book's (docs/deadlines.md).",
        examples=[
            "hotline odr standings --node 127.0.0.1:7300",
            "hotline odr standings --node 127.0.0.1:7300 --since 2026-09-01 --until 2026-12-01 "
            "--review",
        ],
        run=_standings,
    )
    node_flags(standings, officer=False)
    standings.add_argument("--credit-code", dest="credit_code", help="one unit only")
    standings.add_argument(
        "--since", metavar="DATE", help="the period's first day in China (default: 90 days ago)"
    )
    standings.add_argument(
        "--until", metavar="DATE", help="the day after the period in China (default: now)"
    )
    standings.add_argument(
        "--review", action="store_true", help="judge the (closed) period and sign the verdicts"
    )

    thresholds = odr.command(
        Audience.SUPERVISORS,
        "thresholds",
        summary="set the province's thresholds of ODR supervision (a new rule book)",
        description="On the province node, by its unit head or supervisor; a flag left out "
        "(or 0) is its default: 80 % answered in time, 50 % converted, 2 poor periods, 1 "
        "dispute. The book reaches every node at the next syncs (docs/deadlines.md).",
        examples=[
            "hotline odr thresholds --node 127.0.0.1:7100 --answered-in-time 90 --poor-periods 3"
        ],
        run=_thresholds,
    )
    node_flags(thresholds, officer=False)
    for flag, dest, what in (
        (
            "--answered-in-time",
            "answered_in_time",
            "percent answered in time below which a period is poor",
        ),
        ("--converted", "converted", "percent converted to complaints above which it is poor"),
        ("--poor-periods", "poor_periods", "poor periods in a row that propose removal"),
        ("--min-disputes", "min_disputes", "disputes a period needs to be judged poor"),
    ):
        thresholds.add_argument(flag, dest=dest, type=int, default=0, metavar="N", help=what)

    remove = odr.command(
        Audience.HANDLERS,
        "remove",
        summary="decide a proposed removal (a unit head): remove, or keep the unit warned",
        examples=[
            "hotline odr remove --node 127.0.0.1:7300 --credit-code 91620102MA74A1B2C9 "
            "--note 连续两期未按时答复"
        ],
        run=_remove,
    )
    node_flags(remove, officer=False)
    _credit_code(remove)
    required_flags(remove).add_argument("--note", required=True, help="the decision's grounds")
    remove.add_argument("--keep", action="store_true", help="keep the unit (warned)")

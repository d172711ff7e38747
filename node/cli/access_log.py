"""``hotline access-log``: the audit administrator reads a node's access record (访问记录).

Rows stream from the node page by page (``AccessService.ReadAccessRecord``) and are printed as
they come, oldest first (``--newest-first`` for the last ones), times in China time; the
actions and outcomes have their Chinese terms beside them. The node records the read itself
before it shows a row; the read's own row is the head the output ends with, as ``SEQ:DIGEST``:
an auditor who keeps it can later check, with ``hotline audit --anchor``, that the record still
holds that row with that digest (nobody cut its tail or rewrote it). docs/security.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
from collections.abc import Iterator, Sequence

from core.access.record import AccessAction, AccessOutcome
from core.deadlines.china_time import CHINA_TZ
from core.errors import InvalidInput
from node.cli.catalogue import Audience, Catalogue, node_flags
from node.cli.display import china_time, iso_china, width
from node.cli.session_file import node_client
from node.cli.terms import choices_with_terms, term_of
from proto.hotline.v1 import access_pb2

COLUMNS = ("seq", "time (China)", "officer", "action", "outcome", "reason", "from", "detail")
MIN_WIDTHS = (5, 26, 13, 18, 12, 16, 22, 0)
"""Each column at least this wide, so that rows printed page by page line up."""


def china_moment(text: str, flag: str) -> int:
    """``2026-12-01``, ``2026-12-01T08:00`` (China time) or with a zone, as Unix ms."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            flag, f"{text!r} is not a date or time like 2026-12-01T08:00 (China time)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    ms = int(moment.timestamp() * 1000)
    if ms <= 0:
        raise InvalidInput(flag, f"{text!r} is before 1970")
    return ms


def request_of(args: argparse.Namespace) -> access_pb2.ReadAccessRecordRequest:
    """The read's request from the flags."""
    return access_pb2.ReadAccessRecordRequest(
        officer_id=args.of_officer or "",
        actions=args.action or [],
        outcome=args.outcome or "",
        since_ms=china_moment(args.since, "since") if args.since else 0,
        until_ms=china_moment(args.until, "until") if args.until else 0,
        text=args.text or "",
        limit=args.limit,
        newest_first=args.newest_first,
    )


def _cells(row: access_pb2.AccessRecordRow) -> list[str]:
    return [
        str(row.seq),
        china_time(row.at_ms),
        row.officer_id or "-",
        term_of(AccessAction, row.action),
        term_of(AccessOutcome, row.outcome),
        row.reason or "-",
        row.peer or "-",
        row.detail,
    ]


def line(cells: Sequence[str]) -> str:
    """One row of the listing, its columns padded by display width."""
    padded = [c + " " * max(0, w - width(c)) for c, w in zip(cells, MIN_WIDTHS, strict=True)]
    return "  ".join(padded).rstrip()


def _as_dict(row: access_pb2.AccessRecordRow) -> dict[str, object]:
    return {
        "seq": row.seq,
        "time": iso_china(row.at_ms),
        "at_ms": row.at_ms,
        "officer_id": row.officer_id,
        "action": row.action,
        "outcome": row.outcome,
        "reason": row.reason,
        "peer": row.peer,
        "session_id": row.session_id,
        "detail": row.detail,
        "digest": row.digest.hex(),
        "key_id": row.key_id,
    }


def _rows(
    pages: Iterator[access_pb2.AccessRecordPage],
) -> tuple[str, Iterator[access_pb2.AccessRecordRow]]:
    """The read's own row as ``SEQ:DIGEST`` and the rows of every page. The first page is
    waited for here, so that a refusal comes before anything is printed."""
    first = next(pages, None)
    if first is None:
        return "", iter(())
    head = f"{first.head_seq}:{first.head_digest.hex()}"
    return head, (row for page in itertools.chain([first], pages) for row in page.rows)


def run_access_log(args: argparse.Namespace) -> int:
    """Read the record, print the rows as they come and the anchor of the read."""
    if args.limit < 0:
        raise InvalidInput("limit", "must not be negative")
    request = request_of(args)
    count = 0
    with node_client(args) as client:
        head, rows = _rows(client.read_access_record(request))
        if args.json:
            print('{"rows": [', end="")
            for row in rows:
                item = json.dumps(_as_dict(row), ensure_ascii=False)
                print(("," if count else "") + "\n " + item, end="")
                count += 1
            print(f'\n], "count": {count}, "head": {json.dumps(head)}}}')
            return 0
        for row in rows:
            if count == 0:
                print(line(COLUMNS))
            print(line(_cells(row)))
            count += 1
    print(f"{count} row(s)" if count else "no rows match")
    if head:
        print(
            f"this read is row {head.split(':')[0]} of the record; keep its anchor to check "
            f"the record later (hotline audit --anchor): {head}"
        )
    return 0


def add_access_log_command(catalogue: Catalogue) -> None:
    """Register ``access-log``."""
    log = catalogue.command(
        Audience.AUDITORS,
        "access-log",
        summary="read a node's access record: sign-ins, refusals, lockouts, admin acts "
        "(audit administrator)",
        description="Only an audit administrator (审计管理员) of the node's unit may read it, "
        "signed in to the node. The read is itself recorded before any row is shown. Times are "
        "China time (+08:00); --since and --until take China time unless they carry a zone. "
        "The last line gives the read's own row as SEQ:DIGEST: keep it, and `hotline audit "
        "--anchor SEQ:DIGEST` later shows whether the record still holds it.",
        examples=[
            "hotline access-log --node 127.0.0.1:7300 --outcome refused --since 2026-12-01T08:00",
            "hotline access-log --node 127.0.0.1:7300 --officer 620102-07 --action sign-in "
            "--action lockout --newest-first --limit 20",
            "hotline access-log --node 127.0.0.1:7300 --text RegisterTicket --json",
        ],
        run=run_access_log,
    )
    # Signed in only (hotline login): --officer here filters, it does not name the reader.
    node_flags(log, officer=None)
    log.add_argument(
        "--officer",
        dest="of_officer",
        metavar="ID",
        help="only rows naming this officer (as named, or as claimed by a refused try)",
    )
    log.add_argument(
        "--action",
        action="append",
        choices=[a.value for a in AccessAction],
        metavar="ACTION",
        help=f"only these actions (repeat for several): {choices_with_terms(AccessAction)}",
    )
    log.add_argument(
        "--outcome",
        choices=[o.value for o in AccessOutcome],
        help=f"only this outcome: {choices_with_terms(AccessOutcome)}",
    )
    log.add_argument(
        "--since", metavar="TIME", help="from this time on, e.g. 2026-12-01T08:00 (China time)"
    )
    log.add_argument("--until", metavar="TIME", help="before this time (China time)")
    log.add_argument(
        "--text", metavar="WORDS", help="only rows whose detail, reason or address holds WORDS"
    )
    log.add_argument("--limit", type=int, default=0, metavar="N", help="at most N rows (0: all)")
    log.add_argument(
        "--newest-first",
        dest="newest_first",
        action="store_true",
        help="the newest rows first (with --limit: the last N)",
    )
    log.add_argument("--json", action="store_true", help="print JSON instead of text")

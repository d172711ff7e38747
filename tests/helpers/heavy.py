"""The heaviest registration the field limits allow, for tests of sizes and batches.

Every text at its limit (``core.limits``) in four-byte characters, every list full: what the
request sizes (``node.edge.limits``) and the replication batches (``sync.batch_limits``) must
carry.
"""

from __future__ import annotations

from core.limits import MAX_AMOUNT_FEN, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_TAGS, limit_of
from core.ticket import commands as c
from core.ticket.vocabulary import (
    Attachment,
    BusinessForm,
    Channel,
    Consumer,
    Respondent,
    SourceLine,
    TicketKind,
)
from node.devnet.samples import credit_code

WIDE = "𠀀"
"""Four bytes in UTF-8 (CJK Extension B): the heaviest character a limit counts as one."""


def wide(field: str, mark: str = "") -> str:
    """``field`` at its limit in four-byte characters, ending in ``mark``."""
    return WIDE * (limit_of(field) - len(mark)) + mark


def heaviest_registration(mark: str = "", region: str = "620102") -> c.RegisterTicket:
    """A complaint against a business of ``region`` with every text at its limit; ``mark`` ends
    its facts (so that two are not the same matter)."""
    return c.RegisterTicket(
        kind=TicketKind.COMPLAINT,
        channel=Channel.PHONE,
        source_line=SourceLine.LINE_12315,
        consumer=Consumer(
            wide("consumer.name"), "13893112345", wide("consumer.address"), "11010519491231002X"
        ),
        respondent=Respondent(
            name=wide("respondent.name"),
            credit_code=credit_code(region, 7),
            form=BusinessForm.PLATFORM_SHOP,
            address=wide("respondent.address"),
            operating_region=region,
            registered_region=region,
            platform_name=wide("respondent.platform_name"),
            platform_region=region,
            shop_name=wide("respondent.shop_name"),
        ),
        category=wide("category"),
        facts=wide("facts", mark),
        request=wide("request"),
        amount_fen=MAX_AMOUNT_FEN,
        incident_region=region,
        tags=tuple(wide("tags", f"{n:02d}") for n in range(MAX_TAGS)),
        attachments=tuple(
            Attachment(wide("attachments.name"), "ab" * 32, MAX_ATTACHMENT_BYTES)
            for _ in range(MAX_ATTACHMENTS)
        ),
    )

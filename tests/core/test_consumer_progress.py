"""What a consumer is told of their ticket (``core.ticket.consumer_progress``): the steps done
on their matter and the words written for them, never the officers' own business."""

from __future__ import annotations

from core.ticket import commands as c
from core.ticket.consumer_progress import consumer_steps
from core.ticket.vocabulary import Duty, Track
from tests.helpers import domain
from tests.helpers.domain import HANDLER, HEAD, HUB_SUPERVISOR, History


def told(h: History) -> list[tuple[str, str, str]]:
    return [(s.what, s.unit, s.text) for s in consumer_steps(h.state, h.events)]


def test_a_closed_complaint_tells_the_steps_and_the_approved_result_only() -> None:
    h = domain.result_submitted()
    # Awaiting the head's signature, the result is not the consumer's yet.
    assert [what for what, _, _ in told(h)] == [
        "TicketRegistered",
        "TicketRouted",
        "ComplaintAccepted",
        "MediationEnded",
    ]
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT, "同意办结"))
    assert told(h)[-1] == ("ResultApproved", "620102", "双方协商一致，商家退款")


def test_a_rejected_result_and_its_resubmission_tell_only_the_result_approved() -> None:
    h = domain.result_submitted()
    h.do(HEAD, c.RejectResult(Track.COMPLAINT, "退款凭证不全，补充后再报"))
    h.do(HANDLER, c.SubmitResult(Track.COMPLAINT, "商家已退款3000元，凭证附后"))
    h.do(HEAD, c.ApproveResult(Track.COMPLAINT))
    texts = " ".join(text for _, _, text in told(h))
    assert "凭证不全" not in texts and "ResultRejected" not in [w for w, _, _ in told(h)]
    assert told(h)[-1] == ("ResultApproved", "620102", "商家已退款3000元，凭证附后")


def test_notes_of_officers_and_internal_steps_are_not_told() -> None:
    h = domain.accepted()  # accepted with the note 要素齐全，予以受理
    h.do(HANDLER, c.RequestExtension(Duty.END_MEDIATION, 5, "需要检测鉴定"))
    h.do(
        HUB_SUPERVISOR,
        c.OrderSupervision(order_id="DB-1", to_unit="620102", days=3, instructions="从速办理"),
    )
    steps = told(h)
    assert [what for what, _, _ in steps] == [
        "TicketRegistered",
        "TicketRouted",
        "ComplaintAccepted",
    ]
    assert all(text == "" for _, _, text in steps)

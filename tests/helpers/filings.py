"""Complaints as a consumer files them online (ConsumerService.FileComplaint), for the tests of
the consumer's page and of the web front's visitors."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from node.devnet.samples import demo_tickets
from proto.hotline.v1 import common_pb2
from proto.hotline.v1 import consumer_pb2 as cp
from sync.codec import to_message


def gym_filing(request_id: str = "", **changed: Any) -> cp.FileComplaintRequest:
    """The demo's gym complaint as a consumer files it online (``changed``: fields replaced)."""
    gym = replace(dict(demo_tickets())["gym"], **changed)
    return cp.FileComplaintRequest(
        request_id=request_id or uuid.uuid4().hex,
        consumer=to_message(gym.consumer, common_pb2.Consumer),
        respondent=to_message(gym.respondent, common_pb2.Respondent),
        category=gym.category,
        facts=gym.facts,
        request=gym.request,
        amount_fen=gym.amount_fen,
    )

"""Who is calling: the acting officer a request names, read in one place at the edge.

Until officers sign in (issue 11) a caller names the acting officer in the
``x-hotline-officer`` metadata; the desks then judge the step on that officer's roles and
unit from the node's roster.
"""

from __future__ import annotations

from typing import Any

from grpc import aio

from core.errors import UnknownOfficer

OFFICER_METADATA = "x-hotline-officer"
"""Metadata key naming the acting officer's roster id."""

NODE_METADATA = "x-hotline-node"
"""Metadata key naming the calling node (replication)."""


def metadata_value(context: aio.ServicerContext[Any, Any], key: str) -> str:
    """The value of an invocation metadata key, or ''."""
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key:
            return value.decode() if isinstance(value, bytes) else value
    return ""


def acting_officer(context: aio.ServicerContext[Any, Any]) -> str:
    """The officer id the caller put in the metadata; ``UnknownOfficer`` when missing."""
    officer = metadata_value(context, OFFICER_METADATA)
    if not officer:
        raise UnknownOfficer(f"name the acting officer in the {OFFICER_METADATA!r} metadata")
    return officer

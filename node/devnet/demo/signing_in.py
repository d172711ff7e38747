"""The scene of ``hotline demo`` about who may act: nothing without signing in.

Every node of the demo was set up as an operator sets up a real one: its first security
administrator made on its machine (``hotline officers init-admin``), who signed in and gave each
officer a password and a TOTP secret. The scene shows a call without a session refused, an
officer of the command centre signing in with password and code, and that officer refused what
their role does not allow; each refusal is a row of the node's access record.
"""

from __future__ import annotations

import uuid

from node.cli.display import china_time
from node.devnet.processes import LocalNetwork
from node.devnet.samples import demo_tickets
from node.edge.client import CallError
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message

OPERATOR = "620000-01"


def say(text: str) -> None:
    """Print one line of the story at once."""
    print(text, flush=True)


def _refusal(call: object) -> str:
    """The status code a call was refused with ('' when it was not)."""
    try:
        call()  # type: ignore[operator]
    except CallError as exc:
        return exc.code
    return ""


def nobody_acts_without_signing_in(net: LocalNetwork) -> bool:
    """Show the door of the province's client port; True when it held."""
    province = net["province"]
    ticket = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
    with province.unsigned() as anyone:
        unsigned = _refusal(lambda: anyone.register(uuid.uuid4().hex, ticket))
    say(f"  a call to the province without signing in: refused, {unsigned or 'NOT REFUSED'}")
    with province.client(OPERATOR) as centre:  # password and TOTP code, over TLS
        session = centre.who_am_i()
        say(
            f"  {session.officer_id} {session.officer_name} signs in with password and TOTP "
            f"code: a session until {china_time(session.expires_ms)}"
        )
        beyond = _refusal(centre.sync_now)
    task = "a task of the system administrator, 系统管理员"
    say(f"  {OPERATOR} asks for a sync round ({task}): {beyond}")
    return unsigned == "UNAUTHENTICATED" and beyond == "PERMISSION_DENIED"

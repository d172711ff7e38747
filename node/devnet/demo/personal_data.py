"""The demo's personal-data scene (个人信息保护): masked everywhere, a look in full recorded
and seen at the province, a reporter's identity kept from a handler.

What a listing, a reveal and a refusal look like on real nodes (issue 12). Nothing of a filer
is printed in full: the demo's output is kept by people running it, and the one value revealed
is shown by its length only.
"""

from __future__ import annotations

from core.deadlines.china_time import china_datetime
from core.hlc import to_millis
from core.ticket.vocabulary import PersonalField
from node.devnet.demo.scenes import say
from node.devnet.processes import LocalNetwork
from node.edge.client import CallError
from sync.codec import enum_number

CG_HANDLER, QLH_HANDLER, QLH_HEAD = "620102-07", "620103-05", "620103-01"
OPERATOR = "620000-01"
PURPOSE = "回访前核实联系电话 (check the phone before the callback)"


def personal_data_is_guarded(net: LocalNetwork, gym: str, masks: str) -> bool:
    """The scene; True when every step behaved as it must."""
    with net.client("province", OPERATOR) as centre:
        listed = {t.ticket_id: t for t in centre.list_tickets()}
    row = listed[gym]
    shown = f"{row.consumer_name} {row.consumer_phone}"
    say(f"  the centre's listing shows {gym}'s filer masked: {shown}")
    masked = "*" in row.consumer_name and "****" in row.consumer_phone
    with net.client("chengguan", CG_HANDLER) as handler:
        revealed = handler.reveal(gym, enum_number(PersonalField.PHONE), PURPOSE)
    say(
        f'  a Chengguan handler asks for the phone in full, for "{PURPOSE}": shown to them '
        f"({len(revealed.value)} digits, not repeated here); the look is signed event "
        f"{revealed.event_id[:10]}"
    )
    net.settle()
    with net.client("province", OPERATOR) as centre:
        looks = list(centre.get(gym).reveals)
    for look in looks:
        moment = china_datetime(to_millis(look.revealed_hlc))
        when = f"{moment:%Y-%m-%d %H:%M:%S} {moment.isoformat()[-6:]}"
        say(
            f"  the province sees it: {look.officer_name} ({look.unit_code}) read the phone, "
            f'"{look.purpose}", {when}'
        )
    refused = False
    with net.client("qilihe", QLH_HANDLER) as handler:
        try:
            handler.reveal(masks, enum_number(PersonalField.NAME), "联系举报人补充材料")
        except CallError as exc:
            refused = exc.code == "PERMISSION_DENIED"
            say(
                f"  a Qilihe handler asks for the reporter's name of {masks}: refused "
                f"({exc.code}, 举报人信息保密)"
            )
    with net.client("qilihe", QLH_HEAD) as head:
        name = head.reveal(masks, enum_number(PersonalField.NAME), "负责人核实举报人身份")
    say(f"  Qilihe's head asks with a purpose: shown ({len(name.value)} characters), recorded")
    return masked and bool(looks) and refused and bool(name.value)

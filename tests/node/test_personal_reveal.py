"""Who sees what (issue 12, item 3): the filer masked everywhere, one field in full on request.

Lists and tickets show the filer masked (张*, 139****0001). An officer who needs a field in full
asks for it with a purpose (``IntakeService.RevealPersonalData``): the node records the look as
a signed event in the same transaction, which replicates up, so the province sees who looked at
what and why; the access record has the look too, never the value. A report's filer is shown
only to the head of the unit holding it (举报人信息保密); a look without a purpose, or by an officer
outside the ticket, is refused and records nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from sqlalchemy import insert

from core.access.record import AccessAction
from core.officers import Role
from core.ticket.vocabulary import Channel, PersonalField, TicketKind
from node.cli.main import main as hotline
from node.devnet.samples import GYM, demo_tickets
from node.edge.client import CallError, NodeClient
from node.storage.tables import officers
from proto.hotline.v1 import intake_pb2, ticket_pb2
from sync.codec import enum_number, to_message
from tests.helpers.signin import access_rows, gym_walk_in, reasons
from tests.helpers.tickets import register_and_route
from tests.helpers.world import World, spec

GYM_FILER = ("张伟", "13909310001")
"""The gym complaint's filer (``node.devnet.samples``)."""

PHONE = enum_number(PersonalField.PHONE)
NAME = enum_number(PersonalField.NAME)


def walk_in(client: NodeClient, ticket: intake_pb2.NewTicket) -> str:
    """Register ``ticket`` at the client's node; its id."""
    return client.register(uuid.uuid4().hex, ticket).ticket_id


def report_walk_in() -> intake_pb2.NewTicket:
    """A report (举报) about the Chengguan gym, handed in at the Chengguan bureau."""
    command = dict(demo_tickets())["masks"]
    command = replace(
        command, respondent=GYM, incident_region="620102", channel=Channel.VISIT, tags=()
    )
    assert command.kind is TicketKind.REPORT
    return to_message(command, intake_pb2.NewTicket)


def test_lists_and_tickets_show_the_filer_masked_never_in_clear(world: World) -> None:
    world.start_line()
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
        listed = [t for t in centre.list_tickets() if t.ticket_id == ticket_id]
        ticket = centre.get(ticket_id)
    assert [(t.consumer_name, t.consumer_phone) for t in listed] == [("张*", "139****0001")]
    assert ticket.personal_status == ticket_pb2.PERSONAL_DATA_STATUS_MASKED
    for answer in (str(listed), str(ticket)):
        for clear in GYM_FILER:
            assert clear not in answer


def test_a_handler_sees_the_phone_in_full_and_the_province_sees_the_look(
    world: World, personal_suite: str
) -> None:
    world.personal_suite = personal_suite  # in both cipher suites
    world.start_line()
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")  # the ticket and its sealed filer come down
    purpose = "调解需联系消费者核实情况"
    with world.officer("chengguan") as handler:  # 李强, handler of Chengguan
        revealed = handler.reveal(ticket_id, PHONE, purpose)
        after = handler.get(ticket_id)
    assert (revealed.ticket_id, revealed.value, revealed.field) == (ticket_id, GYM_FILER[1], PHONE)
    assert [r.event_id for r in after.reveals] == [revealed.event_id]
    assert GYM_FILER[1] not in str(after)  # the ticket itself stays masked
    world.sync("chengguan", "city")  # the look goes up
    with world.officer("province") as centre:
        seen = centre.get(ticket_id).reveals
    assert [(r.officer_id, r.officer_name, r.unit_code, r.field, r.purpose) for r in seen] == [
        ("620102-07", "李强", "620102", PHONE, purpose)
    ]


def test_the_look_is_in_the_access_record_with_the_ticket_and_field_never_the_value(
    world: World,
) -> None:
    node = world.start(spec("chengguan"))
    with world.officer("chengguan") as handler:
        ticket_id = walk_in(handler, gym_walk_in())
        revealed = handler.reveal(ticket_id, PHONE, "回访核实联系电话")
    looks = [e for e in access_rows(node) if e.action is AccessAction.PERSONAL_DATA]
    assert [(e.officer_id, e.outcome.value) for e in looks] == [("620102-07", "done")]
    assert ticket_id in looks[0].detail and "phone" in looks[0].detail
    assert revealed.event_id in looks[0].detail
    assert all(GYM_FILER[1] not in e.detail for e in access_rows(node))


def test_a_reporters_name_is_refused_to_a_handler_and_shown_to_the_head(world: World) -> None:
    node = world.start(spec("chengguan"))
    with world.officer("chengguan") as handler:
        ticket_id = walk_in(handler, report_walk_in())
        version = handler.get(ticket_id).version
        before = len(reasons(node))
        with pytest.raises(CallError) as refused:
            handler.reveal(ticket_id, NAME, "核查举报需联系举报人")
        assert refused.value.code == "PERMISSION_DENIED"
        assert "举报人信息保密" in refused.value.message
        assert handler.get(ticket_id).version == version
    assert reasons(node)[before:] == ["personal-data/refused/personal-data-withheld"]
    with world.officer("chengguan", 1) as head:  # 赵敏, head of Chengguan
        revealed = head.reveal(ticket_id, NAME, "核查举报需联系举报人")
    assert revealed.value == "刘晓阳"


def test_a_look_without_a_purpose_or_a_field_is_refused_and_records_nothing(world: World) -> None:
    node = world.start(spec("chengguan"))
    with world.officer("chengguan") as handler:
        ticket_id = walk_in(handler, gym_walk_in())
        version = handler.get(ticket_id).version
        before = len(reasons(node))
        cases = ((PHONE, "", "purpose"), (PHONE, "看看", "purpose"), (0, "回访核实", "field"))
        for field, purpose, named in cases:
            with pytest.raises(CallError) as refused:
                handler.reveal(ticket_id, field, purpose)
            assert refused.value.code == "INVALID_ARGUMENT"
            assert refused.value.message.startswith(named)
        after = handler.get(ticket_id)
    assert (after.version, list(after.reveals)) == (version, [])
    assert reasons(node)[before:] == []


def test_an_officer_of_another_county_is_refused(world: World) -> None:
    node = world.start(spec("chengguan"))
    with node.node.db.write() as conn:  # a Qilihe handler on Chengguan's roster (moved)
        conn.execute(
            insert(officers).values(
                officer_id="620103-88", name="周杰", unit_code="620103", roles=Role.HANDLER.value
            )
        )
    node.node.roster.reload()
    node.signins.give_credentials(["620103-88"])
    with world.officer("chengguan") as handler:
        ticket_id = walk_in(handler, gym_walk_in())
        version = handler.get(ticket_id).version
    with node.client("620103-88") as outsider, pytest.raises(CallError) as refused:
        outsider.reveal(ticket_id, PHONE, "调解需联系消费者")
    assert refused.value.code == "PERMISSION_DENIED"
    assert "620103 has no part" in refused.value.message
    with world.officer("chengguan") as handler:
        assert handler.get(ticket_id).version == version


def test_hotline_reveal_prints_the_value_and_the_record_and_show_lists_the_look(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    node = world.start(spec("chengguan"))
    with world.officer("chengguan") as handler:
        ticket_id = walk_in(handler, gym_walk_in())
    at_county = ["--node", node.target, "--officer", "620102-07"]
    capsys.readouterr()
    argv = ["reveal", ticket_id, *at_county, "--field", "phone", "--purpose", "调解需联系消费者"]
    assert hotline(world.signed_in(argv)) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"{ticket_id} phone 电话: {GYM_FILER[1]}"
    assert printed[1].startswith("已记录查看 (look recorded): event ")
    assert hotline(world.signed_in(["show", ticket_id, *at_county])) == 0
    shown = capsys.readouterr().out
    assert "filer (个人信息): 已脱敏 masked" in shown and "name 姓名: 张*" in shown
    looks = shown[shown.index("looks in full (查看记录):") :].splitlines()[1]
    assert "李强 (620102-07, 620102)  phone 电话  purpose (用途): 调解需联系消费者" in looks
    assert "+08:00" in looks
    assert GYM_FILER[1] not in shown

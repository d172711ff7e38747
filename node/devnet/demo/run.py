"""``hotline demo``: a five-level network on loopback, from a phone call to a signed result.

Six node processes (national, Gansu province, Lanzhou city, the Chengguan and Qilihe counties,
a station of Chengguan) run on SQLite in a temporary folder. The province command centre
registers and dispatches realistic tickets; Qilihe goes offline and keeps its place in line
while tickets are routed to it; Chengguan and its station handle theirs; Qilihe comes back,
catches up (with a progress display) and handles its own; a record edited on the station's
laptop is refused by its county and caught by ``hotline audit``; the centre calls consumers
back; an enterprise enrolled in the ODR green channel settles one dispute on its own and sees
another turn into a complaint, its web front serving the portal and the consumer's page. At
the end every level's copy of every ticket is compared: the demo exits 0 only if they
all agree.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
import uuid
from pathlib import Path

from core.errors import InvalidInput
from core.ticket.state import TicketState, TicketStatus
from core.ticket.vocabulary import (
    Finding,
    MediationOutcome,
    ReturnReason,
    Satisfaction,
    Track,
)
from node.devnet.demo.deadlines import show_queue, start_campaign
from node.devnet.demo.odr import odr_green_channel
from node.devnet.demo.personal_data import personal_data_is_guarded
from node.devnet.demo.scenes import (
    catch_up_with_progress,
    dispatch_while_offline,
    tampered_record_is_refused,
)
from node.devnet.demo.signing_in import nobody_acts_without_signing_in
from node.devnet.processes import LocalNetwork
from node.devnet.samples import GANSU_WORLD, demo_tickets
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2, ticket_pb2
from sync.codec import enum_number, from_message, to_message

OPERATOR, SUPERVISOR = "620000-01", "620000-02"
CG_HANDLER, CG_HEAD = "620102-07", "620102-01"
QLH_HANDLER, QLH_HEAD = "620103-05", "620103-01"
STATION_OFFICER = "620102001-03"
LEVELS = ("national", "province", "city", "chengguan", "qilihe", "station")


def say(text: str) -> None:
    """Print a line of the demo's story."""
    print(text, flush=True)


def _state(client: NodeClient, ticket_id: str) -> TicketState:
    return from_message(TicketState, client.get(ticket_id))


def _describe(state: TicketState) -> str:
    tracks = ", ".join(f"{t.track.value} {t.stage.value}" for t in state.tracks)
    return f"{state.status.value:11} at {state.holder_unit} ({tracks})"


def _register_and_route(net: LocalNetwork, labels: list[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    tickets = dict(demo_tickets())
    with net.client("province", OPERATOR) as centre:
        for label in labels:
            new = to_message(tickets[label], intake_pb2.NewTicket)
            response = centre.register(uuid.uuid4().hex, new)
            ids[label] = response.ticket_id
            reg = tickets[label]
            if label == "refund-policy":
                centre.step(
                    "AnswerInquiry",
                    cw.AnswerInquiryRequest(
                        ticket_id=response.ticket_id,
                        answer="可向发卡经营者所在地市场监管部门投诉，并保留合同与付款凭证。",
                    ),
                )
                say(f"  {response.ticket_id}  consultation answered on the phone: {reg.facts[:24]}")
                continue
            state = from_message(TicketState, response.ticket)
            how = "routed at once (campaign)"
            if state.status is TicketStatus.REGISTERED:
                routed = centre.step(
                    "RouteTicket", cw.RouteTicketRequest(ticket_id=response.ticket_id)
                )
                state, how = from_message(TicketState, routed.ticket), ""
            say(
                f"  {response.ticket_id}  {reg.kind.value:10} {reg.respondent.name:14} "
                f"-> {state.holder_unit}  {how}".rstrip()
            )
    return ids


def _relay_to_province_of_respondent(net: LocalNetwork, ticket_id: str) -> None:
    with net.client("national", "100000-01") as national:
        routed = national.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    say(
        f"  national relays {ticket_id} on to "
        f"{from_message(TicketState, routed.ticket).holder_unit} (Hunan's hub)"
    )


def _handle_at_chengguan(net: LocalNetwork, ids: dict[str, str]) -> None:
    with (
        net.client("chengguan", CG_HANDLER) as handler,
        net.client("station", STATION_OFFICER) as station,
    ):
        gym, fridge, expired = ids["gym"], ids["fridge"], ids["expired"]
        for ticket_id in (gym, fridge, expired):
            handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        handler.step(
            "AssignToStation",
            cw.AssignToStationRequest(
                ticket_id=gym, station_code="620102001", note="请张掖路所现场核查并调解"
            ),
        )
        say(f"  Chengguan accepted 3 complaints and assigned {gym} to station 620102001")
        net.settle()
        station.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=gym,
                outcome=enum_number(MediationOutcome.AGREEMENT),
                agreement="经营者分两期退还余额3000元",
                amount_recovered_fen=300000,
            ),
        )
        station.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=gym,
                track=enum_number(Track.COMPLAINT),
                summary="现场调解达成协议，经营者退还预付卡余额3000元。",
            ),
        )
        say(f"  station officer 马丽 mediated {gym} on site and signed the result")
        handler.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=fridge,
                outcome=enum_number(MediationOutcome.SETTLED),
                amount_recovered_fen=459900,
            ),
        )
        handler.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=fridge,
                track=enum_number(Track.COMPLAINT),
                summary="经协商，商家为消费者更换新冰箱。",
            ),
        )
        handler.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=expired,
                outcome=enum_number(MediationOutcome.SETTLED),
                amount_recovered_fen=5200,
            ),
        )
        handler.step(
            "VerifyReport",
            cw.VerifyReportRequest(
                ticket_id=expired,
                finding=enum_number(Finding.SUBSTANTIATED),
                evidence="现场查见过期牛奶12盒在售",
            ),
        )
        handler.step(
            "OpenCase", cw.OpenCaseRequest(ticket_id=expired, case_number="兰城市监立〔2026〕118号")
        )
        for track in (Track.COMPLAINT, Track.REPORT):
            handler.step(
                "SubmitResult",
                cw.SubmitResultRequest(
                    ticket_id=expired,
                    track=enum_number(track),
                    summary="已退款；销售过期食品已立案查处。",
                ),
            )
    net.settle()
    with net.client("chengguan", CG_HEAD) as head:
        for ticket_id, tracks in (
            (gym, (Track.COMPLAINT,)),
            (fridge, (Track.COMPLAINT,)),
            (expired, (Track.COMPLAINT, Track.REPORT)),
        ):
            for track in tracks:
                head.step(
                    "ApproveResult",
                    cw.ApproveResultRequest(ticket_id=ticket_id, track=enum_number(track)),
                )
    say("  unit head 赵敏 approved the three results (签字负责制); the tickets are closed")


def _handle_at_qilihe(net: LocalNetwork, ids: dict[str, str]) -> None:
    noodles, masks, school = ids["noodles"], ids["masks"], ids["school"]
    with net.client("qilihe", QLH_HANDLER) as handler:
        held = {t.ticket_id for t in handler.list_tickets()}
        say(
            f"  Qilihe holds {len(held & {noodles, masks, school})} of its 3 tickets after "
            f"catching up"
        )
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=noodles))
        handler.step(
            "EndMediation",
            cw.EndMediationRequest(
                ticket_id=noodles,
                outcome=enum_number(MediationOutcome.AGREEMENT),
                agreement="店家赔偿医药费860元并书面道歉",
                amount_recovered_fen=86000,
            ),
        )
        handler.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=noodles,
                track=enum_number(Track.COMPLAINT),
                summary="调解成功，赔偿医药费860元。",
            ),
        )
        handler.step(
            "VerifyReport",
            cw.VerifyReportRequest(
                ticket_id=masks,
                finding=enum_number(Finding.SUBSTANTIATED),
                evidence="进货单价4.2元，售价48元",
            ),
        )
        handler.step(
            "OpenCase", cw.OpenCaseRequest(ticket_id=masks, case_number="兰七市监立〔2026〕36号")
        )
        handler.step(
            "SubmitResult",
            cw.SubmitResultRequest(
                ticket_id=masks,
                track=enum_number(Track.REPORT),
                summary="哄抬价格属实，已立案查处。",
            ),
        )
        handler.step(
            "ReturnTicket",
            cw.ReturnTicketRequest(
                ticket_id=school,
                reason=enum_number(ReturnReason.ADDRESS_UNCLEAR),
                note="培训学校已迁至城关区经营",
            ),
        )  # MISSING_ELEMENTS
    with net.client("qilihe", QLH_HEAD) as head:
        head.step(
            "ApproveResult",
            cw.ApproveResultRequest(ticket_id=noodles, track=enum_number(Track.COMPLAINT)),
        )
        head.step(
            "ApproveResult",
            cw.ApproveResultRequest(ticket_id=masks, track=enum_number(Track.REPORT)),
        )
    say(f"  Qilihe handled {noodles} and {masks} and returned {school} (business moved)")


def _digest(ticket: ticket_pb2.Ticket) -> str:
    return hashlib.sha256(ticket.SerializeToString(deterministic=True)).hexdigest()[:10]


def _agreement_table(net: LocalNetwork, ids: dict[str, str]) -> bool:
    """Print every level's copy of every ticket; True when the copies are consistent.

    Consistent means: the copies of every node still responsible for the ticket are identical
    (same digest of the folded state), and a node that handed the ticket on (a county that
    returned it) holds only events the province holds too, up to the hand-over.
    """
    say("")
    say("Where each ticket stands, level by level (digest of the folded state):")
    consistent = True
    for label, ticket_id in ids.items():
        copies: dict[str, tuple[ticket_pb2.Ticket, set[str]]] = {}
        for name in LEVELS:
            with net.client(name, _reader(name)) as client:
                try:
                    ticket = client.get(ticket_id)
                except CallError:  # outside this node's jurisdiction
                    continue
                events = {e.event_id for e in client.history(ticket_id).entries}
            copies[name] = (ticket, events)
        reference, all_events = copies["province"]
        lines, ok = [], True
        for name, (ticket, events) in copies.items():
            state = from_message(TicketState, ticket)
            if _digest(ticket) == _digest(reference):
                verdict = "same"
            elif events < all_events:
                verdict = f"handed on: holds {len(events)} of {len(all_events)} events"
            else:
                verdict, ok = "DIFFERS", False
            lines.append(f"    {name:10} {_digest(ticket)}  {_describe(state)}  {verdict}")
        consistent &= ok
        say(f"{ticket_id} ({label}) {'✓ consistent at every level' if ok else '✗ INCONSISTENT'}")
        for line in lines:
            say(line)
    return consistent


def _reader(node: str) -> str:
    spec = next(s for s in GANSU_WORLD if s.name == node)
    return spec.officers[0].officer_id


def run_demo(*, keep: bool = False, keep_data: Path | None = None) -> int:
    """Run the whole story; 0 when every level agrees at the end.

    ``keep_data``: run in that folder (new or empty) and keep every node's data folder there
    for inspection (``hotline demo --keep-data DIR``); ``keep``: keep the temporary folder.
    """
    started = time.monotonic()
    if keep_data is not None:
        if keep_data.exists() and any(keep_data.iterdir()):
            raise InvalidInput("--keep-data", f"{keep_data} is not empty")
        keep_data.mkdir(parents=True, exist_ok=True)
        root, keep = keep_data.resolve(), True
    else:
        root = Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    say(f"hotline demo: a five-level 12315 network on loopback (data in {root})")
    with LocalNetwork(root, sync_interval=0.3) as net:
        net.start_world(GANSU_WORLD)
        for spec in GANSU_WORLD:
            say(
                f"  {spec.level.value:9} {spec.unit:9} {net[spec.name].target:16} "
                f"{spec.unit_name or spec.name}"
            )
        say("\n0. Officers sign in; nothing acts without a session (the access record keeps it):")
        door_held = nobody_acts_without_signing_in(net)
        say("\n1. The Gansu command centre registers calls and dispatches them by jurisdiction:")
        ids = _register_and_route(net, ["gym", "fridge", "expired", "sofa", "refund-policy"])
        net.settle()
        _relay_to_province_of_respondent(net, ids["sofa"])
        say("\n   The centre switches on an epidemic campaign (专项):")
        start_campaign(net)
        say("\n2. Qilihe county goes offline; the centre keeps dispatching to it:")
        net["qilihe"].stop()
        ids.update(_register_and_route(net, ["noodles", "masks", "school"]))
        sent = dispatch_while_offline(net, 150)
        say(f"  ... and {sent} routine calls more, some of them Qilihe's")
        net.settle()
        say("\n3. Chengguan and its station handle their tickets meanwhile:")
        _handle_at_chengguan(net, ids)
        say("\n   A record is tampered with on the station's laptop while the county is down:")
        untampered = tampered_record_is_refused(net)
        say("\n4. Qilihe comes back and catches up from the city:")
        catch_up_with_progress(net, "qilihe", "city")
        net.settle()
        show_queue(net, "qilihe", QLH_HANDLER, ids)
        _handle_at_qilihe(net, ids)
        net.settle()
        with net.client("province", OPERATOR) as centre:
            centre.step(
                "RouteTicket", cw.RouteTicketRequest(ticket_id=ids["school"], to_unit="620102")
            )
        say(f"  the centre re-dispatched {ids['school']} to Chengguan (dispatch #2)")
        say("\n5. The centre calls consumers back (回访):")
        net.settle()
        with net.client("province", SUPERVISOR) as centre:
            for label, rating in (
                ("gym", Satisfaction.VERY_SATISFIED),
                ("noodles", Satisfaction.SATISFIED),
                ("fridge", Satisfaction.DISSATISFIED),
            ):
                response = centre.step(
                    "RecordCallback",
                    cw.RecordCallbackRequest(
                        ticket_id=ids[label], satisfaction=enum_number(rating)
                    ),
                )
                say(
                    f"  {ids[label]} {rating.value:14} -> "
                    f"{from_message(TicketState, response.ticket).status.value}"
                )
        net.settle()
        say("\n6. Personal data (个人信息): masked everywhere, every look in full recorded:")
        guarded = personal_data_is_guarded(net, ids["gym"], ids["masks"])
        say("\n7. The ODR green channel (在线消费纠纷解决): an enterprise settles directly:")
        odr_ids, web_front = odr_green_channel(net, root)
        ids.update(odr_ids)
        net.settle()
        try:
            agree = _agreement_table(net, ids) and untampered and door_held and guarded
        finally:
            web_front.terminate()
            web_front.wait(10)
    elapsed = time.monotonic() - started
    if not keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    else:
        say(f"\nEvery node's data folder is kept in {root}.")
    verdict = "Every level is consistent" if agree else "LEVELS DISAGREE"
    say(f"\n{verdict}; the demo took {elapsed:.1f}s.")
    return 0 if agree else 1

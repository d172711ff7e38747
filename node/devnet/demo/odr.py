"""The scene of ``hotline demo`` about the ODR green channel (在线消费纠纷解决, docs/odr.md).

An appliance shop of Chengguan applies to its county and is enrolled; the signed roster
reaches the province. The web front starts next to Chengguan's node (the enterprise portal and
the consumer's page). The centre registers two complaints against the shop and each consumer
chooses the green channel: the disputes go straight to the shop, skipping dispatch. The shop's
user signs in and proposes a settlement on each; one consumer accepts (settled, closed at every
level), the other rejects (converted into a complaint at the competent county, its ODR history
kept in the ticket).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import uuid
from dataclasses import replace
from pathlib import Path

from core.access import totp
from core.ticket.state import TicketState
from node.devnet.officers import now_ms
from node.devnet.processes import LocalNetwork
from node.devnet.samples import APPLIANCES, demo_tickets
from node.edge.client import NodeClient
from node.edge.front import FRONT_KEY_FILE
from proto.hotline.v1 import consumer_pb2, intake_pb2, odr_pb2
from proto.hotline.v1 import enrolment_pb2 as pb
from sync.codec import from_message, to_message

OPERATOR = "620000-01"
CG_HANDLER, CG_HEAD = "620102-07", "620102-01"
STAFF, STAFF_PASSWORD = "staff", "Hengtong-odr-2026"


def say(text: str) -> None:
    """Print one line of the story at once."""
    print(text, flush=True)


def _enrol(net: LocalNetwork) -> str:
    """Chengguan enrols the appliance shop; the first user's TOTP secret."""
    letter = hashlib.sha256("甘肃恒通电器 ODR 承诺书".encode()).hexdigest()
    with net.client("chengguan", CG_HANDLER) as handler:
        application = handler.call(
            "EnrolmentService",
            "SubmitApplication",
            pb.SubmitApplicationRequest(
                request_id=uuid.uuid4().hex,
                credit_code=APPLIANCES.credit_code,
                name=APPLIANCES.name,
                kind=pb.APPLICANT_KIND_ENTERPRISE,
                licence_number="620102600303003",
                commitment_letter_sha256=letter,
                address=APPLIANCES.address,
                region="620102",
                contact_name="王经理",
                contact_phone="0931-8123456",
                fixed_premises=True,
                staff_count=3,
                online_computer=True,
                dedicated_phone=True,
                handling_rules=True,
            ),
        )
    with net.client("chengguan", CG_HEAD) as head:
        reviewed = head.call(
            "EnrolmentService",
            "ReviewApplication",
            pb.ReviewApplicationRequest(
                application_id=application.application_id,
                approve=True,
                first_user_id=STAFF,
                first_user_name="王经理",
                first_user_password=STAFF_PASSWORD,
            ),
        )
    say(
        f"  Chengguan enrolled {APPLIANCES.name} ({APPLIANCES.credit_code}) after review "
        f"(application {application.application_id}); its user {STAFF} got a TOTP secret"
    )
    return str(reviewed.totp_secret)


def start_web_front(net: LocalNetwork, root: Path) -> subprocess.Popen[str]:
    """``hotline serve-web`` next to Chengguan's node; prints where it serves."""
    root_pem = root / "root.pem"
    assert net.hierarchy is not None
    root_pem.write_bytes(net.hierarchy.root_pem())
    front = subprocess.Popen(
        [sys.executable, "-m", "node", "serve-web", "--node", net["chengguan"].target,
         "--root", str(root_pem), "--front-key", str(net["chengguan"].data_dir / FRONT_KEY_FILE),
         "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert front.stdout is not None
    line = front.stdout.readline().strip()
    # Keep reading what it prints, so that a full pipe never stalls the front.
    threading.Thread(target=front.stdout.read, daemon=True).start()
    address = line.rpartition(" serving on ")[2] or "(did not start)"
    say(f"  the web front serves Chengguan's pages on {address}")
    say(f"    enterprise portal {address}/enterprise/   consumer's page {address}/consumer/")
    return front


def _file(centre: NodeClient, label: str, facts: str) -> tuple[str, str]:
    """The centre registers a complaint against the shop on the green channel."""
    command = dict(demo_tickets())["fridge"]
    command = replace(command, respondent=APPLIANCES, facts=facts)
    ticket = to_message(command, intake_pb2.NewTicket)
    ticket.odr_green_channel = True
    registered = centre.register(uuid.uuid4().hex, ticket)
    holder = registered.ticket.holder_unit
    say(f"  {registered.ticket_id}  {label}: straight to the shop (held by {holder}), no dispatch")
    return registered.ticket_id, registered.consumer_code


def _negotiate(shop: NodeClient, ticket_id: str, terms: str, amount_fen: int) -> None:
    contacted = odr_pb2.RecordContactRequest(
        ticket_id=ticket_id,
        method=odr_pb2.CONTACT_METHOD_PHONE,
        result="已电话联系消费者，了解诉求",
    )
    contacted.contacted_at.FromMilliseconds(now_ms() - 60_000)
    shop.call("OdrService", "RecordContact", contacted)
    proposed = odr_pb2.ProposeSettlementRequest(
        ticket_id=ticket_id, terms=terms, amount_fen=amount_fen
    )
    dispute = shop.call("OdrService", "ProposeSettlement", proposed)
    say(
        f"  the shop recorded a call and proposed on {ticket_id}: {terms} "
        f"({odr_pb2.DisputeStatus.Name(dispute.status)}, 待消费者确认)"
    )


def _answer(net: LocalNetwork, ticket_id: str, code: str, accept: bool, reason: str = "") -> str:
    """The consumer signs in to the province with the ticket's code and answers."""
    with net["province"].unsigned() as consumer:
        consumer.consumer_sign_in(ticket_id, code)
        progress = consumer.call(
            "ConsumerService",
            "AnswerProposal",
            consumer_pb2.AnswerProposalRequest(ticket_id=ticket_id, accept=accept, reason=reason),
        )
    return odr_pb2.DisputeStatus.Name(progress.odr.status)


def odr_green_channel(
    net: LocalNetwork, root: Path
) -> tuple[dict[str, str], subprocess.Popen[str]]:
    """Play the scene; the two tickets by label, and the web front's process (stop it last)."""
    secret = _enrol(net)
    front = start_web_front(net, root)
    try:
        return _play(net, secret), front
    except BaseException:
        front.terminate()
        raise


def _play(net: LocalNetwork, secret: str) -> dict[str, str]:
    net.settle()
    with net.client("province", OPERATOR) as centre:
        settled, settled_code = _file(centre, "odr-settled", "新买的洗衣机脱水时剧烈震动，要求退货")
        converted, converted_code = _file(
            centre, "odr-converted", "空调安装后制冷差，商家拒绝上门检修"
        )
    net.settle()
    with net["chengguan"].unsigned() as shop:
        shop.enterprise_sign_in(
            APPLIANCES.credit_code,
            STAFF,
            STAFF_PASSWORD,
            totp.totp(totp.secret_bytes(secret), now_ms()),
        )
        listed = shop.call("OdrService", "ListDisputes", odr_pb2.ListDisputesRequest())
        say(
            f"  the shop's user signs in to Chengguan: {len(listed.disputes)} open disputes, "
            "only its own"
        )
        _negotiate(shop, settled, "退货并全额退款", 329_900)
        _negotiate(shop, converted, "免费上门检测一次", 0)
    net.settle()
    status = _answer(net, settled, settled_code, accept=True)
    say(f"  the consumer of {settled} accepts on their page: {status} (已和解)")
    status = _answer(net, converted, converted_code, accept=False, reason="要求更换新机")
    say(f"  the consumer of {converted} rejects: {status} (已转为投诉), now a formal complaint")
    net.settle()
    with net.client("chengguan", CG_HANDLER) as handler:
        ticket = from_message(TicketState, handler.get(converted))
        steps = [e.event_type for e in handler.history(converted).entries]
    odr_steps = [s for s in steps if s.startswith("Odr")]
    say(
        f"  {converted} is held by {ticket.holder_unit} ({ticket.status.value}), "
        f"its ODR history kept: {', '.join(odr_steps)}"
    )
    return {"odr-settled": settled, "odr-converted": converted}

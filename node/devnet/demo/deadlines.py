"""The deadline scenes of ``hotline demo``: a campaign at the province, a county's queue.

* The command centre switches on a campaign (专项, e.g. 新冠疫情): the province node signs a new
  rule book, and every node below takes it at its next replication round.
* Qilihe, offline while the campaign began, takes the rule book when it catches up; its queue
  then shows the campaign's ticket due in 3 working days and a routine one in 7.
"""

from __future__ import annotations

import datetime as dt

from node.devnet.processes import LocalNetwork
from proto.hotline.v1 import rules_pb2

SUPERVISOR = "620000-02"
CHINA = dt.timezone(dt.timedelta(hours=8))


def say(text: str) -> None:
    """Print one line of the story at once."""
    print(text, flush=True)


def start_campaign(net: LocalNetwork) -> None:
    """The centre's supervisor switches the epidemic campaign on at the province node."""
    campaign = rules_pb2.Campaign(
        campaign_id="covid", name="新冠疫情防控专项", tags=["新冠疫情"], keywords=["口罩"], days=3
    )
    with net.client("province", SUPERVISOR) as centre:
        view = centre.amend_rules(rules_pb2.RuleAmendment(start_campaign=campaign))
    say(
        f"  campaign 'covid' on (rule book no. {view.rule_book.number}, signed by the province "
        "node): tickets tagged 新冠疫情 or about 口罩 get 3 working days for every step"
    )


def show_queue(net: LocalNetwork, node: str, officer: str, labels: dict[str, str]) -> None:
    """The demo's labelled tickets in a unit's queue, as ``hotline queue`` shows them."""
    with net.client(node, officer) as client:
        book = client.rules().rule_book
        queue = client.queue()
    entries = (*queue.overdue, *queue.due_soon, *queue.later)
    say(f"  {node} judges by rule book no. {book.number}; {len(entries)} open duties, among them:")
    names = {ticket_id: label for label, ticket_id in labels.items()}
    for entry in (e for e in entries if e.ticket_id in names):
        due = dt.datetime.fromtimestamp(entry.due_ms / 1000 - 1, CHINA).date()
        say(
            f"    {names.get(entry.ticket_id, entry.ticket_id):8} {entry.duty:18} due {due} "
            f"({entry.working_days_left:+d} WD)"
        )

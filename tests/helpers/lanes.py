"""Lanes for the parallel run: real-process tests one at a time, everything else anywhere.

``make test`` runs the suite on several pytest-xdist workers. The tests that start real node
processes are the longest and the ones a busy machine hurts most: a drill's set-up must end
before its clock's anchor and its checks fall in windows of real seconds, the demo promises
to end within a minute, the kill storm restarts nodes thirty times. Run side by side they
starve each other (four at once on two cores made every drill overrun its set-up). So they
run in lanes, queues that one worker each works through one test at a time:

* ``escalation-drills``: the drills of reminders and escalation
  (``tests/e2e/test_deadline_drill.py``), the longest lane;
* ``rule-drills``: the drills of the province's rules (``test_deadline_drill_rules.py``) and
  of supervision from above (``test_supervision_drill.py``);
* ``node-processes``: the other end-to-end tests and the replication fault tests.

At most two drills run at once, each next to at most one other process test. The lanes are
handed out first, so they start at once; every other test is sent, one at a time, to whichever
worker is free (as xdist's ``load`` distribution does). xdist's own ``loadgroup`` would do
this from ``xdist_group`` marks, but with pytest 9.2 it silently stops grouping
(pytest-xdist issue 1386), so the lanes are chosen here from the test's path, which is all the
controller process sees of a test.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

ESCALATION_DRILLS = "escalation-drills"
RULE_DRILLS = "rule-drills"
NODE_PROCESSES = "node-processes"

LANE_OF_MODULE = {
    "tests/e2e/test_deadline_drill.py": ESCALATION_DRILLS,
    "tests/e2e/test_deadline_drill_rules.py": RULE_DRILLS,
    "tests/e2e/test_supervision_drill.py": RULE_DRILLS,
    "tests/faults/test_replication_faults.py": NODE_PROCESSES,
}
"""Modules whose tests share a lane; besides, every other module under ``tests/e2e/``."""


def lane_of(nodeid: str) -> str | None:
    """The lane of the test ``nodeid`` (``tests/e2e/test_demo.py::test_x``), or None."""
    module = nodeid.split("::", 1)[0]
    if module in LANE_OF_MODULE:
        return LANE_OF_MODULE[module]
    if module.startswith("tests/e2e/"):
        return NODE_PROCESSES
    return None


class LaneScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's scheduling by scope, where a scope is a lane or else a single test.

    ``LoadScopeScheduling`` hands out the scopes with the most tests first (the lanes) and
    gives a worker its next scope when it has two tests or fewer left to run.
    """

    def _split_scope(self, nodeid: str) -> str:
        return lane_of(nodeid) or nodeid

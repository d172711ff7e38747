"""Group complaints, emergencies and professional claimants: the rules that spot them.

DOMAIN.md §6 names three patterns a supervisor must see without reading every ticket:

* **group complaints** (群体投诉): many consumers against one business in a short time (a prepaid
  gym or a training school that closes) are linked into one incident and escalated to the city;
* **emergencies** (紧急事件): food poisoning, a safety hazard, a price surge in a crisis go to the
  province at once;
* **professional claimants** (职业索赔/职业举报): many tickets from one filer across businesses are
  flagged so the units answer them uniformly.

This package says *what* counts, with thresholds and word lists that are data (``IncidentRules``,
DOMAIN.md's policy tables), not code. It is pure: the node hands it rows of its signals view and
the time, and records the events it returns (``node.jobs.detection``; docs/incidents.md).

The modules: ``rules`` (the three rules and reading them from settings), ``keys`` (who is the
business, who is the filer), ``windows`` (the sliding window both counting rules share),
``groups``, ``emergencies`` and ``claimants`` (what each rule finds; ``groups`` says why an
incident id is what it is). The public surface is what ``__all__`` lists.
"""

from core.incidents.claimants import ClaimantFinding, Filing, find_claimants
from core.incidents.emergencies import emergency_destination, emergency_reasons
from core.incidents.groups import (
    Complaint,
    GroupFinding,
    find_groups,
    incident_id_for,
    resolve_keys,
)
from core.incidents.keys import (
    MATCHED_BY_ID,
    MATCHED_BY_PHONE,
    filer_label,
    name_key,
    normalise_name,
    respondent_key,
)
from core.incidents.rules import (
    DEFAULT_EMERGENCY_CATEGORIES,
    DEFAULT_EMERGENCY_KEYWORDS,
    ClaimantRule,
    EmergencyRule,
    GroupRule,
    IncidentRules,
)
from core.incidents.windows import DAY_MS, in_qualifying_windows

__all__ = [
    "DAY_MS",
    "DEFAULT_EMERGENCY_CATEGORIES",
    "DEFAULT_EMERGENCY_KEYWORDS",
    "MATCHED_BY_ID",
    "MATCHED_BY_PHONE",
    "ClaimantFinding",
    "ClaimantRule",
    "Complaint",
    "EmergencyRule",
    "Filing",
    "GroupFinding",
    "GroupRule",
    "IncidentRules",
    "emergency_destination",
    "emergency_reasons",
    "filer_label",
    "find_claimants",
    "find_groups",
    "in_qualifying_windows",
    "incident_id_for",
    "name_key",
    "normalise_name",
    "resolve_keys",
    "respondent_key",
]

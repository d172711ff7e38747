"""An offline audit of a node's signed log, for an inspector holding only the national root.

Every node keeps its log as signed envelopes, but a node's database is in the hands of the
people it records: an administrator can edit a row, delete an awkward event or slip in a
certificate. Nothing in the running node re-checks what it already stored, so this module
does, from the database alone plus the national root certificate brought by the inspector:

* every row's signature verifies over its envelope, with the event key certified for the
  signer's node and unit (the certificates and revocation lists are read from the database
  too, and count only if they lead back to the root);
* a counted event (empty ``verdict``) was signed while its signer's certificate was valid and
  not revoked; an event kept only as evidence is expected to fail that, and is only counted;
* the ``hash`` column is the SHA-256 of the envelope, and every indexed column says what the
  envelope says (an edited column is "tampered");
* every complete chain (an origin with an ``origin_heads`` row) holds sequences ``1..head``
  exactly once, each linking to the hash of the one before, ending on the head's hash; partial
  chains (origins seen through a parent's feed) are checked only where neighbours are held.

The log is streamed in chunks in ``pos`` order, so a log of millions of events is never loaded
at once; the chain pass then walks each origin in sequence order using the columns that the
first pass proved equal to the envelopes. Run it in one read transaction (a snapshot) when the
node is live; events appended after the audit started are left out.

The package: ``report`` (problem kinds, the report, a ticket's history, their text),
``checks`` (one row on its own), ``chains`` (the chain pass) and ``audits`` (the two audits,
and the trust store rebuilt from the database). What other packages may use is listed in
``__all__`` below.
"""

from __future__ import annotations

from sync.audit.audits import (
    DEFAULT_CHUNK,
    audit_log,
    audit_ticket,
    load_trust_store,
    ticket_history,
)
from sync.audit.checks import INDEXED_COLUMNS
from sync.audit.report import (
    CERTIFICATE,
    CHAIN,
    DEFAULT_MAX_PROBLEMS,
    GAP,
    HASH,
    KINDS,
    MISSING,
    SIGNATURE,
    TAMPERED,
    UNPARSEABLE,
    AuditProblem,
    AuditReport,
    HistoryEntry,
    erasure_of,
    format_history,
    format_report,
    history_to_dict,
    personal_data_line,
    personal_data_to_dict,
)

__all__ = [
    "CERTIFICATE",
    "CHAIN",
    "DEFAULT_CHUNK",
    "DEFAULT_MAX_PROBLEMS",
    "GAP",
    "HASH",
    "INDEXED_COLUMNS",
    "KINDS",
    "MISSING",
    "SIGNATURE",
    "TAMPERED",
    "UNPARSEABLE",
    "AuditProblem",
    "AuditReport",
    "HistoryEntry",
    "audit_log",
    "audit_ticket",
    "erasure_of",
    "format_history",
    "format_report",
    "history_to_dict",
    "load_trust_store",
    "personal_data_line",
    "personal_data_to_dict",
    "ticket_history",
]

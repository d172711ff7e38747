"""``hotline audit``'s check of the access record (访问记录核验): chain, signatures, head, anchors.

The record is read straight from the node's database ``chunk`` rows at a time, in ``seq``
order, every column as stored (a row edited by hand may hold an action no code knows). For
each row: it follows from the row before (``core.access.reading.ChainWalk``: its number, its
previous digest, its own digest of its content), and its signature of its digest verifies under
a key the inspector's root certifies for the node. The keys are the node's event keys, read
from the certificates its database keeps: every key the node ever had (``hotline pki rotate``
keeps the old certificate), so rows signed before a rotation still verify, and a key certified
for another node does not count. Then the head row must name the last row, and every anchor
the auditor kept (``SEQ:DIGEST``) must still be in the record with its digest: a tail cut
with the head set back, which leaves a whole chain, fails there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from core.access.reading import Anchor, ChainWalk, anchor_of, anchor_problems
from core.access.record import (
    ACCESS_CONTEXT,
    AccessAction,
    AccessEntry,
    AccessOutcome,
    ChainedEntry,
)
from node.access import record
from node.storage.tables import access_record
from sync.access_anchors import SignedHead
from sync.signatures import verify
from sync.trust import TrustStore

CHUNK = 2000
"""Rows read per query."""
MAX_PROBLEMS = 50
"""Problems listed at most (the count is kept whole)."""


@dataclass
class RecordAudit:
    """What the check of one node's access record found."""

    rows: int = 0
    last_seq: int = 0
    last_digest: bytes = b""
    node_ids: set[str] = field(default_factory=set)
    """The nodes whose certified keys signed the rows (one, for a sound record)."""
    keys: set[str] = field(default_factory=set)
    problems: list[tuple[int, str]] = field(default_factory=list)
    """(seq, what is wrong), in ``seq`` order; seq 0 for the record as a whole."""
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        """True when every row, the head and every anchor checked out."""
        return self.problem_count == 0

    def add(self, seq: int, what: str) -> None:
        """Note one problem."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((seq, what))

    @property
    def head_anchor(self) -> str:
        """``SEQ:DIGEST`` of the last row: what an auditor keeps to check the next time."""
        return anchor_of(self.last_seq, self.last_digest).text() if self.last_seq else ""

    @property
    def first_broken(self) -> int | None:
        """The ``seq`` of the first broken row, or None."""
        rows = [seq for seq, _ in self.problems if seq]
        return min(rows) if rows else None

    def lines(self) -> list[str]:
        """The findings as text."""
        signers = ", ".join(sorted(self.node_ids)) or "nobody"
        out = [
            f"access record (访问记录): {self.rows} rows, signed by node {signers} with "
            f"{len(self.keys)} key(s)"
        ]
        if self.ok:
            out.append("OK: every row follows from the one before and its signature verifies.")
        else:
            first = self.first_broken
            if first is not None:
                out.append(f"FIRST BROKEN ROW: {first}")
            out.extend(
                f"  row {seq}: {what}" if seq else f"  record: {what}"
                for seq, what in self.problems
            )
            if self.problem_count > len(self.problems):
                out.append(f"  ... and {self.problem_count - len(self.problems)} more")
            out.append(f"FAILED: {self.problem_count} problem(s) in the access record")
        if self.last_seq:
            out.append(
                f"access record head (keep it; check it later with --anchor): {self.head_anchor}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The findings for ``--json``."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head": self.head_anchor,
            "signed_by": sorted(self.node_ids),
            "keys": sorted(self.keys),
            "first_broken_row": self.first_broken,
            "problem_count": self.problem_count,
            "problems": [{"seq": seq, "what": what} for seq, what in self.problems],
        }


def _entry(row: Any) -> AccessEntry | str:
    """The row's entry, or why its columns cannot be one."""
    try:
        action, outcome = AccessAction(row.action), AccessOutcome(row.outcome)
    except ValueError:
        return f"action {row.action!r} or outcome {row.outcome!r} is not one the node writes"
    return AccessEntry(
        seq=int(row.seq),
        at_ms=int(row.at_ms),
        officer_id=row.officer_id,
        action=action,
        outcome=outcome,
        reason=row.reason,
        peer=row.peer,
        session_id=row.session_id,
        detail=row.detail,
    )


def signer_of(conn: Connection, trust: TrustStore) -> str:
    """The node whose certified key signed the record's last row ('' when none does)."""
    rows = conn.execute(
        select(access_record.c.key_id).order_by(access_record.c.seq.desc()).limit(1)
    ).all()
    if not rows:
        return ""
    certified = trust.certificates_for([rows[0].key_id])
    return certified[0].node_id if certified else ""


def anchor_from_parent(head: SignedHead, node_id: str, trust: TrustStore) -> Anchor | str:
    """The anchor a parent kept for ``node_id``, or why it cannot be used (its signature does
    not verify under a key certified for the node)."""
    keys = [c for c in trust.certificates_for([head.key_id]) if c.node_id == node_id]
    if not any(head.signed_by(c.event_public_key) for c in keys):
        return f"the parent's anchor of {node_id} (row {head.seq}) is not signed by the node"
    return anchor_of(head.seq, head.digest)


def audit_record(
    conn: Connection, trust: TrustStore, anchors: list[Anchor], *, chunk: int = CHUNK
) -> RecordAudit:
    """Check the whole access record of the node whose database ``conn`` reads."""
    found = RecordAudit()
    walk = ChainWalk()
    anchored = {a.seq for a in anchors}
    seen: dict[int, bytes] = {}
    keys: dict[str, list[tuple[str, bytes]]] = {}
    after = 0
    while True:
        rows = record.raw_rows(conn, after_seq=after, limit=chunk)
        for row in rows:
            seq, digest = int(row.seq), bytes(row.digest)
            entry = _entry(row)
            if isinstance(entry, str):
                found.add(seq, entry + ": a column of the row was edited")
                # Walk on with a stand-in, so later rows are still judged against this one.
                walk.previous, walk.expected_seq = digest, seq + 1
                walk.rows += 1
            else:
                why = walk.step(ChainedEntry(entry, bytes(row.previous), digest))
                if why is not None:
                    found.add(seq, why)
            _check_signature(found, trust, keys, seq, row)
            if seq in anchored:
                seen[seq] = digest
            found.last_seq, found.last_digest = seq, digest
        found.rows += len(rows)
        if len(rows) < chunk:
            break
        after = int(rows[-1].seq)
    head_seq, head_digest = record.head(conn)
    if (head_seq, head_digest) != (found.last_seq, found.last_digest or bytes(32)):
        found.add(
            0,
            f"the head row names row {head_seq} ({head_digest.hex()[:16]}…), but the record "
            f"ends at row {found.last_seq}",
        )
    if len(found.node_ids) > 1:
        found.add(0, f"rows signed by keys of several nodes: {', '.join(sorted(found.node_ids))}")
    for problem in anchor_problems(anchors, seen, found.last_seq):
        found.add(0, problem)
    found.problems.sort(key=lambda p: (p[0] == 0, p[0]))
    return found


def _check_signature(
    found: RecordAudit,
    trust: TrustStore,
    keys: dict[str, list[tuple[str, bytes]]],
    seq: int,
    row: Any,
) -> None:
    """Note a row whose signature does not verify under a key certified for the node."""
    key_id = str(row.key_id)
    if key_id not in keys:
        keys[key_id] = [(c.node_id, c.event_public_key) for c in trust.certificates_for([key_id])]
    certified = keys[key_id]
    if not certified:
        found.add(seq, f"signed by key {key_id[:16]}…, which no certificate from the root names")
        return
    message = ACCESS_CONTEXT + bytes(row.digest)
    signers = [node for node, public in certified if verify(public, bytes(row.signature), message)]
    if not signers:
        found.add(seq, f"its signature does not verify under key {key_id[:16]}… of the node")
        return
    found.keys.add(key_id)
    found.node_ids.update(signers)

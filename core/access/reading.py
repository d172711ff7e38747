"""Reading and checking the access record (访问记录查阅与核验): filters, anchors, chain breaks.

The audit administrator reads the record through ``AccessService.ReadAccessRecord``
(``hotline access-log``) with an ``AccessFilter``; an inspector checks it with ``hotline audit``,
which walks the chain row by row (``ChainWalk``) and compares it with the anchors the auditor
kept (``Anchor``): the ``seq:digest`` of a row seen earlier, which a record cut short at its
tail, or rewritten with the node's key, no longer holds. Pure: rows and times are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.access.record import GENESIS, AccessAction, AccessOutcome, ChainedEntry, digest_of
from core.errors import InvalidInput

MAX_OFFICER_ID = 64
"""Longest officer id a filter takes (the record's column width: claimed ids are kept too)."""
MAX_TEXT = 100
"""Longest substring a filter looks for."""
MAX_LIMIT = 100_000
"""Most rows one read answers; a longer look reads on from the last ``seq`` it saw."""
MIN_ANCHOR_HEX = 16
"""Shortest digest prefix an anchor may give (64 bits: no row matches one by chance)."""


@dataclass(frozen=True)
class AccessFilter:
    """Which rows of the access record a reader wants; every criterion given must hold."""

    officer_id: str = ""
    """Exactly this officer (as named, or as claimed by a refused try); '' for any."""
    actions: frozenset[AccessAction] = frozenset()
    """Any of these actions; empty for any."""
    outcome: AccessOutcome | None = None
    since_ms: int = 0
    """At or after this real time (Unix ms); 0 for no bound."""
    until_ms: int = 0
    """Before this real time (Unix ms); 0 for no bound."""
    text: str = ""
    """A substring of the row's detail, reason or peer (case-insensitive); '' for any."""
    limit: int = 0
    """At most this many rows; 0 for all."""
    newest_first: bool = False
    after_seq: int = 0
    """Only rows after this ``seq`` (oldest first) or before it (newest first; 0: from the
    head): where a previous read stopped."""

    def describe(self) -> str:
        """The filter in a few words, for the access record's row of the read itself."""
        parts = []
        if self.officer_id:
            parts.append(f"officer={self.officer_id}")
        if self.actions:
            parts.append("action=" + ",".join(sorted(a.value for a in self.actions)))
        if self.outcome is not None:
            parts.append(f"outcome={self.outcome.value}")
        if self.since_ms:
            parts.append(f"since_ms={self.since_ms}")
        if self.until_ms:
            parts.append(f"until_ms={self.until_ms}")
        if self.text:
            parts.append(f"text={self.text!r}")
        if self.limit:
            parts.append(f"limit={self.limit}")
        if self.newest_first:
            parts.append("newest-first")
        if self.after_seq:
            parts.append(f"after_seq={self.after_seq}")
        return " ".join(parts) or "everything"


def access_filter(
    *,
    officer_id: str = "",
    actions: list[str] | tuple[str, ...] = (),
    outcome: str = "",
    since_ms: int = 0,
    until_ms: int = 0,
    text: str = "",
    limit: int = 0,
    newest_first: bool = False,
    after_seq: int = 0,
) -> AccessFilter:
    """A filter from what a reader sent, or ``InvalidInput`` naming the first bad field."""
    officer_id = officer_id.strip()
    if len(officer_id) > MAX_OFFICER_ID:
        raise InvalidInput("officer_id", f"at most {MAX_OFFICER_ID} characters")
    known = {a.value: a for a in AccessAction}
    chosen = set()
    for name in actions:
        if name not in known:
            raise InvalidInput("actions", f"{name[:40]!r} is not one of {', '.join(known)}")
        chosen.add(known[name])
    outcomes = {o.value: o for o in AccessOutcome}
    if outcome and outcome not in outcomes:
        raise InvalidInput("outcome", f"{outcome[:40]!r} is not one of {', '.join(outcomes)}")
    for name, value in (("since_ms", since_ms), ("until_ms", until_ms), ("after_seq", after_seq)):
        if value < 0:
            raise InvalidInput(name, "must not be negative")
    if since_ms and until_ms and until_ms <= since_ms:
        raise InvalidInput("until_ms", "must be after since_ms")
    if len(text) > MAX_TEXT:
        raise InvalidInput("text", f"at most {MAX_TEXT} characters")
    if not 0 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"between 0 (all) and {MAX_LIMIT}")
    return AccessFilter(
        officer_id=officer_id,
        actions=frozenset(chosen),
        outcome=outcomes[outcome] if outcome else None,
        since_ms=since_ms,
        until_ms=until_ms,
        text=text,
        limit=limit,
        newest_first=newest_first,
        after_seq=after_seq,
    )


@dataclass(frozen=True)
class Anchor:
    """A row of the record an auditor saw and kept: its ``seq`` and (a prefix of) its digest."""

    seq: int
    digest_hex: str
    """Lower-case hex, at least ``MIN_ANCHOR_HEX`` characters: the digest starts with it."""

    def text(self) -> str:
        """``SEQ:DIGEST`` as ``hotline audit`` prints and takes it."""
        return f"{self.seq}:{self.digest_hex}"

    def holds_for(self, digest: bytes) -> bool:
        """True when ``digest`` is the digest this anchor kept."""
        return digest.hex().startswith(self.digest_hex)


def parse_anchor(text: str) -> Anchor:
    """``SEQ:DIGEST`` (hex, whole or a prefix of at least 16 characters) as an ``Anchor``."""
    seq_text, sep, digest = text.strip().partition(":")
    digest = digest.lower()
    if not sep or not seq_text.isdigit() or int(seq_text) < 1:
        raise InvalidInput("anchor", f"{text[:80]!r} is not SEQ:DIGEST (e.g. 42:9f86d081884c7d65)")
    if not MIN_ANCHOR_HEX <= len(digest) <= 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput(
            "anchor", f"the digest of {text[:80]!r} must be {MIN_ANCHOR_HEX} to 64 hex characters"
        )
    return Anchor(int(seq_text), digest)


def anchor_of(seq: int, digest: bytes) -> Anchor:
    """The anchor of a row: its ``seq`` and its whole digest."""
    return Anchor(seq, digest.hex())


@dataclass
class ChainWalk:
    """The chain checked one row at a time, in ``seq`` order from the first row.

    ``step`` says what is wrong with a row (None when it follows from the rows before); after a
    break the walk goes on from the row as stored, so that one edited row is reported once, and
    a later, separate break is still seen.
    """

    previous: bytes = GENESIS
    expected_seq: int = 1
    rows: int = 0
    breaks: list[tuple[int, str]] = field(default_factory=list)
    """(seq, what differs) of every break, in order."""

    def step(self, row: ChainedEntry) -> str | None:
        """Check ``row`` against the rows before it; note and return what differs."""
        seq = row.entry.seq
        why = None
        if seq != self.expected_seq:
            why = (
                f"row {self.expected_seq} is missing: row {seq} follows row {self.expected_seq - 1}"
                if seq > self.expected_seq
                else f"row {seq} comes again after row {self.expected_seq - 1}"
            )
        elif row.previous != self.previous:
            why = (
                f"its previous digest {row.previous.hex()[:16]}… is not the digest of row "
                f"{seq - 1} ({self.previous.hex()[:16]}…): a row before it was changed or removed"
            )
        elif row.digest != digest_of(self.previous, row.entry):
            why = "its content does not hash to its digest: a column of the row was edited"
        self.rows += 1
        self.previous, self.expected_seq = row.digest, max(seq, self.expected_seq - 1) + 1
        if why is not None:
            self.breaks.append((seq, why))
        return why

    @property
    def last_seq(self) -> int:
        """The ``seq`` of the last row walked (0 before any)."""
        return self.expected_seq - 1


def anchor_problems(anchors: list[Anchor], seen: dict[int, bytes], last_seq: int) -> list[str]:
    """What the anchors show: a row whose digest differs, a record that ends before one.

    ``seen`` maps each anchored ``seq`` found in the record to its digest there.
    """
    problems = []
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq > last_seq:
            problems.append(
                f"anchor {anchor.text()[:40]}: the record ends at row {last_seq}, before the "
                "anchored row: rows were cut from its tail"
            )
        elif anchor.seq not in seen:
            problems.append(f"anchor {anchor.text()[:40]}: row {anchor.seq} is not in the record")
        elif not anchor.holds_for(seen[anchor.seq]):
            problems.append(
                f"anchor {anchor.text()[:40]}: row {anchor.seq}'s digest is now "
                f"{seen[anchor.seq].hex()[:16]}…: the record was rewritten from there"
            )
    return problems

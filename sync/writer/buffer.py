"""What a writer transaction holds back until it is written: rows, staged values, callbacks.

A job never writes to the database itself. Every change it makes is buffered here, each with
an entry in the undo journal, so that a job that fails, for any reason, is taken back out of its
transaction as if it had never run, while the jobs beside it go on. The buffer holds three kinds
of change:

* **rows** of any table: inserted, upserted, deleted by key, or updated where columns equal
  given values; written by the flush (``sync.writer.flush``) in one statement per table;
* **staged values**: what a job changes that lives in memory (the rule book a node judges by,
  the trust store), kept here under a key of the job's choosing so that later jobs of the same
  transaction see it, while the rest of the node does not;
* **callbacks**: steps run by the flush inside the transaction after the views are written
  (``on_flush``), and changes to apply to memory once the transaction has committed
  (``after_commit``), dropped if it does not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

Callback = Callable[[], object]


@dataclass(frozen=True)
class RowUpdate:
    """An ``UPDATE`` of the rows of ``table`` whose columns equal ``where``."""

    table: Table
    where: Mapping[str, Any]
    values: Mapping[str, Any]


@dataclass(frozen=True)
class RowWrites:
    """Every row a transaction writes, as the flush takes them (updates and deletes first)."""

    updates: Sequence[RowUpdate]
    deletes: Mapping[Table, Sequence[tuple[Any, ...]]]
    inserts: Mapping[Table, Sequence[dict[str, Any]]]
    upserts: Mapping[Table, Sequence[dict[str, Any]]]


class WriteBuffer:
    """The changes of one writer transaction, held in memory with the journal that undoes them."""

    def __init__(self) -> None:
        self._journal: list[tuple[Any, ...]] = []
        """Undo entries, ``(function, *arguments)``: one tuple (a plain function, not a bound
        method or a closure), as a sweep writes a few per ticket and each closure would be
        several objects more for the garbage collector to track."""
        self._inserts: dict[Table, list[dict[str, Any]]] = defaultdict(list)
        self._upserts: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
        self._deletes: dict[Table, dict[tuple[Any, ...], None]] = defaultdict(dict)
        self._updates: list[RowUpdate] = []
        self._staged: dict[object, Any] = {}
        self._flush_steps: list[Callback] = []
        self._after_commit: list[Callback] = []

    # -- undo journal ------------------------------------------------------------------------

    def mark(self) -> int:
        """A point to undo back to."""
        return len(self._journal)

    def undo_to(self, mark: int) -> None:
        """Forget every buffered change made after ``mark``."""
        while len(self._journal) > mark:
            undo, *arguments = self._journal.pop()
            undo(*arguments)

    def on_undo(self, undo: Callback) -> None:
        """Have ``undo`` called if the job's buffered changes are forgotten."""
        self._journal.append((undo,))

    def close(self) -> None:
        """Drop the journal, staged values and callbacks once the transaction is over.

        Their entries refer to this batch, so batch and journal form reference cycles:
        left in place, every row, event and state of the transaction would wait for Python's
        cyclic garbage collector instead of being freed when the batch goes, and a large
        transaction (a sweep's 200 tickets) would set off full collections of the heap.
        """
        self._journal.clear()
        self._staged.clear()
        self._flush_steps.clear()
        self._after_commit.clear()

    # -- rows --------------------------------------------------------------------------------

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Buffer a new row of ``table``."""
        rows = self._inserts[table]
        rows.append(row)
        self._journal.append((rows.pop,))

    def upsert(self, table: Table, row: dict[str, Any]) -> None:
        """Buffer a row of ``table`` that replaces any row with the same primary key."""
        key = tuple(row[c.name] for c in table.primary_key.columns)
        rows = self._upserts[table]
        old = rows.get(key)
        rows[key] = row
        if old is None:
            self._journal.append((rows.pop, key, None))
        else:
            self._journal.append((rows.__setitem__, key, old))

    def delete(self, table: Table, key: tuple[Any, ...]) -> None:
        """Buffer the removal of ``table``'s row with primary key ``key``.

        A row of that key upserted earlier in the transaction is forgotten; one upserted
        later is written (the flush deletes before it upserts).
        """
        upserts = self._upserts[table]
        old = upserts.pop(key, None)
        if old is not None:
            self._journal.append((upserts.__setitem__, key, old))
        deletes = self._deletes[table]
        if key not in deletes:
            deletes[key] = None
            self._journal.append((deletes.pop, key))

    def update(self, table: Table, where: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """Buffer an ``UPDATE`` of the committed rows of ``table`` whose columns equal ``where``
        (run before this transaction's own rows are written)."""
        self._updates.append(RowUpdate(table, dict(where), dict(values)))
        self._journal.append((self._updates.pop,))

    def changes(self, table: Table, row: Mapping[str, Any]) -> bool:
        """True when an update buffered here would change a committed ``row`` of ``table``
        (one whose ``where`` it matches) in a column of ``row``."""
        return any(
            u.table is table
            and all(row.get(name, value) == value for name, value in u.where.items())
            and any(name in row for name in u.values)
            for u in self._updates
        )

    def pending(self, table: Table) -> Sequence[dict[str, Any]]:
        """Rows of ``table`` buffered in this batch (inserts and upserts)."""
        return [*self._inserts.get(table, ()), *self._upserts.get(table, {}).values()]

    def replace_pending(
        self, table: Table, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        """Replace each row of ``table`` inserted in this batch by ``change(row)`` (where it
        returns another row), so a change meant for the table reaches rows not yet written."""
        rows = self._inserts.get(table, [])
        for i, row in enumerate(rows):
            new = change(row)
            if new is not row:
                rows[i] = new
                self._journal.append((rows.__setitem__, i, row))

    def row_writes(self) -> RowWrites:
        """Every buffered row, for the flush."""
        return RowWrites(
            updates=list(self._updates),
            deletes={t: list(keys) for t, keys in self._deletes.items() if keys},
            inserts={t: rows for t, rows in self._inserts.items() if rows},
            upserts={t: list(rows.values()) for t, rows in self._upserts.items() if rows},
        )

    # -- memory: staged values and callbacks -------------------------------------------------

    def stage(self, key: object, value: Any) -> None:
        """Keep ``value`` under ``key`` for the later jobs of this transaction (``staged``).

        This is how a job changes something kept in memory: it stages the new value, and has
        it applied with ``after_commit``; until then the rest of the node sees the old one.
        """
        had = key in self._staged
        self._journal.append((_restore, self._staged, key, had, self._staged.get(key)))
        self._staged[key] = value

    def staged(self, key: object) -> Any:
        """The value an earlier job of this transaction staged under ``key`` (None: none)."""
        return self._staged.get(key)

    def on_flush(self, step: Callback) -> None:
        """Run ``step`` in the transaction after the views are written (the last of the flush)."""
        self._flush_steps.append(step)
        self._journal.append((self._flush_steps.pop,))

    def after_commit(self, callback: Callback) -> None:
        """Run ``callback`` on the writer thread once the transaction has committed, before
        any caller is answered; it is dropped if the job is undone or the transaction fails."""
        self._after_commit.append(callback)
        self._journal.append((self._after_commit.pop,))

    def flush_steps(self) -> list[Callback]:
        """The steps ``on_flush`` asked for, in order."""
        return list(self._flush_steps)

    def committed_callbacks(self) -> list[Callback]:
        """The callbacks ``after_commit`` asked for, in order."""
        return list(self._after_commit)


def _restore(values: dict[object, Any], key: object, had: bool, old: Any) -> None:
    if had:
        values[key] = old
    else:
        values.pop(key, None)

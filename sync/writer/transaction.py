"""One writer transaction: a group of jobs, all or nothing each.

The jobs of a group run one after another on one ``LogBatch``. A job that raises, whatever
the exception, is undone (its buffered rows, staged values and callbacks are forgotten) and
its caller gets the exception; the jobs beside it go on. Only a database error inside a job
(the transaction itself may be unusable) or a failure of the flush or the commit sinks the
whole group: nothing is written, nothing reaches memory, and ``LogWriter`` runs each job again
alone so that the culprit fails by itself.

Once the transaction has committed, and before any caller is answered, the changes jobs asked
to make to memory (``LogBatch.after_commit``) are applied on the writer thread, in order, so a
caller told "done" finds memory and database in agreement. The ticket states the transaction
folded go to the writer's cache of committed states (``sync.writer.committed``) then too, and
a transaction that fails empties that cache, so it holds only what is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from core.errors import DomainError
from sync.writer.batch import LogBatch
from sync.writer.flush import ProjectionHook, flush

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[LogBatch], T]
"""A unit of work for the writer: it reads and writes through the batch it is given."""
Outcome = tuple[bool, Any]
"""What became of a job: (True, its result) or (False, the exception it raised)."""


def commit_group(
    conn: Connection,
    jobs: Iterable[Job[Any]],
    open_batch: Callable[[Connection], LogBatch],
    project: ProjectionHook,
) -> list[Outcome]:
    """Run ``jobs`` in one transaction on ``conn`` and commit it; returns each job's outcome.

    Raises when the transaction as a whole failed: then nothing was written and nothing of
    it was applied to memory.
    """
    batch: LogBatch | None = None
    try:
        try:
            with conn.begin():
                batch = open_batch(conn)
                outcomes = [_run(batch, job) for job in jobs]
                flush(batch, project)
        except BaseException:
            if batch is not None:
                batch.forget_committed()  # memory all or nothing, as the database
            raise
        batch.keep_committed()
        for callback in batch.committed_callbacks():
            try:
                callback()
            except Exception:  # committed already: the others must still be applied
                log.exception("log writer: a change to apply after commit failed")
        return outcomes
    finally:
        if batch is not None:
            batch.close()


def _run(batch: LogBatch, job: Job[Any]) -> Outcome:
    mark = batch.mark()
    try:
        return True, job(batch)
    except SQLAlchemyError:
        raise  # the transaction may be unusable: the group is rolled back and run job by job
    except Exception as err:
        batch.undo_to(mark)
        if not isinstance(err, DomainError):
            log.warning("log writer: job failed and was undone: %r", err, exc_info=err)
        return False, err

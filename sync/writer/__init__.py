"""The one writer of a node's log: a thread that commits jobs in groups, each all or nothing.

Every change to a node's log goes through here: commands of the node's own officers and
batches received from peers. One thread means one place that allocates the origin sequence,
advances the hybrid clock and chains hashes, with no lock dance between request handlers.
Jobs waiting in the queue are committed together in one transaction (group commit).

A job writes only through its ``LogBatch``, which buffers every change in memory with an undo
journal: a job that fails, for any reason, is undone and leaves nothing behind, without
sinking the rest of its group. What a job changes in memory (the rule book, the trust store)
is staged in the batch for the later jobs of the transaction and applied only once it has
committed. A job's result is handed back only after the commit: a caller told "done" can rely
on it surviving a crash, and on memory agreeing with the database.

The modules, from the bottom up:

- ``buffer``: ``WriteBuffer``, buffered rows, staged values, callbacks and the undo journal;
- ``committed``: ``CommittedStates``, ticket states as committed, kept for the next folds;
- ``events``: ``EventBuffer``, the transaction's events, chain heads and folded states;
- ``batch``: ``LogBatch``, what a job is given: the above plus trust, alerts, quarantine;
- ``flush``: writing a batch (``event_row`` builds an event's row, the one place it is built);
- ``transaction``: one group of jobs in one transaction, undo on failure, after-commit;
- ``lanes``: the two queues, the desk's jobs and a peer's backlog, served in turns;
- ``thread``: ``LogWriter``, the thread, its lanes, the hand-back and stopping.
"""

from sync.writer.batch import LogBatch
from sync.writer.flush import ProjectionHook, event_row
from sync.writer.lanes import Lane
from sync.writer.thread import STOPPING, LogWriter
from sync.writer.transaction import Job

__all__ = ["STOPPING", "Job", "Lane", "LogBatch", "LogWriter", "ProjectionHook", "event_row"]

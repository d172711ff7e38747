"""Errors of the log and of replication, beside the domain's own in the one tree (``core.errors``).

    HotlineError
    ├── StorageError       the database failed (locked, gone, constraint broken); nothing written
    ├── ReplicationError   a peer could not be reached or answered with an error; carries the code
    ├── Busy               the node has more work than it takes on now; nothing was done
    └── WaitExpired        work a call waited for did not end within the node's wait limit

Driver exceptions are converted to ``StorageError`` at the transaction boundary, and
``grpc.RpcError`` to ``ReplicationError`` in the client, each raised ``from`` the original.
``Busy`` and ``WaitExpired`` are how a node keeps a promise that no call waits forever
(docs/security.md, "Limits and input checks"): the edge refuses a call beyond its cap of calls
at once, and the log writer and the blocking pool give up a wait that ran past its limit.
"""

from __future__ import annotations

from typing import Any

from core.errors import HotlineError

RETRY_AFTER_MS = 200
"""How long a caller refused as ``Busy`` is told to wait before trying again."""


class StorageError(HotlineError):
    """The database refused or failed a transaction; it was rolled back."""


class ReplicationError(HotlineError):
    """A replication call to a peer failed; ``code`` is the gRPC status code name."""

    def __init__(
        self, message: str, code: str = "UNKNOWN", retry_after_ms: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after_ms = retry_after_ms
        """The peer's hint of when to try again (a RESOURCE_EXHAUSTED refusal's
        ``grpc-retry-pushback-ms``), if it gave one."""


class Busy(HotlineError):
    """The node will not take this work now: it serves as many calls as it may at once, or
    the work waited its turn (for the log writer, for the blocking pool) longer than the wait
    limit and was dropped before it began. Nothing was done; retry after ``retry_after_ms``."""

    def __init__(self, message: str, retry_after_ms: int = RETRY_AFTER_MS) -> None:
        super().__init__(f"{message}; retry in {retry_after_ms / 1000:g} s")
        self.retry_after_ms = retry_after_ms


class WaitExpired(HotlineError):
    """Work a call waited for began but did not end within the node's wait limit. A change may
    still be recorded after the caller was answered: read it back, or retry a registration with
    the same request id (idempotent)."""


PUSHBACK = "grpc-retry-pushback-ms"
"""The trailer that tells a refused caller when to retry (gRFC A6): the edge writes it for a
``Busy`` refusal (``node.edge.errors``), clients read it (``pushback_ms``)."""

MAX_PUSHBACK_MS = 60_000
"""The longest a hint is believed: a node's mistake must not park a caller for hours."""


def pushback_ms(error: object) -> int | None:
    """The retry hint of a refused gRPC call (its ``grpc-retry-pushback-ms`` trailer), if any."""
    read = getattr(error, "trailing_metadata", None)
    trailers: Any = read() if callable(read) else ()
    for item in trailers or ():
        if item[0] == PUSHBACK:
            try:
                return max(0, min(MAX_PUSHBACK_MS, int(item[1])))
            except (TypeError, ValueError):
                return None
    return None

"""Errors of the log and of replication, beside the domain's own in the one tree (``core.errors``).

    HotlineError
    ├── StorageError       the database failed (locked, gone, constraint broken); nothing written
    └── ReplicationError   a peer could not be reached or answered with an error; carries the code

Driver exceptions are converted to ``StorageError`` at the transaction boundary, and
``grpc.RpcError`` to ``ReplicationError`` in the client, each raised ``from`` the original.
"""

from __future__ import annotations

from core.errors import HotlineError


class StorageError(HotlineError):
    """The database refused or failed a transaction; it was rolled back."""


class ReplicationError(HotlineError):
    """A replication call to a peer failed; ``code`` is the gRPC status code name."""

    def __init__(self, message: str, code: str = "UNKNOWN") -> None:
        super().__init__(message)
        self.code = code

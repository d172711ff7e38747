"""Errors of the log and of replication, kept apart from the domain's own (``core.errors``).

    StorageError       the database failed (locked, gone, constraint broken); nothing was written
    ReplicationError   a peer could not be reached or answered with an error; carries the code

Driver exceptions are converted to ``StorageError`` at the transaction boundary, and
``grpc.RpcError`` to ``ReplicationError`` in the client, each raised ``from`` the original.
"""

from __future__ import annotations


class StorageError(Exception):
    """The database refused or failed a transaction; it was rolled back."""


class ReplicationError(Exception):
    """A replication call to a peer failed; ``code`` is the gRPC status code name."""

    def __init__(self, message: str, code: str = "UNKNOWN") -> None:
        super().__init__(message)
        self.code = code

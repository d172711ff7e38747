"""Signed events and their replication between nodes.

Public surface, for the node runtime and tests:

- ``sync.identity``: ``NodeIdentity`` (the node's Ed25519 key on disk), ``PublicIdentity``.
- ``sync.envelope``: ``seal``/``open_sealed`` and ``SealedEvent``, the signed envelope.
- ``sync.codec``: dataclass <-> protobuf translation.
- ``sync.schema`` and ``sync.log_store``: the log's tables and ``EventLog``.
- ``sync.writer``: ``LogWriter``, the node's single group-committing writer.
- ``sync.ingest``: verifying and storing received events.
- ``sync.children`` and ``sync.client``: the parent's side of replication and the child's
  ``ParentLink``; ``sync.trust_sharing`` and ``sync.received`` serve both.
- ``sync.errors``: ``StorageError``, ``ReplicationError``.
"""

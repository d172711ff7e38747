"""The desks: the use cases of a node (register, act on a ticket, read tickets, the roster,
the rule book held, the supervision queue, replication as an administrator sees it). No gRPC
and no SQL text here beyond the reads each desk needs.
"""

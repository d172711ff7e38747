"""The runtime every node shares, whatever its level.

Configuration (``node.settings``), the clock (``node.clock``), the database and migrations
(``node.database``), the ticket projection (``node.projection``), the roster of officers and
units (``node.roster``), the intake and casework desks (``node.intake``, ``node.casework``), the
gRPC edge and servicers (``node.grpc_edge``, ``node.servicers``), the assembly of a node
(``node.bootstrap``) and the ``hotline`` command line (``node.cli``).
"""

"""The runtime every node shares, whatever its level; one subpackage per kind of code.

``node.app`` (settings, clock, level profiles, wiring, the running node), ``node.edge`` (the
gRPC services and the typed client), ``node.desks`` (the use cases), ``node.views`` (what the
projection keeps beside the log), ``node.storage`` (database, tables, migrations),
``node.jobs`` (the scheduler and its jobs), ``node.cli`` (the ``hotline`` command) and
``node.devnet`` (a throw-away network: demo, samples, test hierarchies). What one level adds
lives in its own package: ``province_hub``, ``city_node``, ``station_agent``.
"""

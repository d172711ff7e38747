"""The field agent of a market-supervision station (市场监管所), often on a poor link.

A station receives the tickets its county assigns to it, records on-site mediation,
verification and signed results in the county's name, and registers walk-in complaints. All of
it is written to the station's own log first (its offline queue) and flows to the county when
the link allows. A station has no children, so it serves no ``SyncService``.
"""

"""What only hubs do: the national and provincial command centres (指挥中心).

A hub registers calls at scale, dispatches tickets by jurisdiction (relaying other provinces'
tickets through the national level), and serves its cities' replication. Supervision queues,
bulletins and the ODR portal join here in later issues.
"""

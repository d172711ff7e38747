"""The domain of the 12315 network, pure: tickets, their events and rules, units and routing.

Nothing here does I/O, reads the clock or keeps global state; the node runtime passes time,
identifiers and reference data in. Other packages import from these modules:

- ``core.ticket`` (events, commands, decisions, the fold), ``core.routing``, ``core.units``,
  ``core.regions``, ``core.officers``, ``core.identifiers``, ``core.hlc``, ``core.errors``;
- ``core.deadlines`` (working-day calendar, time-limit policy, obligations, reminders and
  escalation times; the open duties of a ticket and the sweep's steps);
- ``core.incidents`` (group complaints, emergencies, professional claimants).
"""

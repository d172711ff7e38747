"""What city and county nodes do: accept or refuse, assign stations, mediate, verify, approve.

A county node keeps working when its link is down: every step is a signed event in its own
log, pushed up when the parent answers again. It serves its stations' replication.
"""

"""Scheduled jobs: the node's one scheduler, the deadline sweep, the runner that turns
what detection finds into signed events, and the erasure of personal data at the end of its
retention period.
"""

"""Scheduled jobs: the node's one scheduler, the deadline sweep, and the runner that turns
what detection finds into signed events.
"""

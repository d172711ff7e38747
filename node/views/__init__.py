"""The views the projection keeps beside the log, in the writer's transaction: tickets, the
jurisdiction feed, open obligations, and the signals that detection and queues compare.
"""

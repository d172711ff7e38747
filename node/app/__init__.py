"""The node's application: its settings, its clock, its level profiles, the wiring that
assembles a node from them, and the running node (start, stop).
"""

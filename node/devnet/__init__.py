"""A throw-away network for the demo, tests and benchmarks: node processes on loopback, a
whole certificate hierarchy in one folder, sample tickets and the demo itself. Never used by a
production node.
"""

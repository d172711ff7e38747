"""The ``hotline`` command line: one module per group of sub-commands."""

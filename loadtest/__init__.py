"""Load tests and benchmarks: the 3·15 surge shapes and the ``hotline bench`` commands."""

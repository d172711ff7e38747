"""Load tests and benchmarks: the 3·15 surge shapes and the ``hotline bench`` commands.

One module per benchmark (``intake_bench``, ``sync_bench``, ``sweep_bench``), each with what it
measures and its command; what they stand on: ``harness`` (scratch folders, offline nodes in
this process, the machine, the JSON last line), ``measuring`` (percentiles, CPU and memory
meters, ``PhaseResult``), ``call_loops`` (closed and open loops of raw gRPC calls) and ``hub``
(the intake benchmark's node process). Nodes come from the wiring (``node.app.wiring``), node
processes from ``node.devnet``, calls from the client (``node.edge.client``).
"""

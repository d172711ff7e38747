"""The ``hotline`` command line: one module per group of sub-commands (``node.cli.main``).

gRPC's core library logs on stderr by itself (handshake failures at INFO, and more); a node's
log and a tool's one-line errors should carry only what we say, so unless the operator asks
otherwise (``GRPC_VERBOSITY=INFO``) it logs errors only. This must be set before gRPC is first
imported, which is why it is done here, when the package is entered.
"""

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

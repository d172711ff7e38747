"""``python -m node``: the same as the ``hotline`` command."""

from node.cli import main

raise SystemExit(main())

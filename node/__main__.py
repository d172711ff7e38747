"""``python -m node``: the same as the ``hotline`` command."""

from node.cli.main import main

raise SystemExit(main())

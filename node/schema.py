"""Every table of a node in one ``MetaData``, for Alembic and for schema checks.

The log's tables are defined in ``sync.schema``; the node adds its projection, roster, intake
indexes, obligations, rule books and the signals view. Importing this module registers them all.
"""

from __future__ import annotations

from node import intake, obligations, projection, roster, rules, signals
from sync.schema import metadata

__all__ = ["intake", "metadata", "obligations", "projection", "roster", "rules", "signals"]

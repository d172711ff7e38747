"""The services a station agent serves on top of every node's: none; it has no children."""

from __future__ import annotations

from node.bootstrap import ServiceMount

STATION_SERVICES: tuple[ServiceMount, ...] = ()
"""Stations only push up and pull down; nothing replicates from them."""

"""The services a city or county node serves on top of every node's."""

from __future__ import annotations

from node.bootstrap import ServiceMount, mount_sync_service

CITY_SERVICES: tuple[ServiceMount, ...] = (mount_sync_service,)
"""A city serves replication to its counties, a county to its stations."""

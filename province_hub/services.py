"""The services a hub serves on top of every node's (Intake, Casework, Admin)."""

from __future__ import annotations

from node.bootstrap import ServiceMount, mount_sync_service

HUB_SERVICES: tuple[ServiceMount, ...] = (mount_sync_service,)
"""A hub serves replication to the cities (province) or provinces (national) below it."""

"""The node limits and records each visitor of its web front, not the front (node.edge.front).

``hotline serve-web`` calls its node from one address for every visitor. With the node's front
key it names each visitor's address with the call, and the node believes that address: its
limits per caller then hold each visitor apart, and its access record names the visitor.
Without the key, or with a wrong one, the named address is ignored: anyone could otherwise
dodge the limits by naming a new address with each call.
"""

from __future__ import annotations

import asyncio
import os
import stat
import uuid
from typing import Any

import pytest

from node.edge.client import CallError
from node.edge.front import FRONT_KEY_FILE, front_key, visitor_peer
from proto.hotline.v1 import access_pb2
from tests.helpers.filings import gym_filing
from tests.helpers.signin import access_rows
from tests.helpers.world import InProcessNode, World, spec
from web.node_link import NodeLink


def _file_as_visitors(node: InProcessNode, key: bytes | None, visitors: list[str]) -> list[str]:
    """Each visitor files once through a link holding ``key``: the status code of each."""

    async def run() -> list[str]:
        link = NodeLink(node.target, node.root, front_key=key)
        codes = []
        try:
            for n, visitor in enumerate(visitors):
                request = gym_filing(facts=f"第{n}位访客的投诉")
                try:
                    await link.call(link.consumer.FileComplaint, request, visitor=visitor)
                    codes.append("OK")
                except CallError as exc:
                    codes.append(exc.code)
        finally:
            await link.close()
        return codes

    return asyncio.run(run())


def _visitors(count: int) -> list[str]:
    return [f"203.0.113.{n + 1}" for n in range(count)]


def test_visitors_named_with_the_front_key_are_each_held_to_their_own_limit(
    world: World,
) -> None:
    county = world.start(spec("chengguan"))
    key = front_key(world.settings["chengguan"].data_dir)
    assert _file_as_visitors(county, key, _visitors(12)) == ["OK"] * 12


@pytest.mark.parametrize("key", [None, b"\x00" * 32], ids=["no key", "a wrong key"])
def test_without_the_front_key_the_named_visitors_count_as_one_caller(
    world: World, key: Any
) -> None:
    county = world.start(spec("chengguan"))
    codes = _file_as_visitors(county, key, _visitors(12))
    assert codes[:10] == ["OK"] * 10  # the burst one address may file
    assert codes[10:] == ["RESOURCE_EXHAUSTED"] * 2


def test_the_access_record_names_the_visitor_a_refused_sign_in_came_from(world: World) -> None:
    county = world.start(spec("chengguan"))
    key = front_key(world.settings["chengguan"].data_dir)

    async def wrong_code() -> str:
        link = NodeLink(county.target, county.root, front_key=key)
        try:
            request = access_pb2.ConsumerSignInRequest(
                ticket_id="620102-000000-000001", code="ABCDEFGH"
            )
            with pytest.raises(CallError) as refused:
                await link.call(link.access.ConsumerSignIn, request, visitor="2001:db8::7")
            return refused.value.code
        finally:
            await link.close()

    assert asyncio.run(wrong_code()) == "UNAUTHENTICATED"
    assert access_rows(county)[-1].peer == visitor_peer("2001:db8::7") == "ipv6:[2001:db8::7]:0"


def test_the_front_key_is_made_once_readable_by_the_node_alone(world: World) -> None:
    world.start(spec("chengguan"))
    folder = world.settings["chengguan"].data_dir
    path = folder / FRONT_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert front_key(folder) == path.read_bytes()
    assert len(path.read_bytes()) == 32


def test_a_visitor_address_that_is_no_ip_address_is_not_believed() -> None:
    assert visitor_peer("203.0.113.9") == "ipv4:203.0.113.9:0"
    assert visitor_peer("not an address") == ""
    assert visitor_peer(f"{uuid.uuid4()}") == ""

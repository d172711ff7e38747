"""One error tree: every error of the project descends from ``HotlineError`` and has its status.

The classes are found, not listed: every module of the runtime packages is imported, then the
subclasses of the root are walked, so a class added anywhere later is held to the same rule
(its own row in ``node.edge.errors.STATUS_OF``, and its place in the tree drawn in
``core.errors``).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil

import grpc
import pytest
from grpc import aio

import core.errors
from core.errors import DomainError, HotlineError, InvalidInput
from node.app.settings import InvalidSetting
from node.edge.client import CallError
from node.edge.errors import STATUS_OF, ErrorMappingInterceptor, status_for
from proto.hotline.v1 import admin_pb2, admin_pb2_grpc
from sync.envelope import EnvelopeError
from sync.errors import ReplicationError, StorageError
from sync.identity import IdentityError, NotEnrolled
from sync.pki import PkiError
from sync.rule_book_signing import RuleBookRefused

PACKAGES = ("core", "sync", "node", "province_hub", "city_node", "station_agent")
NOT_IMPORTED = ("node.__main__", "node.storage.migrations.")
"""``python -m node`` runs the CLI when imported; migration scripts run only under Alembic."""


def _import_every_module() -> None:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if not module.name.startswith(NOT_IMPORTED):
                importlib.import_module(module.name)


def _tree(root: type[HotlineError]) -> list[type[HotlineError]]:
    found: list[type[HotlineError]] = [root]
    for sub in root.__subclasses__():
        found.extend(_tree(sub))
    return found


_import_every_module()
TREE = sorted(set(_tree(HotlineError)), key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_every_error_of_the_project_descends_from_the_one_root() -> None:
    expected = {
        DomainError,
        InvalidInput,
        InvalidSetting,
        StorageError,
        ReplicationError,
        PkiError,
        EnvelopeError,
        IdentityError,
        NotEnrolled,
        RuleBookRefused,
        CallError,
    }
    assert expected <= set(TREE)


@pytest.mark.parametrize("kind", TREE, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_class_has_its_own_status_code_at_the_edge(kind: type[HotlineError]) -> None:
    table = dict(STATUS_OF)
    assert kind in table, f"{kind.__qualname__} has no row in node.edge.errors.STATUS_OF"
    code = status_for(kind.__new__(kind))
    assert code is table[kind], "a row above it in STATUS_OF shadows it"
    assert code not in (None, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)


@pytest.mark.parametrize("kind", TREE, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_class_is_drawn_in_the_tree_of_core_errors(kind: type[HotlineError]) -> None:
    assert f" {kind.__qualname__} " in (core.errors.__doc__ or "")


def test_an_error_outside_the_tree_is_not_mapped_and_stays_internal() -> None:
    assert status_for(ValueError("a bug")) is None
    assert status_for(RuntimeError("a bug")) is None


class _RefusingAdmin(admin_pb2_grpc.AdminServiceServicer):
    """An admin service whose Ping fails as a certificate refusal would."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def Ping(self, request: admin_pb2.PingRequest, context: object) -> admin_pb2.PingResponse:
        raise self.error


async def _ping_through_the_interceptor(error: Exception) -> aio.AioRpcError:
    server = aio.server(interceptors=[ErrorMappingInterceptor()])
    admin_pb2_grpc.add_AdminServiceServicer_to_server(_RefusingAdmin(error), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = admin_pb2_grpc.AdminServiceStub(channel)
            with pytest.raises(aio.AioRpcError) as failed:
                await stub.Ping(admin_pb2.PingRequest(), timeout=10)
            return failed.value
    finally:
        await server.stop(None)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (PkiError("certificate of node-x from an unknown authority"), "FAILED_PRECONDITION"),
        (NotEnrolled("a node serves SyncService only once it is enrolled"), "FAILED_PRECONDITION"),
        (EnvelopeError("unknown event type 'hotline.v1.Nope'"), "INVALID_ARGUMENT"),
    ],
    ids=["pki", "not-enrolled", "envelope"],
)
def test_the_interceptor_answers_new_error_classes_with_their_code_on_a_real_call(
    error: HotlineError, code: str
) -> None:
    failed = asyncio.run(_ping_through_the_interceptor(error))
    assert failed.code() is grpc.StatusCode[code]
    assert failed.details() == str(error)

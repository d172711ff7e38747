"""Checking event signatures on another core than the node's writer.

Ed25519 verification is the one cost of taking in a backlog that cannot be skipped, and in
CPython it competes with the writer for the interpreter lock. Large batches are therefore
verified in a worker process (started on first use, with ``spawn`` so that no gRPC thread is
forked), while the writer stores the previous batch; small batches, where the hand-off would
cost more than it saves, are verified on a thread. Only public keys, signatures and envelope
bytes cross to the worker; it answers, per event, whether its signature holds and, since it
has a core of its own and the writer's is the busy one, what it decoded of the event
(``sync.read_ahead``).

Signatures are checked with libsodium (PyNaCl): on this machine it verifies about 1.8 times
as many Ed25519 signatures per CPU second as ``cryptography``'s OpenSSL (docs/benchmarks.md,
issue 14). Both implement RFC 8032; libsodium also refuses non-canonical encodings and
small-order keys, which no honest signer produces.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from sync.envelope import SIGNING_CONTEXT, SealedEvent
from sync.ingest import CheckedEvent
from sync.read_ahead import ReadAhead, Verdict, pack, read_ahead, unpack
from sync.reasons import Refusal, Refused
from sync.trust import TrustStore
from sync.waits import WAIT_LIMIT, in_executor

PROCESS_BATCH = 64
"""Batches at least this large are verified in the worker process."""


def verify_all(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Whether each (public key, signature, envelope) holds."""
    keys: dict[bytes, VerifyKey] = {}
    results = []
    for public, signature, envelope in items:
        key = keys.get(public)
        if key is None:
            key = keys[public] = VerifyKey(public)
        try:
            key.verify(SIGNING_CONTEXT + envelope, signature)
            results.append(True)
        except BadSignatureError:
            results.append(False)
    return results


def verify_and_read(items: Sequence[tuple[bytes, bytes, bytes]]) -> bytes:
    """``verify_all``, and each verified event read ahead; runs in the worker process and
    answers ``Verdict``s packed (``sync.read_ahead.pack``: cheaper to unpickle)."""
    return pack(
        [
            (ok, read_ahead(envelope, signature) if ok else None)
            for ok, (_, signature, envelope) in zip(verify_all(items), items, strict=True)
        ]
    )


def _verify_only(items: Sequence[tuple[bytes, bytes, bytes]]) -> list[Verdict]:
    """``verify_all`` on a thread of this process: reading ahead there would only move the
    writer's work onto the same interpreter lock."""
    return [(ok, None) for ok in verify_all(items)]


class SignatureVerifier:
    """Verifies received events' signatures with their certified keys, off the writer."""

    def __init__(
        self, threads: Executor, processes: int = 1, wait_limit: float = WAIT_LIMIT
    ) -> None:
        self._threads = threads
        self._wait_limit = wait_limit
        self._processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _process_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self._processes, mp_context=multiprocessing.get_context("spawn")
                )
            return self._pool

    async def check(self, events: Sequence[SealedEvent], trust: TrustStore) -> list[CheckedEvent]:
        """Each event with no problem when its signature holds, or why it does not."""
        keys: dict[str, bytes | None] = {}
        for event in events:
            if event.signer_key_id not in keys:
                held = trust.certificates_for([event.signer_key_id])
                keys[event.signer_key_id] = held[0].event_public_key if held else None
        known = [i for i, e in enumerate(events) if keys[e.signer_key_id] is not None]
        items = [
            (keys[events[i].signer_key_id] or b"", events[i].signature, events[i].envelope)
            for i in known
        ]
        results: list[Verdict]
        if len(items) >= PROCESS_BATCH:
            executor: Executor = self._process_pool()
            packed = await in_executor(executor, self._wait_limit, verify_and_read, items)
            results = await in_executor(self._threads, self._wait_limit, unpack, packed)
        else:
            results = await in_executor(self._threads, self._wait_limit, _verify_only, items)
        verdicts = dict(zip(known, results, strict=True))
        checked = []
        for i, event in enumerate(events):
            problem: Refused | None = None
            ahead: ReadAhead | None = None
            if keys[event.signer_key_id] is None:
                problem = Refused(Refusal.NO_CERTIFICATE, f"key {event.signer_key_id[:16]}")
            else:
                ok, ahead = verdicts[i]
                if not ok:
                    problem = Refused(Refusal.BAD_SIGNATURE)
            checked.append(CheckedEvent(event, problem, ahead))
        return checked

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

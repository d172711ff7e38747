"""A loopback TCP proxy that fault tests use to cut and heal the link between two nodes.

Replication runs from a child node to its parent over gRPC (HTTP/2, usually TLS) on
long-lived connections. To test what happens when that link breaks mid-stream (the child
keeps accepting work offline, then catches up once the link is back, without losing or
duplicating log entries) a test points the child at a :class:`LinkProxy` instead of at the
parent and calls :meth:`LinkProxy.cut` / :meth:`LinkProxy.heal` from the (synchronous) test
thread while real node processes run.

The proxy does not look at the bytes, so TLS and HTTP/2 pass through untouched.

Behaviour while cut
-------------------
``cut()`` aborts every open connection on *both* sides with a TCP reset (``SO_LINGER`` 0, then
close), so each peer sees ``ECONNRESET`` at once instead of a polite FIN that an HTTP/2 peer
might read as a graceful shutdown, or a silent stall that only keepalive would notice.

New connections made while cut are *accepted and immediately reset*. The alternatives are
worse for a gRPC client:

* leaving the listener open but not accepting lets the kernel complete the TCP handshake
  into the backlog, so the client's TLS/HTTP/2 handshake hangs until its deadline;
* closing the listener gives ``ECONNREFUSED`` (also fast), but the port must then be bound
  again on ``heal()`` and another process could take it in between, while the child node's
  configuration holds that port for the whole test.

Accept-and-reset keeps the port stable and makes the subchannel's handshake fail at once,
so RPCs that are not ``wait_for_ready`` fail with ``UNAVAILABLE`` straight away.

The proxy runs its own asyncio event loop in a daemon thread; every public method is
thread-safe and meant to be called from the test thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Self

__all__ = ["LinkProxy"]

_CHUNK = 64 * 1024
_CALL_TIMEOUT = 10.0


def _reset_on_close(writer: asyncio.StreamWriter) -> None:
    """Make closing ``writer``'s socket send a TCP RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _abort(writer: asyncio.StreamWriter | None) -> None:
    """Close ``writer``'s connection at once with a reset, dropping unsent data."""
    if writer is None or writer.transport.is_closing():
        return
    _reset_on_close(writer)
    writer.transport.abort()


class _Link:
    """One proxied connection: the client side and, once connected, the upstream side."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True
        _abort(self.client)
        _abort(self.upstream)


class LinkProxy:
    """A TCP proxy on 127.0.0.1 whose link to ``target_host:target_port`` can be cut and healed.

    Use it as a context manager or call :meth:`start` / :meth:`stop`::

        with LinkProxy("127.0.0.1", parent_port) as proxy:
            child = start_child(parent=f"127.0.0.1:{proxy.port}")
            proxy.cut()
            ...
            proxy.heal()
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        """Prepare a proxy to ``target_host:target_port``; nothing listens until :meth:`start`."""
        self.target_host = target_host
        self.target_port = target_port
        self._lock = threading.Lock()
        self._cut = False
        self._delay = 0.0
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections_total = 0
        """Client connections accepted, including those reset because the link was cut."""
        self.connections_refused = 0
        """Client connections reset on arrival (link cut, or the target did not answer)."""
        self.bytes_up = 0
        """Bytes forwarded from clients to the target."""
        self.bytes_down = 0
        """Bytes forwarded from the target back to clients."""

    # ----------------------------------------------------------------- public API

    @property
    def port(self) -> int:
        """The port the proxy listens on (only after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("LinkProxy is not started")
        return self._port

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, ready to use as a gRPC target."""
        return f"127.0.0.1:{self.port}"

    @property
    def is_cut(self) -> bool:
        """Whether the link is currently cut."""
        with self._lock:
            return self._cut

    @property
    def active_connections(self) -> int:
        """Connections currently being proxied."""
        return len(self._links)

    def start(self) -> int:
        """Bind 127.0.0.1 on a free port, start forwarding, and return that port."""
        if self._thread is not None:
            raise RuntimeError("LinkProxy already started")
        self._thread = threading.Thread(
            target=self._run,
            name=f"LinkProxy->{self.target_host}:{self.target_port}",
            daemon=True,
        )
        self._thread.start()
        if not self._started.wait(_CALL_TIMEOUT):
            raise RuntimeError("LinkProxy did not start in time")
        if self._start_error is not None:
            self._thread.join(_CALL_TIMEOUT)
            self._thread = None
            raise RuntimeError("LinkProxy failed to start") from self._start_error
        return self.port

    def cut(self) -> None:
        """Reset every open connection and reset new ones on arrival until :meth:`heal`.

        Returns once all open connections have been aborted.
        """
        with self._lock:
            self._cut = True
        self._call(self._abort_all)

    def heal(self) -> None:
        """Let connections through again (already-reset connections stay closed)."""
        with self._lock:
            self._cut = False

    def delay(self, seconds: float) -> None:
        """Hold each forwarded chunk for ``seconds`` (both directions); 0 turns it off."""
        if seconds < 0:
            raise ValueError("delay must not be negative")
        with self._lock:
            self._delay = seconds

    def stop(self) -> None:
        """Reset all connections, close the listener and join the proxy thread. Idempotent."""
        thread = self._thread
        if thread is None:
            return
        loop, stop_event = self._loop, self._stop_event
        if loop is not None and stop_event is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(_CALL_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError("LinkProxy thread did not stop")
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "cut" if self._cut else "up"
        return (
            f"<LinkProxy {self._port}->{self.target_host}:{self.target_port} {state}"
            f" conns={self.connections_total} up={self.bytes_up} down={self.bytes_down}>"
        )

    # ------------------------------------------------------------ loop machinery

    def _call(self, func: Callable[[], None]) -> None:
        """Run ``func`` on the proxy loop and wait for it (no-op if the loop is not running)."""
        loop = self._loop
        thread = self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        if threading.current_thread() is thread:
            func()
            return
        done: Future[None] = Future()

        def run() -> None:
            try:
                func()
            except BaseException as exc:  # pragma: no cover - surfaced to the caller
                done.set_exception(exc)
            else:
                done.set_result(None)

        try:
            loop.call_soon_threadsafe(run)
        except RuntimeError:  # loop closed meanwhile: nothing left to abort
            return
        done.result(_CALL_TIMEOUT)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # pragma: no cover - reported through start()
            self._start_error = self._start_error or exc
        finally:
            self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            server = await asyncio.start_server(self._accept, "127.0.0.1", 0, backlog=128)
        except OSError as exc:
            self._start_error = exc
            return
        self._port = server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            await self._stop_event.wait()
        finally:
            server.close()
            self._abort_all()
            # Aborted connections end their handlers by themselves (their readers see EOF);
            # cancel only what is still stuck, e.g. an upstream connect in progress.
            if self._tasks:
                _, stuck = await asyncio.wait(set(self._tasks), timeout=_CALL_TIMEOUT / 2)
                for task in stuck:
                    task.cancel()
                await asyncio.gather(*stuck, return_exceptions=True)
            await server.wait_closed()

    def _abort_all(self) -> None:
        links, self._links = self._links, set()
        for link in links:
            link.abort()

    def _settings(self) -> tuple[bool, float]:
        with self._lock:
            return self._cut, self._delay

    # --------------------------------------------------------------- forwarding

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections_total += 1
        link = _Link(writer)
        self._links.add(link)
        clean = False
        try:
            clean = await self._serve(link, reader)
        except (OSError, asyncio.CancelledError):
            # Cancelled only by stop(); not re-raised so that asyncio's stream callback
            # does not log the cancellation as an error.
            pass
        finally:
            if clean and not link.aborted:
                # Both sides reached EOF: close politely so nothing buffered is lost.
                for side in (link.client, link.upstream):
                    if side is not None:
                        side.close()
            else:
                link.abort()
            self._links.discard(link)
            self._tasks.discard(task)

    async def _serve(self, link: _Link, client_reader: asyncio.StreamReader) -> bool:
        """Forward one connection; True if it ended cleanly, False if it must be reset."""
        if self._settings()[0]:
            self.connections_refused += 1
            return False
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            self.connections_refused += 1
            return False
        link.upstream = up_writer
        if link.aborted or self._settings()[0]:
            return False  # cut while the upstream connection was being made
        await asyncio.gather(
            self._pump(link, client_reader, up_writer, upstream=True),
            self._pump(link, up_reader, link.client, upstream=False),
        )
        return not link.aborted

    async def _pump(
        self,
        link: _Link,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        upstream: bool,
    ) -> None:
        """Copy ``reader`` to ``writer`` until EOF, then half-close ``writer``.

        Any error on either side resets the whole link, like a broken wire would.
        """
        try:
            while not link.aborted:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                cut, delay = self._settings()
                if delay > 0:
                    await asyncio.sleep(delay)
                    cut = self._settings()[0]
                if cut or link.aborted:
                    link.abort()
                    return
                writer.write(data)
                await writer.drain()
                if upstream:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
            if not link.aborted and not writer.transport.is_closing() and writer.can_write_eof():
                writer.write_eof()
        except OSError:
            link.abort()

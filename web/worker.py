"""The gunicorn worker of `furet-serve`: whole request heads first, then one app thread.

gunicorn's threaded worker (gthread) with four changes, so that no client holds a worker:

- Heads are read by the main loop. A new connection, or a kept-alive one starting its next
  request, waits in the loop's poller until its head (request line and headers) has
  arrived whole; it gets HEAD_TIMEOUT seconds and HEAD_LIMIT bytes for it, else it is
  answered 408 or 431 from the loop and closed. Only a complete head reaches the
  application thread, whose parser then reads from memory: a client sending one header
  line every few seconds costs a socket, never the thread.
- One application thread per process, as with sync workers: two searches of one process
  never run at once (Whoosh searchers are not shared across threads), while the main loop
  keeps reading heads and answering gunicorn's heartbeat.
- gunicorn's own errors (request line too long, malformed requests) and a request the
  application has not answered after `stuck_after` seconds get the site's error shape
  (web/errors.py `raw_error`: JSON under /api/, a French page elsewhere, the security
  headers). A stuck application thread cannot be stopped: its process is replaced.
- The heap's free pages go back to the system once the application is loaded, after the
  first request and every TRIM_EVERY requests (glibc keeps what opening a large index
  freed: about half of a worker's heap at a million articles).

Written for gunicorn 27's gthread worker (setup.cfg pins the series).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from web.errors import raw_error

__all__ = ["HEAD_LIMIT", "HEAD_TIMEOUT", "TRIM_EVERY", "FrontWorker", "release_free_memory"]

HEAD_TIMEOUT = 10.0  # seconds a client has to send a request's whole head
HEAD_LIMIT = 64 * 1024  # bytes of a head (URLs are refused past 8,190 bytes anyway)
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")

# status -> (code, English message) of the errors answered before the application runs
_REFUSALS = {
    400: ("invalid_request", "the request is not valid HTTP"),
    408: ("request_timeout",
          f"the request's headers did not arrive within {HEAD_TIMEOUT:g} seconds"),
    414: ("uri_too_long", "the address is longer than the server accepts (8,190 bytes for "
          "the request line)"),
    431: ("too_large", "the request's headers are larger than the server accepts"),
    503: ("server_timeout", "the server took too long to answer; try again later"),
}


# Every this many requests, the heap's free pages go back to the system (below).
TRIM_EVERY = 64


@functools.cache
def _malloc_trim() -> Any:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Give the heap's free pages back to the system. Opening a million-article index
    builds large temporary lists (the term directory, the facet table) that glibc keeps
    once freed: 150 MB of a worker's heap after opening, 70 MB after this."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _wants_json(head: bytes) -> bool:
    """Whether a request head (maybe cut short) asks for something under /api/."""
    parts = head.split(b"\n", 1)[0].split(b" ", 2)
    return len(parts) > 1 and parts[1].startswith(b"/api/")


class FrontWorker(ThreadWorker):
    """gunicorn's gthread worker reading whole heads in its main loop (see the module)."""

    stuck_after = 30.0  # seconds; furet-serve sets it from FURET_SEARCH_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heading: deque[Any] = deque()  # connections whose head is arriving, oldest first
        self.running: dict[Any, float] = {}  # connection -> when the app thread got it
        self.answering = False  # the application has started its response
        self.answered = 0  # requests answered by the application thread
        self.stuck = False

    # -- reading heads in the main loop

    def enqueue_req(self, conn: Any) -> None:
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.head = bytearray(held)
        conn.head_since = time.monotonic()
        if not self._head_ready(conn):
            conn.sock.setblocking(False)
            self.heading.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self._on_head_data, conn))

    def _on_head_data(self, conn: Any, _sock: Any) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._stop_heading(conn)
            self._close(conn)
            return
        conn.head += data
        self._head_ready(conn)

    def _head_ready(self, conn: Any) -> bool:
        """Hand the connection on (or refuse it) if its head is whole; False to wait."""
        head = conn.head
        line = head.find(b"\n")
        too_long = (line if line >= 0 else len(head)) > self.cfg.limit_request_line + 1
        if not too_long and not any(end in head for end in _HEAD_ENDS):
            if len(head) <= HEAD_LIMIT:
                return False
            self._stop_heading(conn)
            self._refuse(conn, 431)
            return True
        self._stop_heading(conn)
        conn.sock.setblocking(True)
        conn.init()
        conn.parser.unreader.unread(bytes(head))  # the parser reads it from memory
        conn.data_ready = True
        self.running[conn] = time.monotonic()
        super().enqueue_req(conn)
        return True

    def _stop_heading(self, conn: Any) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        if conn in self.heading:
            self.heading.remove(conn)

    def _refuse(self, conn: Any, status: int) -> None:
        """Answer `status` from the main loop and close the connection."""
        code, message = _REFUSALS[status]
        self.log.warning("refused a request from %s: %s", conn.client, message)
        try:
            conn.sock.setblocking(False)
            conn.sock.send(raw_error(self.wsgi_app, status, code, message,
                                     api=_wants_json(bytes(conn.head))))
        except OSError:
            pass
        self._close(conn)

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        while self.heading and now - self.heading[0].head_since > HEAD_TIMEOUT:
            conn = self.heading[0]
            self._stop_heading(conn)
            self._refuse(conn, 408)
        for conn, since in list(self.running.items()):
            if now - since > self.stuck_after and not self.stuck:
                self._give_up(conn)

    # -- the application thread

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.running.pop(conn, None)
        super().finish_request(conn, fs)
        self.answered += 1
        if self.answered % TRIM_EVERY == 0 or self.answered == 1:
            release_free_memory()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi_app = self.wsgi
        self.wsgi = self._watched
        release_free_memory()

    def _watched(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            self.answering = True
            return start_response(status, headers, exc_info)

        self.answering = False
        return self.wsgi_app(environ, start)

    def _give_up(self, conn: Any) -> None:
        """The application thread has held a request past `stuck_after`: answer 503 if it
        has not started answering, cut the connection, and let this process be replaced."""
        self.stuck = True
        self.alive = False
        self.nr_conns -= 1  # its thread will not give it back: stop without waiting for it
        self.log.error("a request from %s got no answer in %g s; this worker stops and is "
                       "replaced", conn.client, self.stuck_after)
        if not self.answering:
            try:
                conn.sock.send(raw_error(self.wsgi_app, 503, *_REFUSALS[503],
                                         api=_wants_json(bytes(conn.head))))
            except OSError:
                pass
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def run(self) -> None:
        super().run()
        if self.stuck:  # the stuck thread would keep the process from exiting
            os._exit(1)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's own refusals, in the site's error shape (logged as gunicorn does)."""
        capture = _Capture()
        super().handle_error(req, capture, addr, exc)
        status = 414 if isinstance(exc, LimitRequestLine) else capture.status()
        if status == 500:
            code, message = "internal_error", "unexpected error; it has been logged"
        else:
            status = status if status in (414, 431) else 400
            code, message = _REFUSALS[status]
            if status == 400 and str(exc):
                message = f"{message} ({str(exc)[:200]})"
        try:
            client.sendall(raw_error(self.wsgi_app, status, code, message,
                                     api=_wants_json(self._head_of(client))))
        except OSError:
            self.log.debug("could not send the error")

    def _head_of(self, client: Any) -> bytes:
        for conn in list(self.running):  # the main loop changes it meanwhile
            if conn.sock is client:
                return bytes(conn.head)
        return b""


class _Capture:
    """A socket that keeps what gunicorn's error writer sends (to read its status)."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data

    send = sendall

    def status(self) -> int:
        try:
            return int(self.data.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return 500

"""Plain HTTP to a function on 127.0.0.1, with exactly the headers given (no default type)."""

from __future__ import annotations

import http.client
import socket
import time


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(port: int, headers: dict[str, str], body: bytes, *, wait: float = 60) -> tuple[int, bytes]:
    """POST ``body`` to ``/``; retries refused connections for up to ``wait`` seconds.

    ``http.client`` sends only the given headers (plus Host, Content-Length), so a body can go
    without a content type, as VEBA's OpenFaaS processor sends it.
    """
    deadline = time.monotonic() + wait
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        finally:
            connection.close()

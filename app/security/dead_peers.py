"""uvicorn's WebSocket protocol, but a peer that stops reading is cut off instead of waited for.

uvicorn ends a connection with `transport.close()`, which first flushes the write buffer. A peer
that never reads (or has vanished while its kernel still acknowledges) never lets that happen:
the socket, its kernel buffers and the last frame stay forever, and a client can pile such
sockets up. Here, once a connection is being closed (the app has finished with it, or a
keepalive ping went unanswered), the peer gets `grace` seconds to take the rest; then the
transport is aborted (RST) and everything it held is freed.
"""

from __future__ import annotations

import socket
import struct

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class DroppingWebSocketProtocol(WebSocketsSansIOProtocol):
    """See the module docstring; pass `dropping_protocol(grace)` to uvicorn as `ws=`."""

    grace: float = 2.0

    async def run_asgi(self) -> None:
        await super().run_asgi()
        self._abort_later()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        self._abort_later()

    def _abort_later(self) -> None:
        self.loop.call_later(self.grace, self._abort_if_still_open)

    def _abort_if_still_open(self) -> None:
        if self.disconnected or self.transport is None:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: the kernel drops the unsent data and answers with a reset, rather than
            # keeping an orphan socket that retries the stuck peer for minutes.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


def dropping_protocol(grace: float) -> type[DroppingWebSocketProtocol]:
    """The protocol class with its own grace period (uvicorn instantiates the class itself)."""
    return type("DroppingWebSocketProtocol", (DroppingWebSocketProtocol,), {"grace": grace})

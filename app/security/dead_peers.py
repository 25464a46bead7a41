"""A peer that stops reading is cut off by the kernel, not waited for.

A connection ends with `transport.close()`, which first flushes the write buffer. A peer that
never reads (or has vanished while its kernel still acknowledges) never lets that happen: the
socket, its buffers and the last frame would stay forever, and a client could pile such
sockets up. `TCP_USER_TIMEOUT` on the listening socket (inherited by every accepted one) has
the kernel abort a connection whose sent data has gone unacknowledged, or whose peer has
advertised a zero window, for `timeout` seconds; the server's transport then sees the error
and frees everything it held. Healthy peers are untouched: they acknowledge within a round
trip. Linux only; elsewhere the socket is left as it is.
"""

from __future__ import annotations

import socket


def cut_off_dead_peers(listening: socket.socket, timeout: float) -> bool:
    """Set the kernel's unacknowledged-data timeout on `listening`; False where unsupported."""
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if option is None or listening.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    listening.setsockopt(socket.IPPROTO_TCP, option, max(1, round(timeout * 1000)))
    return True

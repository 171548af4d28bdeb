"""A TCP listener on 127.0.0.1 that accepts, counts and closes every connection (answering
nothing): the witness of the address-policy tests, whose refused addresses must leave it at 0."""

from __future__ import annotations

import socket
import threading


class Listener:
    """Counts the connections it accepts on 127.0.0.1 (its ``port``)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:  # the accept timed out: look at _stop again
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

"""Serving an application with uvicorn in a background thread (the demo, tests, tools).

``leadpost serve`` runs uvicorn in the main thread; a caller that must keep its own thread —
the demo that also plays the lead source, a test — starts a :class:`ServiceThread` on a free
port of 127.0.0.1 and stops it when done. Signal handlers stay with the main thread.
"""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.types import ASGIApp


class ServiceThread:
    """uvicorn serving ``app`` on ``host`` (port 0: a free one) in a daemon thread."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="leadpost-serve")
        self.url = ""

    def start(self, patience: float = 30.0) -> ServiceThread:
        """Start and wait until it listens; RuntimeError when it could not start."""
        self.thread.start()
        deadline = time.monotonic() + patience
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start (see the log above)")
            time.sleep(0.01)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        """Stop taking requests, answer those in flight, run the shutdown, join the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=60)

    def __enter__(self) -> ServiceThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

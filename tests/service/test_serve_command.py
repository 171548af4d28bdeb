"""`leadpost serve` as an operator runs it: a real process (two workers) on the simulated
buyers, leads over HTTP, SIGHUP, SIGTERM — and no answered lead lost."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from engine.store.settings import open_store
from engine.store.sources import add_source
from tests.paths import REPO

SAMPLE = json.loads((REPO / "integrations" / "leads" / "sample.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
def test_serve_with_two_workers_sells_reloads_and_stops_cleanly(tmp_path: Path) -> None:
    """Two worker processes share the port and the SQLite store: twenty leads posted are each
    answered with a disposition; SIGHUP reloads without dropping the service; SIGTERM stops
    it (exit 0); every answered lead is in the store with that disposition."""
    env = {**os.environ, "LEADPOST_DATA": str(tmp_path)}
    env.pop("LEADPOST_DATABASE_URL", None)
    store, _ = open_store(env)
    key = add_source(store, "web", ["home-auction"])
    store.close()
    port = free_port()
    # admission off: a busy machine's loop lag must not refuse these leads
    cmd = [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())",
           "serve", "--port", str(port), "--workers", "2", "--sandbox",
           str(REPO / "integrations" / "sandbox.yaml"), "--log-level", "warning",
           "--admission", "off"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    answered: dict[str, str] = {}
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10,
                          headers={"Authorization": f"Bearer {key}"}) as client:  # fmt: skip
            for _ in range(600):  # until both workers have started (no timing is asserted)
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
            for _ in range(20):
                r = client.post("/v1/leads", params={"campaign": "home-auction"}, json=SAMPLE)
                assert r.status_code == 200, r.text
                answered[r.json()["lead_id"]] = r.json()["status"]
            proc.send_signal(signal.SIGHUP)
            for _ in range(600):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            r = client.post("/v1/leads", params={"campaign": "home-auction"}, json=SAMPLE)
            answered[r.json()["lead_id"]] = r.json()["status"]
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, output
    store, _ = open_store(env)
    try:
        stored: dict[str, str] = dict(store.backend.read("SELECT lead_id, disposition FROM leads"))
        nodes = store.backend.read("SELECT COUNT(DISTINCT node) FROM nodes")[0][0]
    finally:
        store.close()
    assert stored == answered and len(answered) == 21
    assert set(answered.values()) <= {"sold", "unsold", "scheduled", "unknown", "rejected"}
    assert nodes >= 3  # the command's own check of the store, and one node per worker

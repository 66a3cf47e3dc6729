"""Shared fixtures: the real ``lupus-msc`` executable and a real uvicorn server on localhost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent

pytest_plugins = ["tests.postgres_server", "tests.registry_fixtures", "tests.browser_fixtures"]


@pytest.fixture(scope="session")
def lupus_msc_command() -> list[str]:
    """The installed console script, run as a user would run it."""
    return [str(BIN / "lupus-msc")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start within 30 s")


@pytest.fixture(scope="session")
def live_server(
    lupus_msc_command: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``lupus-msc serve`` in a subprocess over a fresh SQLite file; yields its base URL."""
    port = _free_port()
    database = tmp_path_factory.mktemp("live") / "registry.sqlite3"
    process = subprocess.Popen(
        [*lupus_msc_command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LUPUS_MSC_DATABASE_URL": f"sqlite:///{database}"},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)

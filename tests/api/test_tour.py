"""docs/api.md's tour, run as written (the bash block, unchanged) against a fresh `make api`: the real server,
set up by the Makefile's own steps (migrations, catalogue, demo year, sample clips) on a database of its own."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

import database
from tests.conftest import QUIRKS_CSV, throwaway_database

DOCS = database.PROJECT_ROOT / "docs" / "api.md"
STARTUP_SECONDS = 600  # migrations, the catalogue, a small demo year and the clips, on a busy 2-core machine


def tour_script() -> str:
    text = DOCS.read_text()
    section = text[text.index("## A tour with curl") :]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll until the API answers (or the server exits, or the deadline passes)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"make api exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)  # polling interval while the server starts, not a wait for a result
    pytest.fail(f"make api did not serve within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def make_api(server_url, template_database, tmp_path):
    """`make api` on a fresh database; the base URL while it serves."""
    port, log = free_port(), tmp_path / "make-api.log"
    with throwaway_database(server_url, template_database) as url:
        env = os.environ | {
            "DATABASE_URL": url,
            "API_PORT": str(port),
            "DEMO_SUBSCRIBERS": "40",
            "NETFLIX_CSV": str(QUIRKS_CSV),
            "BILLING_EVERY_MINUTES": "0",
        }
        with log.open("w") as out:
            server = subprocess.Popen(
                ["make", "--no-print-directory", "-o", ".venv/.app-installed", "api"],
                cwd=database.PROJECT_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{base}/v1/plans", server, log)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


def test_the_tour_in_the_docs_runs_as_written_against_make_api(make_api, tmp_path):
    plans = httpx.get(f"{make_api}/v1/plans").json()
    assert plans["total"] >= 3  # a fresh make api has plans, as make run has
    assert {"validity_days", "max_devices_allowed", "is_active", "access_level"} <= set(plans["items"][0])

    run = subprocess.run(
        ["bash", "-c", tour_script()],
        cwd=tmp_path,
        env=os.environ | {"API": make_api},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"the tour stopped:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    out = run.stdout
    assert '"state":"paused"' in out  # the pause is stored and reported
    for code in ("unknown_field", "card_declined", "plan_not_found"):
        assert f'"code":"{code}"' in out, code
    assert out.count("204\n") == 2  # the title deleted, the session signed out
    trailer = httpx.get(f"{make_api}/v1/titles/t1/trailer").json()
    clip = httpx.get(make_api + trailer["media_url"])
    assert clip.status_code == 200 and len(clip.content) > 1000  # and media, as make run has

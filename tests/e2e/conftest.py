"""Browser tests: the real app served by `streamlit run`, driven in Debian's headless Chromium.

Like Streamlit's own e2e suite: the server's output goes to a file, readiness is polled on
/_stcore/health, and each rerun is awaited through the app's script state.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import database
from tests.waiting import wait_until

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = database.PROJECT_ROOT / "test-artifacts"
TIMEOUT_MS = 20_000  # for each page action and each expect()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                return response.read().decode().strip() == "ok"
        except OSError:
            return False

    try:
        wait_until(healthy, "streamlit's health check", timeout=timeout, every=0.25)
    except AssertionError as exc:
        raise TimeoutError(f"{exc}:\n{log.read_text()}") from None


@pytest.fixture(scope="module")
def app_server(module_db_url: str, tmp_path_factory) -> Iterator[str]:
    """`streamlit run app.py` (through tests/e2e/serve.py) on a free port against this module's database;
    yields its URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "DATABASE_URL": module_db_url}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.e2e.serve",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=database.PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default; a rerun on a machine busy with the rest of the suite can take longer.
    expect.set_options(timeout=TIMEOUT_MS)

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_device(browser, request):
    """Makes pages, each in a browser context of its own (another device: its own cookies); a failed test
    leaves a screenshot of each in test-artifacts/ (`<test>.png`, then `<test>-2.png`, ...)."""
    pages = []

    def make(**context_options):
        context = browser.new_context(**({"viewport": {"width": 1400, "height": 900}} | context_options))
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        pages.append(page)
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    for n, page in enumerate(pages, start=1):
        if report is not None and report.failed and not page.is_closed():
            ARTIFACTS.mkdir(exist_ok=True)
            name = request.node.name if n == 1 else f"{request.node.name}-{n}"
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        page.context.close()


@pytest.fixture
def page(new_device):
    return new_device()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def wait_for_app(page) -> None:
    """Until the script run has finished and no skeleton is left."""
    from playwright.sync_api import expect

    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached")
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0)

"""Waiting on a condition no page shows (a row in the database, a server's health check)."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], what: str, timeout: float = 20.0, every: float = 0.1) -> T:
    """`check()`'s first truthy value, polled every `every` seconds until `timeout` seconds have passed; then
    AssertionError naming `what`. The wait ends as soon as the condition holds, however busy the machine is."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen in {timeout:.0f} s")
        time.sleep(every)

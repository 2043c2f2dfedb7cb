"""Every command-line program an analyst runs answers --help (argparse help strings are %-formatted)."""

import subprocess
import sys

import pytest

import database

PROGRAMS = [
    "database",
    "etl.load_catalogue",
    "seed.generate",
    "backend.analytics",
    "ops.billing",
    "backend.watching.media",
    "backend.watching.home",
    "backend.accounts",
]


@pytest.mark.parametrize("module", PROGRAMS)
def test_help_prints_usage(module):
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        cwd=database.PROJECT_ROOT,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout

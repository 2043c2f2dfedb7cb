"""The app and the API outlive `python -m database stop`: a process using the embedded server starts it again
(database.revive_embedded_server, called while they report the outage) and keeps it up after other commands exit.
Run in a child process with an embedded server of its own, so the suite's server is not touched."""

from __future__ import annotations

import os
import subprocess
import sys

import database

CHILD = """
import os, subprocess, sys
import database
from sqlalchemy import text
engine = database.get_engine(database.database_url(), migrate=False)
def answers():
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1
    except Exception as error:
        assert database.is_database_down(error), error
        return False
assert answers()
subprocess.run([sys.executable, "-m", "database", "stop"], check=True, env=os.environ, stdout=subprocess.DEVNULL)
print("after stop:", answers())
print("revived:", database.revive_embedded_server())
print("after revive:", answers())
subprocess.run([sys.executable, "-m", "database", "status"], check=True, env=os.environ, stdout=subprocess.DEVNULL)
print("after status exits:", answers())
"""


def test_a_stopped_embedded_server_is_started_again_by_the_process_using_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"EMBEDDED_PGDATA": str(tmp_path / "pg")}
    env["PYTHONPATH"] = str(database.PROJECT_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=database.PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "after stop: False",
        "revived: True",
        "after revive: True",
        "after status exits: True",
    ]
    assert not (tmp_path / "pg" / "postmaster.pid").exists()  # and it stops with its last user, as before

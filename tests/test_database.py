"""database.py: URL choice, migrations under a lock, retries on real serialization failures, CLI."""

import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

import database
from tests.conftest import database_url_for, run_at_once


def test_database_url_uses_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/app")
    assert database.database_url() == "postgresql+psycopg2://u:p@db.example:5432/app"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/app")
    assert database.database_url() == "postgresql+psycopg2://u@h/app"
    assert not database.is_embedded()


def test_engine_is_pooled_with_pre_ping_and_one_per_url(db_url):
    engine = database.get_engine(db_url)
    assert engine is database.get_engine(db_url)
    assert engine.pool._pre_ping is True
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_schema_is_at_head_and_upgrade_is_idempotent(engine):
    current, head = database.schema_revision(engine)
    assert current == head
    database.upgrade(engine)
    assert database.schema_revision(engine) == (head, head)


def test_concurrent_first_migrations_wait_for_each_other(server_url):
    """Two processes migrating an empty database at once: the advisory lock makes one wait."""
    name = f"test_migrate_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = database_url_for(server_url, name)
    try:
        run_at_once(*[lambda: database.upgrade(create_engine(url, poolclass=NullPool))] * 3)
        current, head = database.schema_revision(create_engine(url, poolclass=NullPool))
        assert current == head
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_downgrade_to_base_and_back(engine):
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(database._alembic_config(conn), "base")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('titles')")).scalar() is None
    database.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('titles')")).scalar() == "titles"


def _serialization_conflict(engine, barrier: threading.Barrier, attempts: list):
    """Read-then-write in SERIALIZABLE: two of these at once make one fail with 40001."""

    def work():
        attempts.append(1)
        with engine.begin() as conn:
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"))
            total = conn.execute(text("SELECT coalesce(sum(max_devices_allowed), 0) FROM plans")).scalar()
            if len(attempts) <= 2:
                barrier.wait(timeout=10)
            conn.execute(
                text("""INSERT INTO plans (name, price, billing_period, validity_days, access_level,
                                 max_devices_allowed, resolution)
                        VALUES (:n, 9.99, 'month', 30, 'basic', 1, '720p')"""),
                {"n": f"plan-{total}-{threading.get_ident()}"},
            )

    return work


def test_with_retries_recovers_from_a_real_serialization_failure(engine):
    barrier = threading.Barrier(2)
    attempts: list = []
    work = [_serialization_conflict(engine, barrier, attempts) for _ in range(2)]
    run_at_once(*[lambda w=w: database.with_retries(w, base_delay=0.01) for w in work])
    assert len(attempts) >= 3  # one of the two was retried
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plans")).scalar() == 2


def test_with_retries_does_not_retry_other_errors(engine):
    calls = []

    def broken():
        calls.append(1)
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception, match="no_such_table"):
        database.with_retries(broken)
    assert calls == [1]


def test_bad_url_fails_clearly(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    with pytest.raises(OperationalError):
        database.get_engine(database.database_url(), migrate=True)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "database", *args], capture_output=True, text=True, cwd=database.PROJECT_ROOT, timeout=60
    )


def test_cli_stop_stops_an_embedded_server(tmp_path):
    pgdata = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"EMBEDDED_PGDATA": str(pgdata)}
    started = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import database, sys; database.embedded_server(); print('up', flush=True); sys.stdin.read()",
        ],
        cwd=database.PROJECT_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert started.stdout.readline().strip() == "up"
        assert (pgdata / "postmaster.pid").exists()
        stop = subprocess.run(
            [sys.executable, "-m", "database", "stop"],
            capture_output=True,
            text=True,
            cwd=database.PROJECT_ROOT,
            env=env,
            timeout=60,
        )
        assert stop.returncode == 0, stop.stderr
        assert "embedded server stopped" in stop.stdout
        assert not (pgdata / "postmaster.pid").exists()
    finally:
        started.communicate("", timeout=30)


def test_cli_status_url_and_upgrade(db_url):
    status = run_cli("status")
    assert status.returncode == 0, status.stderr
    _current, head = database.schema_revision(database.get_engine(db_url))
    assert f"schema:    {head} (code head {head})" in status.stdout
    assert run_cli("url").stdout.strip().endswith(db_url.rsplit("/", 1)[1])
    assert run_cli("upgrade").stdout.strip() == f"schema at {head}"
    assert "not ours to stop" in run_cli("stop").stdout

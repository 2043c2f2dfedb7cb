"""Alembic environment: runs on a connection handed over by database.upgrade(), or opens one itself."""

from logging.config import fileConfig

from alembic import context

from backend.core import locks

config = context.config


def run_on(connection) -> None:
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    # In-process (app, CLIs, tests): the caller holds the transaction and the advisory lock.
    # No fileConfig() here: it would disable the loggers of the host process (e.g. Streamlit's).
    run_on(connection)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    import database

    engine = database.get_engine(migrate=False)
    with engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.MIGRATIONS})
        run_on(conn)

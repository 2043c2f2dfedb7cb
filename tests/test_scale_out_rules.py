"""Scale-out rules 1-5 (and the partitioning and type rules) read off the migrated catalogue.

See ../shared/docs/scale-out.md. A per-user table is any table with a `user_id` column,
except the global login lookup, which is keyed by email by design (rule 3).
"""

import pytest
from sqlalchemy import text

LOGIN_LOOKUP_TABLES = {"user_logins"}
# The catalogue's own key from the CSV (also per release, and staged), not a surrogate id.
NATURAL_TEXT_IDS = {("titles", "show_id"), ("title_source_ids", "show_id"), ("catalogue_stage", "show_id")}


def query(engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql)).all()


@pytest.fixture
def tables(engine) -> dict[str, set[str]]:
    """Top-level tables (partitions excluded) and their columns."""
    rows = query(
        engine,
        """
        SELECT c.relname, a.attname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.relname <> 'alembic_version'""",
    )
    result: dict[str, set[str]] = {}
    for table, column in rows:
        result.setdefault(table, set()).add(column)
    return result


@pytest.fixture
def per_user(tables) -> set[str]:
    return {t for t, cols in tables.items() if "user_id" in cols} - LOGIN_LOOKUP_TABLES


def constraint_columns(engine, contype: str) -> list[tuple]:
    """(table, constraint, columns in key order, referenced table, referenced columns)."""
    return query(
        engine,
        f"""
        SELECT c.conrelid::regclass::text, c.conname,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
               c.confrelid::regclass::text,
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
        WHERE c.contype = '{contype}' AND c.connamespace = 'public'::regnamespace AND NOT r.relispartition""",
    )


def test_the_core_per_user_tables_are_recognised(per_user):
    assert {
        "users",
        "profiles",
        "subscriptions",
        "payment_attempts",
        "playback_events",
        "viewing_progress",
        "list_entries",
        "ratings",
    } <= per_user


def test_rule_1_per_user_tables_are_keyed_by_user_id_first(engine, per_user):
    primary_keys = {table: cols for table, _, cols, _, _ in constraint_columns(engine, "p")}
    for table in per_user:
        assert table in primary_keys, f"{table} has no primary key"
        assert primary_keys[table][0] == "user_id", f"{table} primary key {primary_keys[table]} must start with user_id"
    not_null = query(
        engine,
        """
        SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE a.attname = 'user_id' AND a.attnotnull AND format_type(a.atttypid, a.atttypmod) = 'bigint'""",
    )
    assert per_user <= {name for (name,) in not_null}


def test_rule_2_shared_tables_never_reference_per_user_tables(engine, per_user):
    for table, name, _, referenced, _ in constraint_columns(engine, "f"):
        if table not in per_user:
            assert referenced not in per_user, f"shared table {table} references per-user {referenced} ({name})"


def test_rule_3_uniqueness_on_per_user_tables_includes_user_id(engine, per_user):
    unique_indexes = query(
        engine,
        """
        SELECT t.relname, i.relname, ARRAY(SELECT a.attname FROM pg_attribute a
                                          WHERE a.attrelid = t.oid AND a.attnum = ANY (x.indkey))
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace""",
    )
    checked = 0
    for table, index, columns in unique_indexes:
        if table in per_user:
            checked += 1
            assert "user_id" in columns, f"unique index {index} on {table} lacks user_id"
    assert checked >= len(per_user)
    logins = {table: cols for table, _, cols, _, _ in constraint_columns(engine, "p")}
    assert logins["user_logins"] == ["email"]


def test_rule_4_foreign_keys_between_per_user_tables_include_user_id(engine, per_user):
    checked = 0
    for table, name, columns, referenced, referenced_columns in constraint_columns(engine, "f"):
        if table in per_user and referenced in per_user:
            checked += 1
            assert "user_id" in columns, f"{name} on {table} lacks user_id"
            assert columns.index("user_id") == referenced_columns.index("user_id"), f"{name} pairs user_id wrongly"
    assert checked >= 6


def test_rule_5_ids_are_bigint(engine):
    columns = query(
        engine,
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND a.attnum > 0 AND NOT a.attisdropped AND a.attname LIKE '%\\_id' ESCAPE '\\'""",
    )
    assert len(columns) > 30
    for table, column, type_ in columns:
        if (table, column) not in NATURAL_TEXT_IDS:
            assert type_ == "bigint", f"{table}.{column} is {type_}"


def test_money_is_numeric_and_times_are_timestamptz(engine):
    columns = query(
        engine,
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND a.attnum > 0 AND NOT a.attisdropped""",
    )
    types = {(t, c): ty for t, c, ty in columns}
    for money in [("plans", "price"), ("subscriptions", "price"), ("payment_attempts", "amount")]:
        assert types[money] == "numeric(12,2)"
    for (table, column), type_ in types.items():
        assert type_ not in ("timestamp without time zone", "real", "double precision", "money"), (table, column)


def test_rule_14_playback_events_partitioned_by_month_with_brin(engine):
    ((strategy, key),) = query(
        engine,
        """
        SELECT p.partstrat, pg_get_partkeydef(p.partrelid) FROM pg_partitioned_table p
        WHERE p.partrelid = 'playback_events'::regclass""",
    )
    assert strategy == "r" and key == "RANGE (started_at)"
    pk = {t: cols for t, _, cols, _, _ in constraint_columns(engine, "p")}["playback_events"]
    assert pk == ["user_id", "event_id", "started_at"]
    assert (
        query(
            engine,
            """SELECT count(*) FROM pg_indexes WHERE tablename = 'playback_events'
                            AND indexdef LIKE '%USING brin (started_at)%'""",
        )[0][0]
        == 1
    )
    assert query(engine, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'playback_events'::regclass")[0][0] >= 1

"""On a seeded year (300 subscribers): the MRR identity every month, the rollups agree with the raw replay,
and `python -m backend.analytics metrics` prints exactly what the dashboards' functions return."""

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import text

import database
from backend.accounts import users
from backend.analytics import __main__ as analytics_cli
from backend.analytics import mrr_replay, reading, revenue_metrics, revenue_pages, selection
from backend.analytics.selection import Filters, Period
from etl.load_catalogue import load_catalogue
from seed import generate
from seed import options as seed_options
from tests.conftest import QUIRKS_CSV

YEAR = Period(date(2025, 7, 1), date(2026, 6, 1))
OPTIONS = seed_options.Options(subscribers=300, months=12, end=date(2026, 7, 1), seed=7)


@pytest.fixture(scope="module")
def seeded(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, QUIRKS_CSV)
    generate.seed(engine, OPTIONS)  # refreshes the rollups at its end
    admin = users.find_user_by_email(engine, "demo.analyst@example.com").user_id
    yield engine, admin, module_db_url
    engine.dispose()


@pytest.fixture
def cli(seeded, monkeypatch, capsys):
    """Run the CLI in-process against the seeded database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", seeded[2])

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = analytics_cli.main(list(argv))
        except SystemExit as exit_:
            code = exit_.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_identity_every_month_and_rollups_match_the_raw_replay(seeded):
    engine, admin, _ = seeded
    metrics = revenue_metrics.monthly_metrics(engine, YEAR, acting_user_id=admin)
    assert len(metrics) == 12 and metrics["end_mrr"].iloc[-1] > 0
    assert metrics["churned_subscribers"].sum() > 0 and metrics["reactivation_mrr"].sum() > 0
    for _, r in metrics.iterrows():
        assert r["end_mrr"] == (
            r["start_mrr"]
            + r["new_mrr"]
            + r["expansion_mrr"]
            + r["reactivation_mrr"]
            - r["contraction_mrr"]
            - r["churned_mrr"]
        ), r["month"]
        assert r["moved_in_mrr"] == r["moved_out_mrr"] == 0
    for earlier, later in zip(metrics.itertuples(), metrics.iloc[1:].itertuples(), strict=False):
        assert later.start_mrr == earlier.end_mrr and later.active_start == earlier.active_end
    raw = mrr_replay.mrr_movements(engine, YEAR.first, YEAR.last)
    for column in mrr_replay.MOVEMENT_COLUMNS[1:]:
        assert list(raw[column]) == list(metrics[column]), column


def test_identity_holds_per_plan_and_country_segment(seeded):
    engine, admin, _ = seeded
    options = selection.filter_options(engine, acting_user_id=admin)
    assert len(options.countries) > 3
    segments = [Filters((pid,)) for pid in options.plans] + [Filters(countries=(options.countries[0],))]
    total_end = 0
    for filters in segments:
        frame = revenue_metrics.monthly_metrics(engine, YEAR, filters, acting_user_id=admin)
        for _, r in frame.iterrows():
            assert r["end_mrr"] == (
                r["start_mrr"]
                + r["new_mrr"]
                + r["expansion_mrr"]
                + r["reactivation_mrr"]
                + r["moved_in_mrr"]
                - r["contraction_mrr"]
                - r["churned_mrr"]
                - r["moved_out_mrr"]
            )
        if filters.plan_ids:
            total_end += frame["end_mrr"].iloc[-1]
    assert total_end == revenue_metrics.monthly_metrics(engine, YEAR, acting_user_id=admin)["end_mrr"].iloc[-1]


def test_cli_json_equals_the_dashboard_functions(seeded, cli):
    engine, admin, _ = seeded
    code, out, _ = cli("metrics", "--start", "2025-07", "--end", "2026-06", "--format", "json")
    assert code == 0
    printed = json.loads(out)["months"]
    assert [row["month"] for row in printed] == [m.strftime("%Y-%m") for m in YEAR.months()]
    assert printed == reading.as_json_rows(revenue_metrics.monthly_metrics(engine, YEAR, acting_user_id=admin))
    assert printed[0]["end_mrr"].count(".") == 1 and len(printed[0]["end_mrr"].split(".")[1]) == 2
    frames = dict(revenue_pages.revenue_page(engine, YEAR, acting_user_id=admin))
    overview = revenue_pages.overview(engine, YEAR, acting_user_id=admin)
    frames |= {"growth": overview["growth"], "retention": overview["retention"]}
    for name, frame in frames.items():
        if "plan" in frame.columns:
            continue  # MRR by plan: checked below against the plan filter
        for row, shown in zip(printed, reading.as_json_rows(frame), strict=True):
            assert {k: row[k] for k in shown} == shown, name
    last = printed[-1]
    for _, tile in overview["kpis"].iterrows():
        assert reading.json_value(tile["value"]) == last[tile["column"]], tile["metric"]


def test_mrr_by_plan_adds_up_and_matches_the_plan_filter(seeded):
    engine, admin, _ = seeded
    by_plan = revenue_pages.revenue_page(engine, YEAR, acting_user_id=admin)["mrr_by_plan"]
    options = selection.filter_options(engine, acting_user_id=admin)
    total = revenue_metrics.monthly_metrics(engine, YEAR, acting_user_id=admin)
    assert list(by_plan.groupby("month")["mrr"].sum()) == list(total["end_mrr"])
    for plan_id, name in options.plans.items():
        only = revenue_metrics.monthly_metrics(engine, YEAR, Filters((plan_id,)), acting_user_id=admin)
        shown = by_plan[by_plan["plan"] == name].set_index("month")["mrr"]
        assert all(shown.get(m, 0) == v for m, v in zip(only["month"], only["end_mrr"], strict=True)), name


def test_cli_csv_and_filters(seeded, cli):
    engine, admin, _ = seeded
    code, out, _ = cli(
        "metrics", "--start", "2026-01", "--end", "2026-06", "--format", "csv", "--plan", "basic", "--country", "us"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    with engine.connect() as conn:
        basic = conn.execute(text("SELECT plan_id FROM plans WHERE name = 'Basic'")).scalar_one()
    expected = revenue_metrics.monthly_metrics(
        engine, Period(date(2026, 1, 1), date(2026, 6, 1)), Filters((basic,), ("US",)), acting_user_id=admin
    )
    assert [r["end_mrr"] for r in rows] == [str(v) for v in expected["end_mrr"]]
    assert [r["churn_rate"] for r in rows] == ["" if v is None else str(v) for v in expected["churn_rate"]]
    assert rows[0]["month"] == "2026-01" and list(rows[0]) == revenue_metrics.METRIC_COLUMNS


def test_cli_refuses_bad_input_with_a_clear_message(cli):
    code, _, err = cli("metrics", "--start", "2026-13", "--end", "2026-06")
    assert code == 2 and "not a month: use YYYY-MM" in err
    code, _, err = cli("metrics", "--start", "2026-06", "--end", "2026-01")
    assert code == 2 and "first month must not be after the last" in err
    code, _, err = cli("metrics", "--start", "2026-01", "--end", "2026-02", "--plan", "Gold")
    assert code == 2 and "No plan named Gold" in err


def test_python_m_refresh_prints_its_timings_and_metrics_print_null_for_na(seeded):
    env = {**os.environ, "DATABASE_URL": seeded[2]}
    done = subprocess.run(
        [sys.executable, "-m", "backend.analytics", "refresh", "--since", "2026-05"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=database.PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    timings = json.loads(done.stdout)["refresh_seconds"]
    assert {"revenue_monthly", "trial_monthly", "payments_monthly"} <= set(timings)
    done = subprocess.run(
        [sys.executable, "-m", "backend.analytics", "metrics", "--start", "2025-06", "--end", "2025-07"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=database.PROJECT_ROOT,
    )
    first = json.loads(done.stdout)["months"][0]  # the month before the seeded year: nobody active, no trials
    assert first["churn_rate"] is None and first["trial_conversion"] is None and first["arpu"] is None
    assert first["end_mrr"] == "0.00"

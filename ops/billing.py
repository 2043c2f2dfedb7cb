"""The billing cycle: the billing job (backend.billing.job), then the dashboards' rollups it made stale.

CLI: `python -m ops.billing run [--until YYYY-MM-DD] [--json]`. The app runs the same cycle every few
minutes in a background thread (`ui.session.billing_scheduler`).
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine

import database
from backend.analytics import rollups
from backend.billing import gateway as gateways
from backend.billing import job as billing_job
from backend.core.settings import run_cli

log = logging.getLogger("reelhouse.billing")


def run(
    engine: Engine, now: datetime | None = None, *, gateway: gateways.Gateway | None = None, started_by: str = "cli"
) -> dict:
    """Settle everything due up to `now`, then refresh the rollups from the first day it touched."""
    summary = billing_job.run(engine, now, gateway=gateway, started_by=started_by)
    if "skipped" not in summary:
        since = date.fromisoformat(summary["analytics_since"])
        summary["analytics_refresh_seconds"] = refresh_analytics(engine, since, now)
    return summary


def refresh_analytics(engine: Engine, since: date, now: datetime | None) -> dict:
    """Refresh the analytics rollups of the recent months; a failure is logged, never the run's."""
    try:
        return {name: round(seconds, 3) for name, seconds in rollups.refresh(engine, since, now).items()}
    except Exception:
        log.exception("analytics refresh after the billing run failed")
        return {}


def _until(value: str) -> datetime:
    """The end of that day, UTC."""
    day = date.fromisoformat(value)
    return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(microseconds=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.billing", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="settle everything due (idempotent), then refresh the rollups")
    run_parser.add_argument("--until", type=_until, help="settle what is due up to the end of this day (UTC)")
    run_parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    summary = run(database.get_engine(), args.until)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        for name, value in summary.items():
            print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    run_cli(main)

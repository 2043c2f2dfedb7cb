"""Dashboard rollups and metrics from the command line.

`python -m backend.analytics refresh [--since YYYY-MM]` refreshes every rollup;
`python -m backend.analytics metrics --start YYYY-MM --end YYYY-MM [--format json|csv]` prints every monthly metric.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine, text

import database
from backend.analytics.reading import as_json_rows
from backend.analytics.revenue_metrics import metrics_in
from backend.analytics.revenue_rollups import refreshed_at
from backend.analytics.rollups import refresh
from backend.analytics.selection import Filters, Period, parse_month
from backend.core.settings import run_cli


def _plan_ids(engine: Engine, names: Sequence[str]) -> tuple[int, ...]:
    with engine.connect() as conn:
        known = {n.lower(): i for i, n in conn.execute(text("SELECT plan_id, name FROM plans")).all()}
    missing = [n for n in names if n.lower() not in known]
    if missing:
        raise ValueError(f"No plan named {', '.join(missing)}; plans: {', '.join(sorted(known))}.")
    return tuple(known[n.lower()] for n in names)


def _month_arg(value: str) -> date:
    try:
        return parse_month(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    refresh_parser = sub.add_parser("refresh", help="refresh the dashboard rollups (idempotent)")
    refresh_parser.add_argument("--since", type=_month_arg, help="only from this month (YYYY-MM) on")
    metrics_parser = sub.add_parser("metrics", help="print every monthly metric, one row per month")
    metrics_parser.add_argument("--start", type=_month_arg, required=True, help="first month, YYYY-MM")
    metrics_parser.add_argument("--end", type=_month_arg, required=True, help="last month, YYYY-MM")
    metrics_parser.add_argument("--format", choices=("json", "csv"), default="json")
    metrics_parser.add_argument("--plan", action="append", default=[], help="plan name (repeatable)")
    metrics_parser.add_argument("--country", action="append", default=[], help="country code (repeatable)")
    metrics_parser.add_argument("--refresh", action="store_true", help="refresh the rollups first")
    args = parser.parse_args(argv)
    engine = database.get_engine()
    if args.command == "refresh":
        started = time.perf_counter()
        timings = refresh(engine, args.since)
        print(
            json.dumps(
                {
                    "refresh_seconds": {k: round(v, 3) for k, v in timings.items()},
                    "total_seconds": round(time.perf_counter() - started, 3),
                }
            )
        )
        return 0
    try:
        period = Period(args.start, args.end)
        filters = Filters(_plan_ids(engine, args.plan), tuple(c.upper() for c in args.country))
    except ValueError as error:
        parser.error(str(error))
    timings = {k: round(v, 3) for k, v in refresh(engine).items()} if args.refresh else {}
    with engine.connect() as conn:
        metrics = metrics_in(conn, period, filters)
    if args.format == "csv":
        metrics.assign(month=metrics["month"].map(lambda m: m.strftime("%Y-%m"))).to_csv(sys.stdout, index=False)
        if timings:
            print(f"# refresh_seconds: {json.dumps(timings)}", file=sys.stderr)
    else:
        out: dict[str, object] = {"months": as_json_rows(metrics), "refreshed_at": str(refreshed_at(engine))}
        if timings:
            out["refresh_seconds"] = timings
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    run_cli(main)

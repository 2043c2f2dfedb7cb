"""Staff endpoints. Each backend function checks the caller's role itself (users.require_role); the
dependencies here only answer 403 early with the same rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import EngineDep, Staff
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas import BIGINT_MAX
from backend import analytics

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)

MONTH = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"
MAX_MONTHS = 120


class MetricsOut(BaseModel):
    months: list[dict]
    refreshed_at: str | None

    model_config = {"json_schema_extra": {"examples": [{"refreshed_at": "2026-11-24 03:00:00+00:00", "months": [
        {"month": "2026-10", "start_mrr": "41250.12", "end_mrr": "42010.55", "new_mrr": "2210.00",
         "active_end": 3051, "logo_churn_rate": "0.0412", "arpu": "13.77"}]}]}}


def _period(start: str, end: str) -> analytics.Period:
    try:
        period = analytics.Period(analytics.parse_month(start), analytics.parse_month(end))
    except ValueError as error:
        raise ApiError(422, "validation_error", str(error), field="query.start") from None
    if len(period.months()) > MAX_MONTHS:
        raise ApiError(422, "validation_error", f"Ask for at most {MAX_MONTHS} months at a time.", field="query.end")
    return period


@router.get("/metrics", response_model=MetricsOut, summary="Every monthly metric (the analytics CLI's table)",
            description="Admins and analysts. The same rows as `python -m backend.analytics metrics --format json`: "
                        "money and rates as exact decimal strings, counts as numbers, null when not defined.")
def metrics(db: EngineDep, me: Staff,
            start: Annotated[str, Query(pattern=MONTH, description="First month, YYYY-MM.", examples=["2026-01"])],
            end: Annotated[str, Query(pattern=MONTH, description="Last month, YYYY-MM.", examples=["2026-10"])],
            plan_id: Annotated[list[Annotated[int, Query(ge=1, le=BIGINT_MAX)]], Query(max_length=20)] = (),
            country: Annotated[list[Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")]], Query(max_length=50)] = (),
            ) -> MetricsOut:
    filters = analytics.Filters(tuple(plan_id), tuple(c.upper() for c in country))
    table = analytics.monthly_metrics(db, _period(start, end), filters, acting_user_id=me.user_id)
    refreshed = analytics.refreshed_at(db)
    return MetricsOut(months=analytics.as_json_rows(table), refreshed_at=str(refreshed) if refreshed else None)



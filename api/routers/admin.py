"""Staff endpoints. Each backend function checks the caller's role itself (users.require_role); the
dependencies here only answer 403 early with the same rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from api.deps import Admin, EngineDep, IdempotencyKey, Staff, idempotent
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas import BIGINT_MAX, PlanIdPath, text_field
from backend.admin import accounts as account_admin
from backend.admin import content as content_admin
from backend.admin import plans as plan_admin
from backend.analytics import reading, revenue_metrics, revenue_rollups, selection
from backend.catalogue.rules import AccessLevel

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)

MONTH = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"
MAX_MONTHS = 120


class MetricsOut(BaseModel):
    months: list[dict]
    refreshed_at: str | None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "refreshed_at": "2026-11-24 03:00:00+00:00",
                    "months": [
                        {
                            "month": "2026-10",
                            "start_mrr": "41250.12",
                            "end_mrr": "42010.55",
                            "new_mrr": "2210.00",
                            "active_end": 3051,
                            "logo_churn_rate": "0.0412",
                            "arpu": "13.77",
                        }
                    ],
                }
            ]
        }
    }


def _period(start: str, end: str) -> selection.Period:
    try:
        period = selection.Period(selection.parse_month(start), selection.parse_month(end))
    except ValueError as error:
        raise ApiError(422, "validation_error", str(error), field="query.start") from None
    if len(period.months()) > MAX_MONTHS:
        raise ApiError(422, "validation_error", f"Ask for at most {MAX_MONTHS} months at a time.", field="query.end")
    return period


@router.get(
    "/metrics",
    response_model=MetricsOut,
    summary="Every monthly metric (the analytics CLI's table)",
    description="Admins and analysts. The same rows as `python -m backend.analytics metrics --format json`: "
    "money and rates as exact decimal strings, counts as numbers, null when not defined.",
)
def metrics(
    db: EngineDep,
    me: Staff,
    start: Annotated[str, Query(pattern=MONTH, description="First month, YYYY-MM.", examples=["2026-01"])],
    end: Annotated[str, Query(pattern=MONTH, description="Last month, YYYY-MM.", examples=["2026-10"])],
    plan_id: Annotated[Sequence[Annotated[int, Query(ge=1, le=BIGINT_MAX)]], Query(max_length=20)] = (),
    country: Annotated[Sequence[Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")]], Query(max_length=50)] = (),
) -> MetricsOut:
    filters = selection.Filters(tuple(plan_id), tuple(c.upper() for c in country))
    table = revenue_metrics.monthly_metrics(db, _period(start, end), filters, acting_user_id=me.user_id)
    refreshed = revenue_rollups.refreshed_at(db)
    return MetricsOut(months=reading.as_json_rows(table), refreshed_at=str(refreshed) if refreshed else None)


# --- plans -----------------------------------------------------------------------------------------------


class PlanIn(BaseModel):
    name: Annotated[str, text_field(200)] = Field(examples=["Mobile"])
    price: Annotated[Decimal, Field(max_digits=12, decimal_places=2, gt=0, examples=["4.99"])]
    billing_period: Literal["month", "year"] = "month"
    validity_days: Annotated[int, Field(ge=1, le=400)] = 31
    max_streams: Annotated[int, Field(ge=1, le=10)] = 1
    resolution: Literal["480p", "720p", "1080p", "4K"] = "1080p"
    access_level: AccessLevel = AccessLevel.BASIC
    description: Annotated[str, text_field(2000)] = ""

    def entry(self) -> plan_admin.PlanInput:
        return plan_admin.PlanInput(**self.model_dump())


class Created(BaseModel):
    id: int
    show_id: str | None = None


class Changed(BaseModel):
    changed: dict = Field(description="The fields that changed, with their new values (empty: nothing to do).")


class Done(BaseModel):
    done: bool = True


@router.get("/plans", summary="Every plan, on sale or not, with subscriber counts")
def list_plans(db: EngineDep, me: Admin) -> list[dict]:
    return plan_admin.list_plans(db, acting_user_id=me.user_id)


@router.post("/plans", status_code=201, response_model=Created, summary="Create a plan (on sale at once)")
def create_plan(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, body: PlanIn):
    return idempotent(
        request,
        db,
        me,
        key,
        body,
        status=201,
        work=lambda: Created(id=plan_admin.create_plan(db, body.entry(), acting_user_id=me.user_id)),
    )


@router.put("/plans/{plan_id}", response_model=Changed, summary="Edit a plan (a new price applies from renewals)")
def update_plan(db: EngineDep, me: Admin, plan_id: PlanIdPath, body: PlanIn) -> Changed:
    return Changed(changed=plan_admin.update_plan(db, plan_id, body.entry(), acting_user_id=me.user_id))


@router.post("/plans/{plan_id}/deactivate", response_model=Done, summary="Take a plan off sale (subscribers keep it)")
def deactivate_plan(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, plan_id: PlanIdPath):
    def work() -> Done:
        plan_admin.set_plan_active(db, plan_id, False, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.post("/plans/{plan_id}/activate", response_model=Done, summary="Put a plan back on sale")
def activate_plan(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, plan_id: PlanIdPath):
    def work() -> Done:
        plan_admin.set_plan_active(db, plan_id, True, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.delete("/plans/{plan_id}", status_code=204, summary="Delete a plan nobody ever subscribed to")
def delete_plan(db: EngineDep, me: Admin, plan_id: PlanIdPath) -> Response:
    plan_admin.delete_plan(db, plan_id, acting_user_id=me.user_id)
    return Response(status_code=204)


# --- content ---------------------------------------------------------------------------------------------

TitleIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="A title's id (title_id).")]


class TitleIn(BaseModel):
    title: Annotated[str, text_field(400)] = Field(examples=["The Lighthouse Keeper"])
    kind: Literal["movie", "tv_show"] = "movie"
    description: Annotated[str, text_field(4000)] = ""
    release_year: Annotated[int, Field(ge=1880, le=2100)] = 2024
    maturity_rating: Annotated[str, text_field(10)] = Field("", examples=["PG-13"])
    access_level: AccessLevel = AccessLevel.BASIC
    duration_minutes: Annotated[int | None, Field(ge=1, le=1000, description="Films.")] = None
    seasons: Annotated[int | None, Field(ge=1, le=60, description="Series.")] = None
    genres: Annotated[list[Annotated[str, text_field(120)]], Field(min_length=1, max_length=20, examples=[["Dramas"]])]
    date_added: Annotated[date | None, Field(ge=date(1900, 1, 1), le=date(2100, 12, 31))] = None

    def entry(self) -> content_admin.TitleInput:
        return content_admin.TitleInput(**self.model_dump())


@router.get("/titles", summary="Find titles, active or not")
def find_titles(
    db: EngineDep,
    me: Admin,
    q: Annotated[str, text_field(200), Query()] = "",
    status: Literal["all", "active", "inactive", "edited"] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict]:
    return content_admin.find_titles(db, q, acting_user_id=me.user_id, status=status, limit=limit)


@router.get("/titles/{title_id}", summary="A title as the admin edits it")
def get_title(db: EngineDep, me: Admin, title_id: TitleIdPath) -> dict:
    return content_admin.get_title(db, title_id, acting_user_id=me.user_id)


@router.post("/titles", status_code=201, response_model=Created, summary="Add a title (active at once)")
def create_title(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, body: TitleIn):
    def work() -> Created:
        made = content_admin.create_title(db, body.entry(), acting_user_id=me.user_id)
        return Created(id=made["title_id"], show_id=made["show_id"])

    return idempotent(request, db, me, key, body, work, status=201)


@router.put("/titles/{title_id}", response_model=Changed, summary="Edit a title (its type stays)")
def update_title(db: EngineDep, me: Admin, title_id: TitleIdPath, body: TitleIn) -> Changed:
    return Changed(changed=content_admin.update_title(db, title_id, body.entry(), acting_user_id=me.user_id))


@router.post("/titles/{title_id}/deactivate", response_model=Done, summary="Take a title out of the catalogue")
def deactivate_title(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, title_id: TitleIdPath):
    def work() -> Done:
        content_admin.set_title_active(db, title_id, False, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.post("/titles/{title_id}/activate", response_model=Done, summary="Bring a title back")
def activate_title(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, title_id: TitleIdPath):
    def work() -> Done:
        content_admin.set_title_active(db, title_id, True, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


# --- accounts --------------------------------------------------------------------------------------------

UserIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="An account's id.")]


class AccountOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: str
    created_at: datetime
    suspended_at: datetime | None
    is_seeded: bool


class RoleIn(BaseModel):
    role: Literal["subscriber", "admin", "analyst"]


@router.get("/users", response_model=list[AccountOut], summary="Find accounts by email, name or id")
def search_users(
    db: EngineDep,
    me: Admin,
    q: Annotated[str, text_field(200), Query()] = "",
    role: Literal["", "subscriber", "admin", "analyst"] = "",
    suspended: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[AccountOut]:
    rows = account_admin.search_users(
        db, q, acting_user_id=me.user_id, role=role, suspended_only=suspended, limit=limit
    )
    return [AccountOut(**asdict(r)) for r in rows]


@router.get("/users/{user_id}", summary="One account: details, profiles, subscription, billing, recent viewing")
def account_page(db: EngineDep, me: Admin, user_id: UserIdPath) -> dict:
    return account_admin.account_page(db, user_id, acting_user_id=me.user_id)


@router.post(
    "/users/{user_id}/suspend",
    response_model=Done,
    summary="Suspend an account (its sessions, API ones included, end at once)",
)
def suspend(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, user_id: UserIdPath):
    def work() -> Done:
        account_admin.suspend(db, user_id, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.post("/users/{user_id}/restore", response_model=Done, summary="Lift a suspension")
def restore(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, user_id: UserIdPath):
    def work() -> Done:
        account_admin.restore(db, user_id, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.put("/users/{user_id}/role", response_model=Done, summary="Change an account's role (not your own)")
def change_role(db: EngineDep, me: Admin, user_id: UserIdPath, body: RoleIn) -> Done:
    account_admin.change_role(db, user_id, body.role, acting_user_id=me.user_id)
    return Done()

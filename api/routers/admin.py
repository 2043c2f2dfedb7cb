"""Staff endpoints. Each backend function checks the caller's role itself (users.require_role); the
dependencies here only answer 403 early with the same rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from api.deps import Admin, EngineDep, IdempotencyKey, Staff, idempotent
from api.errors import ApiError
from api.openapi import refuses
from api.pages import Page, PagingDep
from api.routers.admin_schemas import (
    AccountOut,
    AccountPageOut,
    AdminPlanOut,
    AdminTitleOut,
    Changed,
    Created,
    Done,
    PlanChangedOut,
    PlanIn,
    PlanPatch,
    PlanPut,
    RoleIn,
    TitleIn,
    TitlePatch,
    TitlePut,
    TitleRowOut,
)
from api.schemas import BIGINT_MAX, PlanIdPath, text_field
from backend.admin import accounts as account_admin
from backend.admin import checks as admin_checks
from backend.admin import content as content_admin
from backend.admin import plans as plan_admin
from backend.analytics import reading, revenue_metrics, revenue_rollups, selection
from backend.billing.errors import PlanNotFound

router = APIRouter(prefix="/v1/admin", tags=["admin"])

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
    "money (rounded half-up to the cent) and rates as exact decimal strings, counts as numbers, null when not "
    "defined; `month_to_date` marks the month not over yet, and `trial_conversion_pending` / "
    "`recovery_rate_pending` a figure whose outcome is still open (then null, never 0). "
    + revenue_metrics.PLAN_FILTER_RULE,
)
def admin_metrics(
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

PLAN_INPUT = (admin_checks.AdminError, admin_checks.PlanNameTaken)


@router.get("/plans", response_model=Page[AdminPlanOut], summary="Every plan, on sale or not, with subscriber counts")
def admin_list_plans(db: EngineDep, me: Admin, paging: PagingDep) -> dict:
    return paging.cut([AdminPlanOut(**p) for p in plan_admin.list_plans(db, acting_user_id=me.user_id)])


@router.get("/plans/{plan_id}", response_model=AdminPlanOut, summary="One plan, with its subscriber counts")
@refuses(PlanNotFound)
def admin_get_plan(db: EngineDep, me: Admin, plan_id: PlanIdPath) -> AdminPlanOut:
    return AdminPlanOut(**plan_admin.get_plan(db, plan_id, acting_user_id=me.user_id))


@router.post(
    "/plans",
    status_code=201,
    response_model=Created,
    summary="Create a plan (on sale at once unless is_active is false)",
)
@refuses(*PLAN_INPUT)
def admin_create_plan(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, body: PlanIn):
    return idempotent(
        request,
        db,
        me,
        key,
        body,
        status=201,
        work=lambda: Created(id=plan_admin.create_plan(db, body.entry(), acting_user_id=me.user_id)),
    )


def _plan_changed(db, me, plan_id: int, changes: dict) -> PlanChangedOut:
    change = plan_admin.change_plan(db, plan_id, changes, acting_user_id=me.user_id)
    return PlanChangedOut(
        changed=change.changed,
        live_subscribers=change.live_subscribers,
        plan=AdminPlanOut(**plan_admin.get_plan(db, plan_id, acting_user_id=me.user_id)),
    )


@router.put(
    "/plans/{plan_id}",
    response_model=PlanChangedOut,
    summary="Replace a plan (every field); subscribers get the change from their next renewal",
)
@refuses(PlanNotFound, *PLAN_INPUT, admin_checks.LastPlanOnSale)
def admin_replace_plan(db: EngineDep, me: Admin, plan_id: PlanIdPath, body: PlanPut) -> PlanChangedOut:
    return _plan_changed(db, me, plan_id, body.model_dump())


@router.patch(
    "/plans/{plan_id}",
    response_model=PlanChangedOut,
    summary="Change some of a plan's fields (only those sent); subscribers get the change from their next renewal",
)
@refuses(PlanNotFound, *PLAN_INPUT, admin_checks.LastPlanOnSale)
def admin_update_plan(db: EngineDep, me: Admin, plan_id: PlanIdPath, body: PlanPatch) -> PlanChangedOut:
    return _plan_changed(db, me, plan_id, body.model_dump(exclude_unset=True))


@router.post("/plans/{plan_id}/deactivate", response_model=Done, summary="Take a plan off sale (subscribers keep it)")
@refuses(PlanNotFound, admin_checks.LastPlanOnSale)
def admin_deactivate_plan(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, plan_id: PlanIdPath):
    def work() -> Done:
        plan_admin.set_plan_active(db, plan_id, False, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.post("/plans/{plan_id}/activate", response_model=Done, summary="Put a plan back on sale")
@refuses(PlanNotFound)
def admin_activate_plan(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, plan_id: PlanIdPath):
    def work() -> Done:
        plan_admin.set_plan_active(db, plan_id, True, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.delete("/plans/{plan_id}", status_code=204, summary="Delete a plan nobody ever subscribed to")
@refuses(PlanNotFound, admin_checks.PlanHasSubscribers)
def admin_delete_plan(db: EngineDep, me: Admin, plan_id: PlanIdPath) -> Response:
    plan_admin.delete_plan(db, plan_id, acting_user_id=me.user_id)
    return Response(status_code=204)


# --- content ---------------------------------------------------------------------------------------------

TitleIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="A title's id (title_id).")]


@router.get("/titles", response_model=Page[TitleRowOut], summary="Find titles, active or not")
def admin_find_titles(
    db: EngineDep,
    me: Admin,
    paging: PagingDep,
    q: Annotated[str, text_field(200), Query()] = "",
    status: Literal["all", "active", "inactive", "edited"] = "all",
) -> dict:
    rows, total = content_admin.find_titles_page(
        db, q, acting_user_id=me.user_id, status=status, limit=paging.page_size, offset=paging.offset
    )
    return paging.of([TitleRowOut(**r) for r in rows], total)


@router.get("/titles/{title_id}", response_model=AdminTitleOut, summary="A title as the admin edits it")
@refuses(admin_checks.TitleNotFound)
def admin_get_title(db: EngineDep, me: Admin, title_id: TitleIdPath) -> AdminTitleOut:
    return AdminTitleOut(**content_admin.get_title(db, title_id, acting_user_id=me.user_id))


@router.post("/titles", status_code=201, response_model=Created, summary="Add a title (active at once)")
@refuses(admin_checks.AdminError)
def admin_create_title(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, body: TitleIn):
    def work() -> Created:
        made = content_admin.create_title(db, body.entry(), acting_user_id=me.user_id)
        return Created(id=made["title_id"], show_id=made["show_id"])

    return idempotent(request, db, me, key, body, work, status=201)


@router.put(
    "/titles/{title_id}", response_model=Changed, summary="Replace a title's fields (every field; its type stays)"
)
@refuses(admin_checks.TitleNotFound, admin_checks.AdminError)
def admin_replace_title(db: EngineDep, me: Admin, title_id: TitleIdPath, body: TitlePut) -> Changed:
    return Changed(changed=content_admin.patch_title(db, title_id, body.model_dump(), acting_user_id=me.user_id))


@router.patch("/titles/{title_id}", response_model=Changed, summary="Change some of a title's fields (only those sent)")
@refuses(admin_checks.TitleNotFound, admin_checks.AdminError)
def admin_update_title(db: EngineDep, me: Admin, title_id: TitleIdPath, body: TitlePatch) -> Changed:
    changes = body.model_dump(exclude_unset=True)
    return Changed(changed=content_admin.patch_title(db, title_id, changes, acting_user_id=me.user_id))


@router.delete(
    "/titles/{title_id}",
    status_code=204,
    summary="Delete a title: hidden from the catalogue, its viewing history and ratings kept (again: no change)",
)
@refuses(admin_checks.TitleNotFound)
def admin_delete_title(db: EngineDep, me: Admin, title_id: TitleIdPath) -> Response:
    content_admin.delete_title(db, title_id, acting_user_id=me.user_id)
    return Response(status_code=204)


@router.post("/titles/{title_id}/deactivate", response_model=Done, summary="Take a title out of the catalogue")
@refuses(admin_checks.TitleNotFound, admin_checks.TitleStateUnchanged)
def admin_deactivate_title(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, title_id: TitleIdPath):
    def work() -> Done:
        content_admin.set_title_active(db, title_id, False, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.post("/titles/{title_id}/activate", response_model=Done, summary="Bring a title back")
@refuses(admin_checks.TitleNotFound, admin_checks.TitleStateUnchanged)
def admin_activate_title(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, title_id: TitleIdPath):
    def work() -> Done:
        content_admin.set_title_active(db, title_id, True, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


# --- accounts --------------------------------------------------------------------------------------------

UserIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="An account's id.")]


@router.get("/users", response_model=Page[AccountOut], summary="Find accounts by email, name or id")
def admin_search_users(
    db: EngineDep,
    me: Admin,
    paging: PagingDep,
    q: Annotated[str, text_field(200), Query()] = "",
    role: Literal["", "subscriber", "admin", "analyst"] = "",
    suspended: bool = False,
) -> dict:
    rows, total = account_admin.search_users_page(
        db,
        q,
        acting_user_id=me.user_id,
        role=role,
        suspended_only=suspended,
        limit=paging.page_size,
        offset=paging.offset,
    )
    return paging.of([AccountOut(**asdict(r)) for r in rows], total)


@router.get(
    "/users/{user_id}",
    response_model=AccountPageOut,
    summary="One account: details, profiles, subscription, billing, recent viewing",
)
@refuses(admin_checks.AccountNotFound)
def admin_account_page(db: EngineDep, me: Admin, user_id: UserIdPath) -> AccountPageOut:
    return AccountPageOut(**account_admin.account_page(db, user_id, acting_user_id=me.user_id))


ACCOUNT_CHANGE = (admin_checks.AccountNotFound, admin_checks.OwnAccount, admin_checks.AccountStateUnchanged)


@router.post(
    "/users/{user_id}/suspend",
    response_model=Done,
    summary="Suspend an account (its sessions, API ones included, end at once)",
)
@refuses(*ACCOUNT_CHANGE)
def admin_suspend(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, user_id: UserIdPath):
    def work() -> Done:
        account_admin.suspend(db, user_id, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.post("/users/{user_id}/restore", response_model=Done, summary="Lift a suspension")
@refuses(*ACCOUNT_CHANGE)
def admin_restore(request: Request, db: EngineDep, me: Admin, key: IdempotencyKey, user_id: UserIdPath):
    def work() -> Done:
        account_admin.restore(db, user_id, acting_user_id=me.user_id)
        return Done()

    return idempotent(request, db, me, key, None, work)


@router.put("/users/{user_id}/role", response_model=Done, summary="Change an account's role (not your own)")
@refuses(admin_checks.AccountNotFound, admin_checks.OwnAccount, admin_checks.AdminError)
def admin_change_role(db: EngineDep, me: Admin, user_id: UserIdPath, body: RoleIn) -> Done:
    account_admin.change_role(db, user_id, body.role, acting_user_id=me.user_id)
    return Done()

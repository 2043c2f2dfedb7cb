"""The admin endpoints' request and response models. Requests refuse unknown fields; a PUT needs every
field, a PATCH takes any of them (only those sent change), a POST's optional fields say their default."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.routers.subscription import PaymentOut, SubscriptionOut
from api.schemas import In, text_field
from backend.admin import content as content_admin
from backend.admin import plans as plan_admin
from backend.catalogue.rules import AccessLevel

PlanName = Annotated[str, text_field(200)]
Price = Annotated[Decimal, Field(max_digits=12, decimal_places=2, gt=0, examples=["4.99"])]
ValidityDays = Annotated[
    int,
    Field(
        ge=1,
        le=400,
        description="Days one paid period lasts: 28-31 renew monthly on the same day, 365-366 yearly, "
        "anything else every that many days.",
        examples=[30],
    ),
]
Devices = Annotated[int, Field(ge=1, le=10, description="Screens that may play at once.", examples=[2])]
Resolution = Literal["480p", "720p", "1080p", "4K"]
Description = Annotated[str, text_field(2000)]


class PlanIn(In):
    """A new plan: every field of the plan model; `description` and `is_active` may be left out."""

    name: PlanName = Field(examples=["Mobile"])
    price: Price
    validity_days: ValidityDays
    access_level: AccessLevel = Field(examples=["basic"])
    max_devices_allowed: Devices
    resolution: Resolution = Field(examples=["720p"])
    description: Description = ""
    is_active: bool = Field(True, description="On sale at once (false: created off sale).")

    def entry(self) -> plan_admin.PlanInput:
        return plan_admin.PlanInput(**self.model_dump())


class PlanPut(In):
    """A plan's every field (a PUT replaces the plan)."""

    name: PlanName
    price: Price
    validity_days: ValidityDays
    access_level: AccessLevel
    max_devices_allowed: Devices
    resolution: Resolution
    description: Description
    is_active: bool


class PlanPatch(In):
    """Any of a plan's fields; those left out stay as they are."""

    name: PlanName | None = None
    price: Price | None = None
    validity_days: ValidityDays | None = None
    access_level: AccessLevel | None = None
    max_devices_allowed: Devices | None = None
    resolution: Resolution | None = None
    description: Description | None = None
    is_active: bool | None = None


class AdminPlanOut(BaseModel):
    plan_id: int
    name: str
    price: Decimal
    currency: str
    validity_days: int
    billing_period: str
    access_level: str
    max_devices_allowed: int
    resolution: str
    description: str
    is_active: bool
    updated_at: datetime
    live_subscribers: int
    subscribers_ever: int


class PlanChangedOut(BaseModel):
    changed: dict = Field(description="The fields that changed, with their new values (empty: nothing to do).")
    live_subscribers: int = Field(
        description="Live subscribers of the plan: they keep the terms of their current period and get the "
        "changed plan from their next renewal (they are told then)."
    )
    plan: AdminPlanOut


class Created(BaseModel):
    id: int
    show_id: str | None = None


class Changed(BaseModel):
    changed: dict = Field(description="The fields that changed, with their new values (empty: nothing to do).")


class Done(BaseModel):
    done: bool = True


TitleName = Annotated[str, text_field(400)]
Year = Annotated[int, Field(ge=1880, le=2100)]
Rating = Annotated[str, text_field(10)]
Minutes = Annotated[int, Field(ge=1, le=1000, description="Films.")]
Seasons = Annotated[int, Field(ge=1, le=60, description="Series.")]
Genres = Annotated[list[Annotated[str, text_field(120)]], Field(min_length=1, max_length=20, examples=[["Dramas"]])]
Added = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2100, 12, 31))]


class TitleIn(In):
    title: TitleName = Field(examples=["The Lighthouse Keeper"])
    kind: Literal["movie", "tv_show"] = "movie"
    description: Annotated[str, text_field(4000)] = ""
    release_year: Year = 2024
    maturity_rating: Rating = Field("", examples=["PG-13"])
    access_level: AccessLevel = AccessLevel.BASIC
    duration_minutes: Minutes | None = None
    seasons: Seasons | None = None
    genres: Genres
    date_added: Added | None = None

    def entry(self) -> content_admin.TitleInput:
        return content_admin.TitleInput(**self.model_dump())


class TitlePut(In):
    """Every editable field of a title (its type stays); null where a field does not apply."""

    title: TitleName
    description: Annotated[str, text_field(4000)]
    release_year: Year
    maturity_rating: Rating
    access_level: AccessLevel
    duration_minutes: Minutes | None
    seasons: Seasons | None
    genres: Genres
    date_added: Added | None


class TitlePatch(In):
    """Any of a title's editable fields; those left out stay as they are."""

    title: TitleName | None = None
    description: Annotated[str, text_field(4000)] | None = None
    release_year: Year | None = None
    maturity_rating: Rating | None = None
    access_level: AccessLevel | None = None
    duration_minutes: Minutes | None = None
    seasons: Seasons | None = None
    genres: Genres | None = None
    date_added: Added | None = None


class TitleRowOut(BaseModel):
    title_id: int
    show_id: str
    title: str
    kind: str
    release_year: int | None
    maturity_rating: str | None
    access_level: str
    is_active: bool
    origin: str
    edited_at: datetime | None


class AdminTitleOut(TitleRowOut):
    description: str
    date_added: date | None
    audience: str
    duration_minutes: int | None
    seasons: int | None
    genres: list[str]


class AccountOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: str
    created_at: datetime
    suspended_at: datetime | None
    is_seeded: bool


class AccountDetailOut(AccountOut):
    country_code: str | None
    phone_e164: str | None
    tokens_valid_after: datetime | None


class AccountProfileOut(BaseModel):
    profile_id: int
    name: str
    is_kids: bool
    maturity_cap: str | None


class ViewingOut(BaseModel):
    started_at: datetime
    profile: str
    title: str
    season: int | None
    episode: int | None
    device: str | None
    minutes_watched: Decimal
    completed: bool


class AccountPageOut(BaseModel):
    account: AccountDetailOut
    profiles: list[AccountProfileOut]
    subscription: SubscriptionOut | None
    billing: list[PaymentOut]
    viewing: list[ViewingOut]


class RoleIn(In):
    role: Literal["subscriber", "admin", "analyst"]

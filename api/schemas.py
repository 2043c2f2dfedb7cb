"""Request and response models shared by the routers (they make /openapi.json and /docs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints


# Text the database can store (no NUL characters), of a bounded length: `Annotated[str, text_field(80)]`
# (the constraints, not the type, so that type checkers see a plain `str`).
def text_field(max_length: int, *, min_length: int = 0) -> StringConstraints:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=r"^[^\x00]*$")


Email: TypeAlias = Annotated[str, text_field(254)]
Password: TypeAlias = Annotated[str, text_field(200)]
Name: TypeAlias = Annotated[str, text_field(80)]
BIGINT_MAX = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
SHOW_ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
PlanIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="A plan's id.", examples=[1])]
ShowIdPath = Annotated[str, Path(pattern=SHOW_ID_PATTERN, description="The catalogue's show id.", examples=["s1"])]


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """A request body: a field it does not name is refused (422 `unknown_field`), never ignored."""

    model_config = ConfigDict(extra="forbid")


class EpisodeOut(BaseModel):
    episode_id: int
    season_number: int
    episode_number: int
    name: str
    duration_minutes: int


class UserOut(Model):
    user_id: int
    email: str
    display_name: str
    role: str


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Opaque; exchange it at POST /v1/auth/refresh (it is rotated).")
    refresh_expires_at: datetime
    user: UserOut

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "42.1017.Zk3...",
                    "refresh_expires_at": "2026-12-24T19:00:00Z",
                    "user": {
                        "user_id": 42,
                        "email": "ada@example.com",
                        "display_name": "Ada Lovelace",
                        "role": "subscriber",
                    },
                }
            ]
        }
    )


class PlanOut(Model):
    plan_id: int
    name: str
    price: Decimal
    currency: str
    validity_days: int = Field(
        description="Days one paid period lasts: 28-31 renew monthly on the same day of the month, 365-366 yearly "
        "on the same date, any other number every that many days."
    )
    billing_period: str = Field(description="The unit `validity_days` bills by: month, year or day.")
    access_level: str = Field(description="free < basic < premium: the plan plays titles of its level and lower.")
    max_devices_allowed: int = Field(description="Screens that may play at once.")
    resolution: str
    description: str
    is_active: bool = Field(description="On sale.")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "plan_id": 2,
                    "name": "Standard",
                    "price": "13.99",
                    "currency": "USD",
                    "validity_days": 30,
                    "billing_period": "month",
                    "access_level": "premium",
                    "max_devices_allowed": 2,
                    "resolution": "1080p",
                    "description": "Two screens in Full HD. Every title, the newest included.",
                    "is_active": True,
                }
            ]
        },
    )

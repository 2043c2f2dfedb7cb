"""The signed-in member: account details, viewing profiles, notifications."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import EngineDep, IdempotencyKey, Me, idempotent
from api.errors import ERROR_RESPONSES
from api.schemas import Model, Name, text_field
from backend.accounts import details, users
from backend.accounts import profiles as viewing_profiles
from backend.core.errors import NotAuthorised
from backend.notify import notifications

router = APIRouter(prefix="/v1/me", tags=["account"], responses=ERROR_RESPONSES)


class MeOut(Model):
    user_id: int
    email: str
    display_name: str
    role: str
    bio: str
    phone_e164: str | None
    has_avatar: bool


class MeUpdate(BaseModel):
    name: Name = Field(examples=["Ada Lovelace"])
    bio: Annotated[str, text_field(details.MAX_BIO_LENGTH)] = Field("", examples=["Mostly documentaries."])
    phone: Annotated[str, text_field(40)] = Field(
        "", description="With its country code; empty to remove.", examples=["+44 20 7946 0958"]
    )


class ProfileOut(Model):
    profile_id: int
    name: str
    is_kids: bool
    maturity_cap: str | None


class ProfileIn(BaseModel):
    name: Annotated[str, text_field(30, min_length=1)] = Field(examples=["Kids"])
    is_kids: bool = False


class NotificationOut(Model):
    notification_id: int
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class Notifications(BaseModel):
    unread: int
    items: list[NotificationOut]


def _me(db, user: users.User) -> MeOut:
    return MeOut(user_id=user.user_id, role=user.role, **asdict(details.details(db, user.user_id)))


@router.get("", response_model=MeOut, summary="My account")
def read_me(db: EngineDep, me: Me) -> MeOut:
    return _me(db, me.user)


@router.patch("", response_model=MeOut, summary="Update my name, bio and phone")
def update_me(db: EngineDep, me: Me, body: MeUpdate) -> MeOut:
    details.update_details(db, me.user_id, name=body.name, bio=body.bio, phone=body.phone)
    user = users.get_user(db, me.user_id)
    if user is None:  # the account was removed meanwhile
        raise NotAuthorised("You do not have access to this.")
    return _me(db, user)


@router.get("/profiles", response_model=list[ProfileOut], summary="My viewing profiles")
def list_profiles(db: EngineDep, me: Me) -> list[ProfileOut]:
    return [ProfileOut.model_validate(p) for p in viewing_profiles.list_profiles(db, me.user_id)]


@router.post("/profiles", status_code=201, response_model=ProfileOut, summary="Add a viewing profile")
def create_profile(request: Request, db: EngineDep, me: Me, key: IdempotencyKey, body: ProfileIn):
    return idempotent(
        request,
        db,
        me,
        key,
        body,
        status=201,
        work=lambda: ProfileOut.model_validate(
            viewing_profiles.create_profile(db, me.user_id, body.name, is_kids=body.is_kids)
        ),
    )


@router.get("/notifications", response_model=Notifications, summary="My notifications, newest first")
def list_notifications(db: EngineDep, me: Me) -> Notifications:
    return Notifications(
        unread=notifications.unread_count(db, me.user_id),
        items=[NotificationOut(**n) for n in notifications.recent(db, me.user_id)],
    )


class Marked(BaseModel):
    marked: int


@router.post("/notifications/read", response_model=Marked, summary="Mark all my notifications read")
def mark_read(request: Request, db: EngineDep, me: Me, key: IdempotencyKey):
    return idempotent(
        request,
        db,
        me,
        key,
        None,
        work=lambda: Marked(marked=notifications.mark_all_read(db, me.user_id, datetime.now(UTC))),
    )

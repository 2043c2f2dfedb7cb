"""The signed-in member: account details, avatar, viewing profiles, notifications."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.deps import EngineDep, IdempotencyKey, Me, idempotent
from api.errors import Case
from api.openapi import refuses
from api.pages import Page, PagingDep
from api.schemas import In, Model, Name, text_field
from backend.accounts import details, users
from backend.accounts import errors as account_errors
from backend.accounts import profiles as viewing_profiles
from backend.core.errors import NotAuthorised
from backend.notify import notifications

router = APIRouter(prefix="/v1/me", tags=["account"])

AVATAR_TYPES = ("image/png", "image/jpeg", "image/webp")


class MeOut(Model):
    user_id: int
    email: str
    display_name: str
    role: str
    bio: str
    phone_e164: str | None
    has_avatar: bool


class MeUpdate(In):
    """Only the fields sent change."""

    name: Name | None = Field(None, examples=["Ada Lovelace"])
    bio: Annotated[str, text_field(details.MAX_BIO_LENGTH)] | None = Field(None, examples=["Mostly documentaries."])
    phone: Annotated[str, text_field(40)] | None = Field(
        None, description="With its country code; empty to remove.", examples=["+44 20 7946 0958"]
    )


class ProfileOut(Model):
    profile_id: int
    name: str
    is_kids: bool
    maturity_cap: str | None


class ProfileIn(In):
    name: Annotated[str, text_field(30, min_length=1)] = Field(examples=["Kids"])
    is_kids: bool = False


class NotificationOut(Model):
    notification_id: int
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationsPage(Page[NotificationOut]):
    unread: int = Field(description="How many of all the notifications are unread.")


def _me(db, user: users.User) -> MeOut:
    return MeOut(user_id=user.user_id, role=user.role, **asdict(details.details(db, user.user_id)))


@router.get("", response_model=MeOut, summary="My account")
def read_me(db: EngineDep, me: Me) -> MeOut:
    return _me(db, me.user)


@router.patch("", response_model=MeOut, summary="Update my name, bio or phone (only the fields sent)")
@refuses(account_errors.AccountError)
def update_me(db: EngineDep, me: Me, body: MeUpdate) -> MeOut:
    details.update_details(db, me.user_id, **body.model_dump(exclude_unset=True))
    user = users.get_user(db, me.user_id)
    if user is None:  # the account was removed meanwhile
        raise NotAuthorised("You do not have access to this.")
    return _me(db, user)


NO_AVATAR = Case(404, account_errors.NoAvatar.code, "The account has no picture.")
AVATAR_BODY = {
    "requestBody": {
        "required": True,
        "description": f"The picture's bytes (PNG, JPEG or WebP, at most {details.MAX_AVATAR_BYTES // 1_048_576} MB).",
        "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in AVATAR_TYPES},
    }
}


@router.put("/avatar", status_code=204, summary="Upload my picture (replaces it)", openapi_extra=AVATAR_BODY)
@refuses(account_errors.AccountError)
async def put_avatar(request: Request, db: EngineDep, me: Me) -> Response:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > details.MAX_AVATAR_BYTES:
            break  # too big: refused below without reading the rest
    details.set_avatar(db, me.user_id, bytes(data))
    return Response(status_code=204)


@router.get(
    "/avatar",
    response_class=Response,
    summary="My picture",
    responses={200: {"content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in AVATAR_TYPES}}},
)
@refuses(NO_AVATAR)
def get_avatar(db: EngineDep, me: Me) -> Response:
    found = details.avatar_with_type(db, me.user_id)
    if found is None:
        raise account_errors.NoAvatar("You have no picture yet: PUT one to /v1/me/avatar.")
    data, kind = found
    return Response(data, media_type=kind, headers={"Cache-Control": "private, no-cache"})


@router.delete("/avatar", status_code=204, summary="Remove my picture (nothing to remove: no change)")
def delete_avatar(db: EngineDep, me: Me) -> Response:
    details.remove_avatar(db, me.user_id)
    return Response(status_code=204)


@router.get("/profiles", response_model=Page[ProfileOut], summary="My viewing profiles")
def list_profiles(db: EngineDep, me: Me, paging: PagingDep) -> dict:
    return paging.cut([ProfileOut.model_validate(p) for p in viewing_profiles.list_profiles(db, me.user_id)])


@router.post("/profiles", status_code=201, response_model=ProfileOut, summary="Add a viewing profile")
@refuses(account_errors.AccountError, account_errors.ProfileLimit, account_errors.ProfileNameTaken)
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


@router.get("/notifications", response_model=NotificationsPage, summary="My notifications, newest first")
def list_notifications(db: EngineDep, me: Me, paging: PagingDep) -> dict:
    recent = notifications.recent(db, me.user_id, limit=notifications_limit(paging))
    page = paging.cut([NotificationOut(**n) for n in recent])
    if len(recent) == notifications_limit(paging):  # there may be more than were read: count them
        page = paging.of(page["items"], notifications.count(db, me.user_id))
    return page | {"unread": notifications.unread_count(db, me.user_id)}


def notifications_limit(paging) -> int:
    return paging.offset + paging.page_size + 1


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

"""Watching: start a play (access and screen-limit checks are backend.watching's), report the position,
stop; the account's live streams; a profile's Continue Watching. Trailers are open to everyone.

Starting a play is a POST with an Idempotency-Key (a retried start returns the same stream). Reporting the
position is a PUT (setting it twice is harmless) and stopping a DELETE."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from api.deps import EngineDep, IdempotencyKey, Me, idempotent
from api.errors import STATUS_BY_KIND, ApiError, Case
from api.openapi import refuses
from api.pages import Page, PagingDep
from api.schemas import BIGINT_MAX, SHOW_ID_PATTERN, EpisodeOut, Id, In, ShowIdPath, text_field
from backend.accounts import profiles as viewing_profiles
from backend.watching import access as watch_access
from backend.watching import media, playable
from backend.watching import progress as watch_progress
from backend.watching import streams as streaming

router = APIRouter(tags=["watching"])

PROFILE_NOT_FOUND = Case(404, "profile_not_found", "You have no viewing profile with this id.")
TITLE_NOT_FOUND = Case(404, "title_not_found", "There is no title with this id in the catalogue.")
EPISODE_NOT_FOUND = Case(404, "episode_not_found", "This title has no episode with this id.")
STREAM_NOT_FOUND = Case(404, "stream_not_found", "You have no live stream with this id.")
NOT_IN_ROW = Case(404, "not_in_continue_watching", "This title is not in the profile's Continue Watching.")
PLAYBACK_REFUSALS = tuple(
    Case(STATUS_BY_KIND[kind], f"playback_{reason}", f"Playback refused ({reason.replace('_', ' ')}): see `details`.")
    for reason, kind in watch_access.REASONS.items()
    if reason not in ("guest", "stopped")
)

LeasePath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The stream's id (from POST /v1/me/playback).")]
ProfilePath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="One of my viewing profiles.")]


def my_profile(db, me, profile_id: int) -> viewing_profiles.Profile:
    """The member's own profile with this id; 404 otherwise (another account's profile included)."""
    found = next((p for p in viewing_profiles.list_profiles(db, me.user_id) if p.profile_id == profile_id), None)
    if found is None:
        raise ApiError(404, PROFILE_NOT_FOUND.code, PROFILE_NOT_FOUND.description, field="profile_id")
    return found


def watch_title(db, show_id: str) -> playable.WatchTitle:
    title = playable.find_title(db, show_id)
    if title is None:
        raise ApiError(404, TITLE_NOT_FOUND.code, TITLE_NOT_FOUND.description, field="show_id")
    return title


class StartIn(In):
    profile_id: Id = Field(examples=[1])
    show_id: Annotated[str, Field(pattern=SHOW_ID_PATTERN, examples=["s1"])]
    episode_id: Id | None = Field(None, description="For a series: the episode (default: where the profile is).")
    device_id: Annotated[
        str,
        Field(
            min_length=8,
            max_length=64,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="A stable id of this device (a new play here replaces its stream).",
            examples=["phone-8c1d2f"],
        ),
    ]
    device_label: Annotated[str, text_field(120)] = Field("API client", examples=["Ada's phone"])


class SessionOut(BaseModel):
    lease_id: int
    title_id: int
    show_id: str
    episode: EpisodeOut | None
    position_seconds: int = Field(description="Where to start (the saved position, or 0).")
    duration_seconds: int
    media_url: str = Field(
        description="The sample clip standing in for the title (served under /static/generated/ "
        "once `python -m backend.watching.media` has generated it)."
    )
    report_every_seconds: int = streaming.REPORT_EVERY_SECONDS


class PositionIn(In):
    position_seconds: Annotated[float, Field(ge=0, le=10_000_000, examples=[754])]
    state: Literal["playing", "paused", "ended"] = Field(
        description="What the player is doing: playing, paused (stored until the next report; a paused player "
        "keeps its screen while it reports), or ended (it reached the end).",
        examples=["paused"],
    )


class ReportOut(BaseModel):
    state: str = Field(description="playing, paused, completed, or stopped (ended elsewhere or expired: stop playing).")
    position_seconds: int
    next_episode: EpisodeOut | None


class StreamOut(BaseModel):
    lease_id: int
    device_label: str
    profile_name: str
    title: str
    started_at: datetime
    heartbeat_at: datetime
    state: str = Field(description="playing or paused.")


class ContinueOut(BaseModel):
    title_id: int
    show_id: str
    title: str
    kind: str
    release_year: int | None
    audience: str
    access_level: str
    episode_id: int | None
    season_number: int | None
    episode_number: int | None
    position_seconds: int
    duration_seconds: int
    progress: float = Field(description="How far, 0 to 1.")
    updated_at: datetime


class TrailerOut(BaseModel):
    show_id: str
    title: str
    media_url: str
    seconds: int


MEDIA_URL = "/static/generated"  # api.main mounts media.GENERATED_DIR here


def media_url(item: media.Media) -> str:
    return f"{MEDIA_URL}/{item.name}"


@router.get(
    "/v1/titles/{show_id}/trailer",
    tags=["catalogue"],
    response_model=TrailerOut,
    summary="A title's trailer (open to everyone)",
)
@refuses(TITLE_NOT_FOUND)
def trailer(db: EngineDep, show_id: ShowIdPath) -> TrailerOut:
    title = watch_title(db, show_id)
    found = media.trailer_for(title.show_id)
    return TrailerOut(show_id=title.show_id, title=title.title, media_url=media_url(found), seconds=found.seconds)


@router.post(
    "/v1/me/playback",
    status_code=201,
    response_model=SessionOut,
    summary="Start playing a title",
    description="Checks the subscription, the plan's access level, the profile's maturity and the plan's "
    "screens (409 `playback_streams` lists the devices watching). Resumes where the profile "
    "left off. Free titles play for any signed-in member, with or without a subscription.",
)
@refuses(PROFILE_NOT_FOUND, TITLE_NOT_FOUND, EPISODE_NOT_FOUND, *PLAYBACK_REFUSALS)
def start(request: Request, db: EngineDep, me: Me, key: IdempotencyKey, body: StartIn):
    def work() -> SessionOut:
        profile, title = my_profile(db, me, body.profile_id), watch_title(db, body.show_id)
        if body.episode_id is not None and body.episode_id not in {
            e.episode_id for e in playable.episodes(db, title.title_id)
        }:
            raise ApiError(404, EPISODE_NOT_FOUND.code, EPISODE_NOT_FOUND.description, field="episode_id")
        episode, position = watch_progress.resume_point(db, me.user_id, profile.profile_id, title, body.episode_id)
        session = streaming.start(db, me.user_id, profile, title, episode, position, body.device_id, body.device_label)
        return SessionOut(
            lease_id=session.lease_id,
            title_id=title.title_id,
            show_id=title.show_id,
            episode=EpisodeOut(**asdict(episode)) if episode else None,
            position_seconds=session.position_seconds,
            duration_seconds=session.duration_seconds,
            media_url=media_url(media.clip_for(title.show_id)),
        )

    return idempotent(request, db, me, key, body, work, status=201)


@router.put(
    "/v1/me/playback/{lease_id}/position",
    response_model=ReportOut,
    summary="Report where the player is and whether it plays or is paused (every few seconds, on pause, at the end)",
)
def report(db: EngineDep, me: Me, lease_id: LeasePath, body: PositionIn) -> ReportOut:
    result = watch_progress.report(
        db, me.user_id, lease_id, body.position_seconds, ended=body.state == "ended", paused=body.state == "paused"
    )
    following = result.next_episode
    return ReportOut(
        state=result.state,
        position_seconds=result.position_seconds,
        next_episode=EpisodeOut(**asdict(following)) if following else None,
    )


@router.delete("/v1/me/playback/{lease_id}", status_code=204, summary="Stop playing (frees the screen)")
def stop(db: EngineDep, me: Me, lease_id: LeasePath) -> Response:
    streaming.stop(db, me.user_id, lease_id)
    return Response(status_code=204)


@router.get("/v1/me/streams", response_model=Page[StreamOut], summary="My account's streams playing (or paused) now")
def streams(db: EngineDep, me: Me, paging: PagingDep) -> dict:
    return paging.cut([StreamOut(**asdict(d)) for d in streaming.live_streams(db, me.user_id)])


@router.delete("/v1/me/streams/{lease_id}", status_code=204, summary="End a stream on another device")
@refuses(STREAM_NOT_FOUND)
def end_stream(db: EngineDep, me: Me, lease_id: LeasePath) -> Response:
    if not streaming.end_stream(db, me.user_id, lease_id):
        raise ApiError(404, STREAM_NOT_FOUND.code, STREAM_NOT_FOUND.description)
    return Response(status_code=204)


@router.get(
    "/v1/me/profiles/{profile_id}/continue-watching",
    response_model=Page[ContinueOut],
    summary="A profile's Continue Watching row",
)
@refuses(PROFILE_NOT_FOUND)
def continue_watching(db: EngineDep, me: Me, profile_id: ProfilePath, paging: PagingDep) -> dict:
    profile = my_profile(db, me, profile_id)
    return paging.cut(
        [ContinueOut(**row) for row in watch_progress.continue_watching(db, me.user_id, profile.profile_id)]
    )


@router.delete(
    "/v1/me/profiles/{profile_id}/continue-watching/{show_id}",
    status_code=204,
    summary="Remove a title from Continue Watching (its progress is kept)",
)
@refuses(PROFILE_NOT_FOUND, TITLE_NOT_FOUND, NOT_IN_ROW)
def remove_continue_watching(db: EngineDep, me: Me, profile_id: ProfilePath, show_id: ShowIdPath) -> Response:
    profile, title = my_profile(db, me, profile_id), watch_title(db, show_id)
    if not watch_progress.remove_from_continue_watching(db, me.user_id, profile.profile_id, title.title_id):
        raise ApiError(404, NOT_IN_ROW.code, NOT_IN_ROW.description)
    return Response(status_code=204)

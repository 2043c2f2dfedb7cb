"""Watching: start a play (access and screen-limit checks are backend.watching's), report the position,
stop; the account's live streams; a profile's Continue Watching. Trailers are open to everyone.

Starting a play is a POST with an Idempotency-Key (a retried start returns the same stream). Reporting the
position is a PUT (setting it twice is harmless) and stopping a DELETE."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from api.deps import EngineDep, IdempotencyKey, Me, idempotent
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas import BIGINT_MAX, SHOW_ID_PATTERN, EpisodeOut, Id, ShowIdPath, text_field
from backend.accounts import profiles as viewing_profiles
from backend.watching import access as watch_access
from backend.watching import media, playable
from backend.watching import progress as watch_progress
from backend.watching import streams as streaming

router = APIRouter(tags=["watching"], responses=ERROR_RESPONSES)

LeasePath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The stream's id (from POST /v1/me/playback).")]
ProfilePath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="One of my viewing profiles.")]


def my_profile(db, me, profile_id: int) -> viewing_profiles.Profile:
    """The member's own profile with this id; 404 otherwise (another account's profile included)."""
    found = next((p for p in viewing_profiles.list_profiles(db, me.user_id) if p.profile_id == profile_id), None)
    if found is None:
        raise ApiError(404, "profile_not_found", "You have no viewing profile with this id.", field="profile_id")
    return found


def watch_title(db, show_id: str) -> playable.WatchTitle:
    title = playable.find_title(db, show_id)
    if title is None:
        raise ApiError(404, "title_not_found", "There is no title with this id in the catalogue.")
    return title


class StartIn(BaseModel):
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


class PositionIn(BaseModel):
    position_seconds: Annotated[float, Field(ge=0, le=10_000_000, examples=[754])]
    ended: bool = Field(False, description="The player reached the end.")


class ReportOut(BaseModel):
    state: str = Field(description="playing, completed, or stopped (ended elsewhere or expired: stop playing).")
    position_seconds: int
    next_episode: EpisodeOut | None


class StreamOut(BaseModel):
    lease_id: int
    device_label: str
    profile_name: str
    title: str
    started_at: datetime
    heartbeat_at: datetime


class TrailerOut(BaseModel):
    show_id: str
    title: str
    media_url: str
    seconds: int


MEDIA_URL = "/static/generated"  # api.main mounts media.GENERATED_DIR here


def media_url(item: media.Media) -> str:
    return f"{MEDIA_URL}/{item.name}"


def _refused(error: watch_access.PlaybackRefused) -> ApiError:
    details = {"reason": error.reason, "remedy": error.remedy, "devices": [asdict(d) for d in error.devices] or None}
    status = 409 if error.reason == "streams" else 403
    return ApiError(status, f"playback_{error.reason}", error.message, details=details)


@router.get(
    "/v1/titles/{show_id}/trailer",
    tags=["catalogue"],
    response_model=TrailerOut,
    summary="A title's trailer (open to everyone)",
)
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
    "left off.",
)
def start(request: Request, db: EngineDep, me: Me, key: IdempotencyKey, body: StartIn):
    def work() -> SessionOut:
        profile, title = my_profile(db, me, body.profile_id), watch_title(db, body.show_id)
        if body.episode_id is not None and body.episode_id not in {
            e.episode_id for e in playable.episodes(db, title.title_id)
        }:
            raise ApiError(404, "episode_not_found", "This title has no episode with this id.", field="episode_id")
        episode, position = watch_progress.resume_point(db, me.user_id, profile.profile_id, title, body.episode_id)
        try:
            session = streaming.start(
                db, me.user_id, profile, title, episode, position, body.device_id, body.device_label
            )
        except watch_access.PlaybackRefused as error:
            raise _refused(error) from None
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
    summary="Report where the player is (every few seconds, on pause and at the end)",
)
def report(db: EngineDep, me: Me, lease_id: LeasePath, body: PositionIn) -> ReportOut:
    result = watch_progress.report(db, me.user_id, lease_id, body.position_seconds, ended=body.ended)
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


@router.get("/v1/me/streams", response_model=list[StreamOut], summary="My account's streams playing now")
def streams(db: EngineDep, me: Me) -> list[StreamOut]:
    return [StreamOut(**asdict(d)) for d in streaming.live_streams(db, me.user_id)]


@router.delete("/v1/me/streams/{lease_id}", status_code=204, summary="End a stream on another device")
def end_stream(db: EngineDep, me: Me, lease_id: LeasePath) -> Response:
    if not streaming.end_stream(db, me.user_id, lease_id):
        raise ApiError(404, "not_found", "You have no live stream with this id.")
    return Response(status_code=204)


@router.get("/v1/me/profiles/{profile_id}/continue-watching", summary="A profile's Continue Watching row")
def continue_watching(db: EngineDep, me: Me, profile_id: ProfilePath) -> list[dict]:
    profile = my_profile(db, me, profile_id)
    return watch_progress.continue_watching(db, me.user_id, profile.profile_id)


@router.delete(
    "/v1/me/profiles/{profile_id}/continue-watching/{show_id}",
    status_code=204,
    summary="Remove a title from Continue Watching (its progress is kept)",
)
def remove_continue_watching(db: EngineDep, me: Me, profile_id: ProfilePath, show_id: ShowIdPath) -> Response:
    profile, title = my_profile(db, me, profile_id), watch_title(db, show_id)
    if not watch_progress.remove_from_continue_watching(db, me.user_id, profile.profile_id, title.title_id):
        raise ApiError(404, "not_found", "This title is not in the profile's Continue Watching.")
    return Response(status_code=204)

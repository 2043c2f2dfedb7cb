"""The catalogue (open to everyone; a signed-in caller may pass `profile_id` to apply that profile's
maturity cap) and a profile's library: My List, ratings, home rows, recommendations, recently watched.
Search, filters, ranking, maturity rules and recommendations are backend.catalogue's and backend.watching's
(library, recommend, home)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Literal, TypeAlias

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import EngineDep, Me, Principal, optional_principal
from api.errors import ApiError, Case
from api.openapi import refuses
from api.pages import Page, PagingDep
from api.routers.watching import PROFILE_NOT_FOUND, TITLE_NOT_FOUND, my_profile
from api.schemas import BIGINT_MAX, EpisodeOut, In, ShowIdPath, text_field
from backend.catalogue import cards as title_cards
from backend.catalogue import search
from backend.catalogue import titles as catalogue_titles
from backend.catalogue.rules import AccessLevel, Audience
from backend.watching import home, library, recommend

router = APIRouter(tags=["catalogue"])
library_router = APIRouter(prefix="/v1/me/profiles/{profile_id}", tags=["watching"])

NOT_ON_LIST = Case(404, "not_on_list", "This title is not on the profile's list.")
NOT_RATED = Case(404, "rating_not_found", "This profile has not rated this title.")
SIGN_IN_FOR_PROFILE = Case(401, "unauthorised", "Browsing as a profile needs a bearer token.")

ProfilePath = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="One of my viewing profiles.")]
Word: TypeAlias = Annotated[str, text_field(100)]
Kind = Literal["movie", "tv_show"]
Sort = Literal["relevance", "newest", "release_desc", "release_asc", "title"]
RECOMMENDATION_ROWS = ("picks", "because:", "genre:", "popular")


class CardOut(BaseModel):
    title_id: int
    show_id: str
    title: str
    kind: str
    release_year: int | None
    maturity_rating: str | None
    audience: str
    access_level: str
    duration: str
    genres: list[str]


class Results(Page[CardOut]):
    query: str = Field(description="The search words as searched (normalised).")
    notes: list[str] = Field(description="Notes about the search, e.g. that it was cut to its first characters.")


class RatingsOut(BaseModel):
    down: int
    up: int
    love: int


class ReviewOut(BaseModel):
    score: int
    text: str
    updated_at: datetime


class TitleOut(BaseModel):
    card: CardOut
    description: str
    date_added: date | None
    seasons: int | None
    duration_minutes: int | None
    countries: list[str]
    directors: list[str]
    cast: list[str]
    episodes: list[EpisodeOut]
    ratings: RatingsOut
    reviews: list[ReviewOut]


class FacetsOut(BaseModel):
    genres: list[str]
    countries: list[str]
    year_min: int
    year_max: int


class RowOut(BaseModel):
    key: str
    title: str
    caption: str
    items: list[CardOut]
    notes: dict[str, str]
    progress: dict[str, float]


class RatingIn(In):
    """A PUT replaces the rating: both fields are required (`review` may be null for none)."""

    score: Literal[-1, 1, 2] = Field(description="-1 not for me, 1 I like this, 2 love this.", examples=[2])
    review: Annotated[str, text_field(library.MAX_REVIEW_LENGTH)] | None = Field(
        description="The review, or null for none.", examples=["Gripping from the first scene."]
    )


class RatingOut(BaseModel):
    score: int
    review: str | None
    updated_at: datetime


def _card(card: title_cards.Card) -> CardOut:
    return CardOut(**asdict(card))


def _allowed(db, me: Principal | None, profile_id: int | None):
    """The maturity cap of the caller's profile `profile_id` (None: no cap, as for guests)."""
    if profile_id is None:
        return None
    if me is None:
        raise ApiError(
            401, "unauthorised", "Sign in to browse as one of your profiles.", headers={"WWW-Authenticate": "Bearer"}
        )
    return title_cards.allowed_audiences(my_profile(db, me, profile_id))


def _title(db, show_id: str, allowed=None) -> catalogue_titles.TitleDetails:
    details, _ = catalogue_titles.find_title(db, show_id)
    if details is None or not title_cards.visible_to(details.card, allowed):
        raise ApiError(404, TITLE_NOT_FOUND.code, TITLE_NOT_FOUND.description, field="show_id")
    return details


OptionalMe = Annotated[Principal | None, Depends(optional_principal)]
ProfileQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=BIGINT_MAX,
        description="Browse as this profile of mine (its maturity cap applies; needs a bearer token).",
    ),
]


@router.get(
    "/v1/titles",
    response_model=Results,
    summary="Browse and search the catalogue",
    description="Typo-tolerant search over titles, cast and directors, with filters, sort and pages.",
)
@refuses(PROFILE_NOT_FOUND)
def browse(
    db: EngineDep,
    me: OptionalMe,
    paging: PagingDep,
    q: Annotated[Word, Query(description="Search words (typos tolerated).", examples=["strangr thngs"])] = "",
    kind: Annotated[Sequence[Kind], Query(max_length=2)] = (),
    genre: Annotated[Sequence[Word], Query(max_length=20)] = (),
    country: Annotated[Sequence[Word], Query(max_length=20)] = (),
    year_from: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    audience: Annotated[Sequence[Audience], Query(max_length=5)] = (),
    access_level: Annotated[Sequence[AccessLevel], Query(max_length=3)] = (),
    person: Annotated[Word | None, Query(description="Exact name of a cast member or director.")] = None,
    sort: Sort = "relevance",
    profile_id: ProfileQuery = None,
) -> Results:
    filters = search.Filters(
        q,
        tuple(kind),
        tuple(genre),
        tuple(country),
        year_from,
        year_to,
        tuple(audience),
        tuple(access_level),
        person,
        sort,
    )
    found = search.browse(
        db,
        filters,
        allowed=_allowed(db, me, profile_id),
        page=paging.page,
        page_size=paging.page_size,
        past_last_shows_first=False,
    )
    return Results(**paging.of([_card(c) for c in found.cards], found.total), query=found.query, notes=found.notes)


@router.get("/v1/facets", response_model=FacetsOut, summary="The filter choices: genres, countries, years")
def facets(db: EngineDep) -> FacetsOut:
    return FacetsOut(**asdict(search.facets(db)))


@router.get("/v1/titles/{show_id}", response_model=TitleOut, summary="A title's details, episodes and ratings")
@refuses(PROFILE_NOT_FOUND, TITLE_NOT_FOUND)
def title_details(db: EngineDep, me: OptionalMe, show_id: ShowIdPath, profile_id: ProfileQuery = None) -> TitleOut:
    details = _title(db, show_id, _allowed(db, me, profile_id))
    title_id = details.card.title_id
    seasons = catalogue_titles.episodes(db, title_id) if details.card.kind == "tv_show" else {}
    summary = library.rating_summary(db, title_id)
    return TitleOut(
        card=_card(details.card),
        description=details.description,
        date_added=details.date_added,
        seasons=details.seasons,
        duration_minutes=details.duration_minutes,
        countries=list(details.countries),
        directors=list(details.directors),
        cast=list(details.cast),
        episodes=[EpisodeOut(**asdict(e)) for season in seasons.values() for e in season],
        ratings=RatingsOut(down=summary.down, up=summary.up, love=summary.love),
        reviews=[ReviewOut(score=r.score, text=r.text, updated_at=r.updated_at) for r in library.reviews(db, title_id)],
    )


SIMILAR_TITLES = 48  # the most similar titles a list has


@router.get("/v1/titles/{show_id}/similar", response_model=Page[CardOut], summary="Titles like this one")
@refuses(PROFILE_NOT_FOUND, TITLE_NOT_FOUND)
def similar(db: EngineDep, me: OptionalMe, show_id: ShowIdPath, paging: PagingDep, profile_id: ProfileQuery = None):
    allowed = _allowed(db, me, profile_id)
    details = _title(db, show_id, allowed)
    ids = recommend.similar_titles(recommend.models(db), details.card.title_id, allowed=allowed, limit=SIMILAR_TITLES)
    return paging.cut([_card(c) for c in title_cards.cards(db, ids, allowed)])


# --- a profile's library -----------------------------------------------------------------------------------


@library_router.get("/my-list", response_model=Page[CardOut], summary="A profile's My List, latest first")
@refuses(PROFILE_NOT_FOUND)
def my_list(db: EngineDep, me: Me, profile_id: ProfilePath, paging: PagingDep) -> dict:
    profile = my_profile(db, me, profile_id)
    cards = library.my_list(db, me.user_id, profile.profile_id, allowed=title_cards.allowed_audiences(profile))
    return paging.cut([_card(c) for c in cards])


@library_router.put("/my-list/{show_id}", status_code=204, summary="Add a title to My List (again: no change)")
@refuses(PROFILE_NOT_FOUND, library.TitleUnavailable)
def add_to_list(db: EngineDep, me: Me, profile_id: ProfilePath, show_id: ShowIdPath) -> Response:
    profile = my_profile(db, me, profile_id)
    library.add_to_list(db, me.user_id, profile.profile_id, show_id, allowed=title_cards.allowed_audiences(profile))
    return Response(status_code=204)


@library_router.delete("/my-list/{show_id}", status_code=204, summary="Take a title off My List")
@refuses(PROFILE_NOT_FOUND, NOT_ON_LIST)
def remove_from_list(db: EngineDep, me: Me, profile_id: ProfilePath, show_id: ShowIdPath) -> Response:
    profile = my_profile(db, me, profile_id)
    if not library.remove_from_list(db, me.user_id, profile.profile_id, show_id):
        raise ApiError(404, NOT_ON_LIST.code, NOT_ON_LIST.description)
    return Response(status_code=204)


@library_router.get("/ratings/{show_id}", response_model=RatingOut, summary="The profile's rating of a title")
@refuses(PROFILE_NOT_FOUND, TITLE_NOT_FOUND, NOT_RATED)
def read_rating(db: EngineDep, me: Me, profile_id: ProfilePath, show_id: ShowIdPath) -> RatingOut:
    profile = my_profile(db, me, profile_id)
    rating = library.my_rating(db, me.user_id, profile.profile_id, _title(db, show_id).card.title_id)
    if rating is None:
        raise ApiError(404, NOT_RATED.code, NOT_RATED.description)
    return RatingOut(**asdict(rating))


@library_router.put("/ratings/{show_id}", response_model=RatingOut, summary="Rate a title (replaces the rating)")
@refuses(PROFILE_NOT_FOUND, library.TitleUnavailable, library.LibraryError)
def rate(db: EngineDep, me: Me, profile_id: ProfilePath, show_id: ShowIdPath, body: RatingIn) -> RatingOut:
    profile = my_profile(db, me, profile_id)
    rating = library.rate(
        db,
        me.user_id,
        profile.profile_id,
        show_id,
        body.score,
        body.review,
        allowed=title_cards.allowed_audiences(profile),
    )
    return RatingOut(**asdict(rating))


@library_router.delete("/ratings/{show_id}", status_code=204, summary="Remove the profile's rating of a title")
@refuses(PROFILE_NOT_FOUND, TITLE_NOT_FOUND)
def remove_rating(db: EngineDep, me: Me, profile_id: ProfilePath, show_id: ShowIdPath) -> Response:
    profile = my_profile(db, me, profile_id)
    library.remove_rating(db, me.user_id, profile.profile_id, _title(db, show_id).card.title_id)
    return Response(status_code=204)


def _rows(db, me: Principal, profile_id: int) -> list[RowOut]:
    profile = my_profile(db, me, profile_id)
    return [
        RowOut(
            key=r.key,
            title=r.title,
            caption=r.caption,
            items=[_card(c) for c in r.cards],
            notes=r.notes,
            progress=r.progress,
        )
        for r in home.home_rows(db, me.user_id, profile)
    ]


@library_router.get("/home", response_model=Page[RowOut], summary="A profile's home rows, each with its reason")
@refuses(PROFILE_NOT_FOUND)
def home_rows(db: EngineDep, me: Me, profile_id: ProfilePath, paging: PagingDep) -> dict:
    return paging.cut(_rows(db, me, profile_id))


@library_router.get(
    "/recommendations",
    response_model=Page[RowOut],
    summary="Recommendation rows (top picks, because you watched, favourite genres, popular)",
)
@refuses(PROFILE_NOT_FOUND)
def recommendations(db: EngineDep, me: Me, profile_id: ProfilePath, paging: PagingDep) -> dict:
    return paging.cut([r for r in _rows(db, me, profile_id) if r.key.startswith(RECOMMENDATION_ROWS)])


@library_router.get("/recently-watched", response_model=Page[CardOut], summary="What the profile watched last")
@refuses(PROFILE_NOT_FOUND)
def recently_watched(db: EngineDep, me: Me, profile_id: ProfilePath, paging: PagingDep) -> dict:
    return paging.cut(next((r.items for r in _rows(db, me, profile_id) if r.key == "recent"), []))

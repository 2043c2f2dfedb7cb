"""Open to everyone: the plans on sale and the catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EngineDep
from api.errors import ERROR_RESPONSES
from api.schemas import Page, PlanOut
from backend import catalogue, plans

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=ERROR_RESPONSES)


@router.get("/plans", response_model=list[PlanOut], summary="The plans on sale, cheapest first")
def list_plans(db: EngineDep) -> list[PlanOut]:
    return [PlanOut.model_validate(p) for p in plans.active_plans(db)]


@router.get("/titles", response_model=Page, summary="Browse and search the catalogue")
def search_titles(db: EngineDep,
                  q: Annotated[str, Query(max_length=catalogue.MAX_SEARCH_LENGTH, pattern=r"^[^\x00]*$",
                                          description="Words in the title, cast or director.")] = "",
                  limit: Annotated[int, Query(ge=1, le=100)] = 20,
                  offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Page:
    frame = catalogue.search_titles(db, q, limit=limit, offset=offset)
    return Page(total=catalogue.count_titles(db, q), limit=limit, offset=offset,
                items=frame.astype(object).where(frame.notna(), None).to_dict("records"))

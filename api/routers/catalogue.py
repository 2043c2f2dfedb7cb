"""Open to everyone: the plans on sale. (The catalogue itself: api/routers/discovery.py.)"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.pages import Page, PagingDep
from api.schemas import PlanOut
from backend.billing import plans

router = APIRouter(prefix="/v1", tags=["catalogue"])


@router.get("/plans", response_model=Page[PlanOut], summary="The plans on sale, cheapest first (open)")
def list_plans(db: EngineDep, paging: PagingDep) -> dict:
    return paging.cut([PlanOut.model_validate(p) for p in plans.active_plans(db)])

"""Open to everyone: the plans on sale. (The catalogue itself: api/routers/discovery.py.)"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.errors import ERROR_RESPONSES
from api.schemas import PlanOut
from backend.billing import plans

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=ERROR_RESPONSES)


@router.get("/plans", response_model=list[PlanOut], summary="The plans on sale, cheapest first")
def list_plans(db: EngineDep) -> list[PlanOut]:
    return [PlanOut.model_validate(p) for p in plans.active_plans(db)]

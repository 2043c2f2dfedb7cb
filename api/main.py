"""The FastAPI app: `uvicorn api.main:create_app --factory` (what `make api` runs).

The API is a second door onto backend/: routes translate HTTP to backend calls and back, and every rule
(access, plan changes, billing, progress) stays in backend/.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from api import errors, openapi, tokens
from api.ratelimit import Limits, RateLimitMiddleware, TokenBuckets
from api.routers import account, admin, auth, catalogue, discovery, subscription, watching
from backend.core.settings import get_settings
from backend.watching import media

DESCRIPTION = """
Reelhouse's JSON API, over the same backend as the web app.

* **Auth**: `POST /v1/auth/sign-in` returns a 15-minute access token (JWT) and a refresh token; send
  `Authorization: Bearer <access token>`. Refresh tokens are single-use (rotated); a reused one ends its session.
* **Idempotency**: every state-changing `POST` (other than `/v1/auth/*`) needs an `Idempotency-Key` header;
  a repeat with the same key returns the first response (`Idempotent-Replayed: true`) and never charges twice.
* **Rate limits**: per client IP when anonymous, per account when signed in; every answer carries
  `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; `429` with `Retry-After` when used up.
* **Errors**: always `{"error": {"code": "...", "message": "...", "field": "..."}}`; each operation lists
  its codes per status (`x-error-codes`). 404 not found, 409 conflict, 402 payment declined, 422 invalid
  (the field named; unknown fields too), 503 with `Retry-After` while the database is unavailable.
* **Updates**: `PATCH` changes only the fields sent; `PUT` replaces and needs every field.
* **Lists** paginate alike: `?page=&page_size=`, answered with `items`, `total`, `pages` and `next`
  (the next page's URL, null on the last); a page past the end is empty.
* **Plans** have `validity_days` (28-31: monthly on the same day; 365-366: yearly; else every N days),
  `access_level` (free < basic < premium), `max_devices_allowed`, `resolution`, `is_active`. An edit
  reaches subscribers at their next renewal, never mid-period.

Test cards: `4242 4242 4242 4242` succeeds, `4000 0000 0000 0002` is declined,
`4000 0000 0000 9995` has insufficient funds (any future expiry, any CVC).
"""

TAGS = [
    {"name": "auth", "description": "Register, sign in, rotate tokens, sign out."},
    {"name": "catalogue", "description": "Open to everyone: plans, titles, trailers."},
    {"name": "account", "description": "My account, viewing profiles and notifications."},
    {"name": "subscription", "description": "Subscribe, change plan, cancel, resume, billing history."},
    {"name": "watching", "description": "Playback, progress, continue watching, My List, ratings, recommendations."},
    {"name": "admin", "description": "Admins only: plans, content, users, monthly metrics."},
]


class MediaFiles(StaticFiles):
    """The generated clips and trailers (`python -m backend.watching.media`); 404 until they are generated."""

    async def __call__(self, scope, receive, send) -> None:
        if not media.GENERATED_DIR.is_dir():
            raise HTTPException(404)
        await super().__call__(scope, receive, send)


def create_app(
    engine: Engine | None = None,
    *,
    jwt_secret: str | None = None,
    limits: Limits | None = None,
    buckets: TokenBuckets | None = None,
) -> FastAPI:
    """The app; `engine` defaults to database.get_engine() on first use, the secret to tokens.default_secret()."""
    get_settings()  # refuse bad or unsafe settings before serving anything
    # /docs and /redoc with their scripts served by the app itself, not a CDN: they work offline too.
    app = FastAPIOffline(
        title="Reelhouse API",
        version="1.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=openapi.operation_id,
    )
    app.state.engine = engine
    app.state.jwt_secret = jwt_secret or tokens.default_secret()
    errors.install(app)
    for router in (
        auth.router,
        catalogue.router,
        discovery.router,
        account.router,
        subscription.router,
        watching.router,
        discovery.library_router,
        admin.router,
    ):
        app.include_router(router)
    app.mount(watching.MEDIA_URL, MediaFiles(directory=media.GENERATED_DIR, check_dir=False), name="media")
    app.add_middleware(RateLimitMiddleware, limits=limits or Limits(), secret=app.state.jwt_secret, buckets=buckets)
    app.add_middleware(  # outermost: preflights are answered here, and every answer (a 429 too) carries CORS
        CORSMiddleware,
        allow_origins=list(get_settings().api_cors_origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=[
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
            "Retry-After",
            "Idempotent-Replayed",
            "WWW-Authenticate",
        ],
        max_age=600,
    )
    openapi.install(app)
    return app

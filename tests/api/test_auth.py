"""Auth over the API: register, sign in (with the web app's throttling), access JWT claims, refresh-token
rotation with reuse detection, sign out, password change, suspension."""

from datetime import UTC, datetime

import jwt
from sqlalchemy import text

from backend.accounts import sessions, users
from tests.api.conftest import PASSWORD, SECRET, register, with_headers


def test_register_returns_tokens_with_standard_claims(client):
    pair = register(client, "claims")
    claims = jwt.decode(pair["access_token"], SECRET, algorithms=["HS256"], issuer="reelhouse-api")
    assert {"sub", "exp", "iat", "jti", "sid"} <= set(claims)
    assert claims["sub"] == str(pair["user"]["user_id"]) and claims["exp"] - claims["iat"] == 15 * 60
    assert pair["expires_in"] == 900 and pair["token_type"] == "bearer"
    me = client.get("/v1/me", headers=pair["headers"])
    assert me.status_code == 200 and me.json()["email"] == "claims@example.com"


def test_register_twice_is_refused_with_the_backend_message(client):
    register(client, "twice")
    again = client.post("/v1/auth/register", json={"email": "twice@example.com", "name": "X", "password": PASSWORD})
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "email_taken",
        "message": "An account with this email already exists. Sign in instead.",
        "field": "email",
    }


def test_weak_password_is_refused_before_anything_is_stored(client, api_engine):
    response = client.post("/v1/auth/register", json={"email": "weak@example.com", "name": "W", "password": "short"})
    assert response.status_code == 422 and "password" in response.json()["error"]["message"]
    assert response.json()["error"]["field"] == "password"
    assert users.find_user_by_email(api_engine, "weak@example.com") is None


def test_sign_in_and_wrong_password(client):
    register(client, "signin")
    ok = client.post("/v1/auth/sign-in", json={"email": "SignIn@example.com", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["user"]["email"] == "signin@example.com"
    bad = client.post("/v1/auth/sign-in", json={"email": "signin@example.com", "password": "wrong-password-1"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "sign_in_failed"
    assert bad.json()["error"]["message"] == sessions.SIGN_IN_FAILED


def test_sign_in_attempts_share_the_web_apps_throttle(client, api_engine):
    register(client, "throttled")
    for _ in range(sessions.FAILURES_BEFORE_LOCK - 1):
        sessions.authenticate  # noqa: B018 (the same function the web app calls)
        response = client.post("/v1/auth/sign-in", json={"email": "throttled@example.com", "password": "nope-nope-1"})
        assert response.status_code == 401
    locked = client.post("/v1/auth/sign-in", json={"email": "throttled@example.com", "password": "nope-nope-1"})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "sign_in_locked"
    assert int(locked.headers["Retry-After"]) == sessions.LOCK_MINUTES * 60
    # the right password is refused too while locked, in the API and the web app alike (one database record)
    right = client.post("/v1/auth/sign-in", json={"email": "throttled@example.com", "password": PASSWORD})
    assert right.status_code == 429
    with api_engine.connect() as conn:
        assert conn.execute(
            text("SELECT locked_until > now() FROM login_throttle WHERE email = :e"), {"e": "throttled@example.com"}
        ).scalar()


def test_missing_or_bad_bearer_tokens_are_401(client):
    assert client.get("/v1/me").json()["error"]["code"] == "unauthorised"
    assert client.get("/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    forged = jwt.encode(
        {"sub": "1", "sid": 1, "iat": datetime.now(UTC), "exp": 4_000_000_000, "jti": "x", "iss": "reelhouse-api"},
        "another-secret-of-enough-length-0123456789",
        algorithm="HS256",
    )
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    expired = jwt.encode(
        {"sub": "1", "sid": 1, "iat": 1, "exp": 2, "jti": "x", "iss": "reelhouse-api"}, SECRET, algorithm="HS256"
    )
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_refresh_rotates_and_a_reused_token_revokes_the_session(client, api_engine):
    first = register(client, "rotate")
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = with_headers(second.json())
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/v1/me", headers=second["headers"]).status_code == 200
    # the first token again: reuse, so the whole session ends, the new tokens included
    reuse = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json()["error"]["code"] == "refresh_token_reused"
    assert client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401
    assert client.get("/v1/me", headers=second["headers"]).status_code == 401
    with api_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT token_hash, revoked_at FROM api_refresh_tokens WHERE user_id = :u"),
            {"u": first["user"]["user_id"]},
        ).all()
    assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)
    secret = first["refresh_token"].split(".", 2)[2]
    assert all(secret not in r.token_hash for r in rows)  # only hashes are stored


def test_garbage_refresh_tokens_are_401(client):
    for token in ("x", "1.2.3", "-1.0.abc", "99999999999999999999.1.abc", "1.1."):
        response = client.post("/v1/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401, token


def test_sign_out_ends_only_this_session(client):
    phone = register(client, "signout")
    laptop = with_headers(
        client.post("/v1/auth/sign-in", json={"email": "signout@example.com", "password": PASSWORD}).json()
    )
    assert client.post("/v1/auth/sign-out", headers=phone["headers"]).status_code == 204
    assert client.get("/v1/me", headers=phone["headers"]).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}).status_code == 401
    assert client.get("/v1/me", headers=laptop["headers"]).status_code == 200


def test_password_change_ends_every_session_and_signs_this_client_in_again(client, api_engine):
    phone = register(client, "pwchange")
    laptop = with_headers(
        client.post("/v1/auth/sign-in", json={"email": "pwchange@example.com", "password": PASSWORD}).json()
    )
    wrong = client.post(
        "/v1/auth/password",
        headers=phone["headers"],
        json={"current_password": "not-it-123", "new_password": "brand-new-pass-7"},
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (422, "wrong_password")
    changed = client.post(
        "/v1/auth/password",
        headers=phone["headers"],
        json={"current_password": PASSWORD, "new_password": "brand-new-pass-7"},
    )
    assert changed.status_code == 200
    for old in (phone, laptop):
        assert client.get("/v1/me", headers=old["headers"]).status_code == 401
        assert client.post("/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401
    assert client.get("/v1/me", headers=with_headers(changed.json())["headers"]).status_code == 200
    assert sessions.authenticate(api_engine, "pwchange@example.com", "brand-new-pass-7").email == "pwchange@example.com"


def test_the_web_apps_sign_out_everywhere_and_suspension_end_api_sessions(client, api_engine):
    member = register(client, "web-everywhere")
    sessions.sign_out_everywhere(api_engine, member["user"]["user_id"])
    assert client.get("/v1/me", headers=member["headers"]).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": member["refresh_token"]}).status_code == 401

    suspended = register(client, "suspended")
    with api_engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET suspended_at = now() WHERE user_id = :u"), {"u": suspended["user"]["user_id"]}
        )
    assert client.get("/v1/me", headers=suspended["headers"]).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": suspended["refresh_token"]}).status_code == 401
    sign_in = client.post("/v1/auth/sign-in", json={"email": "suspended@example.com", "password": PASSWORD})
    assert sign_in.status_code == 403 and "suspended" in sign_in.json()["error"]["message"]

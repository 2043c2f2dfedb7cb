"""Rate limits: a bucket per client IP for anonymous calls and per account for signed-in ones; 429 with
Retry-After when empty, refilled over time."""

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.ratelimit import Limits, TokenBuckets
from tests.api.conftest import SECRET, with_headers


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limited(api_engine, clock):
    app = create_app(
        api_engine,
        jwt_secret=SECRET,
        limits=Limits(anonymous_per_minute=3, user_per_minute=5),
        buckets=TokenBuckets(clock),
    )
    return app


def test_anonymous_calls_are_limited_per_ip_with_retry_after(limited, clock):
    one = TestClient(limited, client=("203.0.113.1", 5000))
    other = TestClient(limited, client=("203.0.113.2", 5000))
    assert [one.get("/v1/plans").status_code for _ in range(3)] == [200, 200, 200]
    refused = one.get("/v1/plans")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "20"  # one call back every 60/3 s
    assert other.get("/v1/plans").status_code == 200  # another address has its own bucket
    clock.now += 19
    assert one.get("/v1/plans").status_code == 429
    clock.now += 1
    assert one.get("/v1/plans").status_code == 200


def test_signed_in_calls_are_limited_per_account_not_per_ip(limited, clock):
    shared_ip = TestClient(limited, client=("198.51.100.7", 5000))
    pair = shared_ip.post(
        "/v1/auth/register", json={"email": "limited@example.com", "name": "Lim", "password": "correct-horse-42"}
    )
    assert pair.status_code == 201
    member = with_headers(pair.json())
    assert [shared_ip.get("/v1/plans").status_code for _ in range(2)] == [200, 200]
    assert shared_ip.get("/v1/plans").status_code == 429  # the address's 3 calls are used up (register was one)
    statuses = [shared_ip.get("/v1/me", headers=member["headers"]).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # the account's own bucket of 5
    refused = shared_ip.get("/v1/me", headers=member["headers"])
    assert refused.headers["Retry-After"] == "12"
    # a forged bearer token does not get a bucket of its own: it counts against the address
    assert shared_ip.get("/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 429

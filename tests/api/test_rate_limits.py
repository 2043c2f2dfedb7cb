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


def test_every_answer_carries_the_rate_limit_headers(limited, clock):
    caller = TestClient(limited, client=("203.0.113.9", 5000))
    answers = [caller.get("/v1/plans") for _ in range(4)]
    assert [a.headers["RateLimit-Limit"] for a in answers] == ["3"] * 4
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[-1].status_code == 429 and int(answers[-1].headers["RateLimit-Reset"]) == 60
    assert int(answers[0].headers["RateLimit-Reset"]) == 20  # one call used: back in 60/3 s


def test_a_forwarded_address_counts_only_behind_a_trusted_proxy(api_engine, clock):
    def app(trusted: tuple[str, ...]):
        limits = Limits(anonymous_per_minute=3, user_per_minute=5, trusted_proxies=trusted)
        return create_app(api_engine, jwt_secret=SECRET, limits=limits, buckets=TokenBuckets(clock))

    rotating = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in range(1, 10)]
    direct = TestClient(app(()), client=("203.0.113.50", 5000))
    assert [direct.get("/v1/plans", headers=h).status_code for h in rotating] == [200] * 3 + [429] * 6

    behind = TestClient(app(("10.0.0.0/8",)), client=("10.0.0.2", 5000))
    assert [behind.get("/v1/plans", headers=h).status_code for h in rotating] == [200] * 9  # one bucket each
    one_client = {"X-Forwarded-For": "192.0.2.77, 10.0.0.9"}  # the client, then a second trusted hop
    assert [behind.get("/v1/plans", headers=one_client).status_code for _ in range(4)] == [200] * 3 + [429]
    spoofed = TestClient(app(("10.0.0.0/8",)), client=("203.0.113.51", 5000))  # not a proxy: header ignored
    assert [spoofed.get("/v1/plans", headers=h).status_code for h in rotating[:4]] == [200] * 3 + [429]

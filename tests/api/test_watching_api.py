"""Watching over the API, on backend.watching's rules: start (subscription, plan level, profile maturity,
screens), resume, position reports, completion, stop, streams, Continue Watching; trailers for everyone;
nothing of another member's profiles or streams reachable."""

import io

import pytest
from PIL import Image

from backend.accounts import pictures, users
from backend.admin import content as content_admin
from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import state as billing_state
from backend.watching import playable
from tests.api.conftest import new_key, post, register

CARD = billing_state.CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")


def subscribed(client, api_engine, plan_ids, plan: str) -> dict:
    member = register(client)
    billing_checkout.checkout(api_engine, member["user"]["user_id"], plan_ids[plan], CARD, new_key())
    member["profile_id"] = client.get("/v1/me/profiles", headers=member["headers"]).json()["items"][0]["profile_id"]
    return member


def play(client, member, show_id: str, device: str = "device-0001", **extra):
    return post(
        client,
        "/v1/me/playback",
        member,
        {"profile_id": member["profile_id"], "show_id": show_id, "device_id": device, **extra},
    )


@pytest.fixture
def basic(client, api_engine, plan_ids):
    return subscribed(client, api_engine, plan_ids, "Basic")


def test_play_report_resume_and_continue_watching(client, basic):
    started = play(client, basic, "t1")
    assert started.status_code == 201, started.text
    session = started.json()
    assert (session["position_seconds"], session["duration_seconds"], session["episode"]) == (0, 101 * 60, None)
    assert session["media_url"].startswith("/static/generated/clip-") and session["media_url"].endswith(".webm")
    lease = session["lease_id"]
    report = client.put(
        f"/v1/me/playback/{lease}/position", headers=basic["headers"], json={"position_seconds": 30, "state": "playing"}
    )
    assert report.status_code == 200 and report.json()["state"] == "playing"
    [row] = client.get(f"/v1/me/profiles/{basic['profile_id']}/continue-watching", headers=basic["headers"]).json()[
        "items"
    ]
    assert (row["show_id"], row["position_seconds"]) == ("t1", 30)
    assert [s["lease_id"] for s in client.get("/v1/me/streams", headers=basic["headers"]).json()["items"]] == [lease]
    assert client.delete(f"/v1/me/playback/{lease}", headers=basic["headers"]).status_code == 204
    assert client.get("/v1/me/streams", headers=basic["headers"]).json()["items"] == []
    again = play(client, basic, "t1", device="device-0002").json()
    assert again["position_seconds"] == 30  # resumes
    done = client.put(
        f"/v1/me/playback/{again['lease_id']}/position",
        headers=basic["headers"],
        json={"position_seconds": 0, "state": "ended"},
    ).json()
    assert done["state"] == "completed"
    row = client.get(f"/v1/me/profiles/{basic['profile_id']}/continue-watching", headers=basic["headers"]).json()
    assert row["items"] == [] and row["total"] == 0


def test_the_same_key_starts_one_stream(client, basic):
    key = new_key()
    body = {"profile_id": basic["profile_id"], "show_id": "t1", "device_id": "device-same"}
    first = post(client, "/v1/me/playback", basic, body, key=key)
    second = post(client, "/v1/me/playback", basic, body, key=key)
    assert first.json() == second.json() and second.headers["Idempotent-Replayed"] == "true"
    assert client.get("/v1/me/streams", headers=basic["headers"]).json()["total"] == 1


def test_refusals_say_why(client, api_engine, basic, plan_ids):
    premium_title = play(client, basic, "t15")
    assert premium_title.status_code == 403
    assert premium_title.json()["error"]["code"] == "playback_plan"
    assert premium_title.json()["error"]["details"]["remedy"].startswith("Upgrade")
    assert play(client, basic, "t1", device="device-0001").status_code == 201
    second_screen = play(client, basic, "t1", device="device-0002")
    assert second_screen.status_code == 409 and second_screen.json()["error"]["code"] == "playback_streams"
    [device] = second_screen.json()["error"]["details"]["devices"]
    assert client.delete(f"/v1/me/streams/{device['lease_id']}", headers=basic["headers"]).status_code == 204
    assert play(client, basic, "t1", device="device-0002").status_code == 201

    kids = post(client, "/v1/me/profiles", basic, {"name": "Kids", "is_kids": True}).json()
    adult_title = post(
        client,
        "/v1/me/playback",
        basic,
        {"profile_id": kids["profile_id"], "show_id": "t2", "device_id": "device-kids"},
    )
    assert adult_title.status_code == 403 and adult_title.json()["error"]["code"] == "playback_maturity"

    never = register(client)
    never["profile_id"] = client.get("/v1/me/profiles", headers=never["headers"]).json()["items"][0]["profile_id"]
    refused = play(client, never, "t1")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "playback_no_subscription"
    assert play(client, basic, "nope").status_code == 404
    assert play(client, basic, "t2", episode_id=999999).json()["error"]["code"] == "episode_not_found"


def test_series_play_episodes(client, basic):
    session = play(client, basic, "t2").json()
    assert (session["episode"]["season_number"], session["episode"]["episode_number"]) == (1, 1)
    done = client.put(
        f"/v1/me/playback/{session['lease_id']}/position",
        headers=basic["headers"],
        json={"position_seconds": session["duration_seconds"], "state": "playing"},
    ).json()
    assert done["state"] == "completed" and done["next_episode"]["episode_number"] == 2


def test_another_members_profiles_and_streams_are_out_of_reach(client, api_engine, plan_ids, basic):
    lease = play(client, basic, "t1").json()["lease_id"]
    other = subscribed(client, api_engine, plan_ids, "Premium")
    theirs = post(
        client,
        "/v1/me/playback",
        other,
        {"profile_id": basic["profile_id"], "show_id": "t1", "device_id": "device-steal"},
    )
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "profile_not_found"
    assert (
        client.get(f"/v1/me/profiles/{basic['profile_id']}/continue-watching", headers=other["headers"]).status_code
        == 404
    )
    report = client.put(
        f"/v1/me/playback/{lease}/position", headers=other["headers"], json={"position_seconds": 99, "state": "playing"}
    )
    assert report.json()["state"] == "stopped"
    assert client.delete(f"/v1/me/streams/{lease}", headers=other["headers"]).status_code == 404
    assert client.delete(f"/v1/me/playback/{lease}", headers=other["headers"]).status_code == 204  # no-op
    assert [s["lease_id"] for s in client.get("/v1/me/streams", headers=basic["headers"]).json()["items"]] == [lease]


def test_trailers_are_open_to_everyone(client):
    trailer = client.get("/v1/titles/t2/trailer")
    assert trailer.status_code == 200 and trailer.json()["title"] == "Harbour Lights"
    assert trailer.json()["media_url"].startswith("/static/generated/trailer-")
    assert client.get("/v1/titles/zzz/trailer").status_code == 404


def test_media_are_served_by_the_api_and_a_missing_file_is_a_json_404(client):
    missing = client.get("/static/generated/no-such-clip.webm")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_pause_is_stored_and_reported_and_the_report_needs_its_state(client, basic):
    lease = play(client, basic, "t1", device="device-pause").json()["lease_id"]
    url = f"/v1/me/playback/{lease}/position"
    paused = client.put(url, headers=basic["headers"], json={"position_seconds": 42, "state": "paused"})
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    [stream] = client.get("/v1/me/streams", headers=basic["headers"]).json()["items"]
    assert (stream["lease_id"], stream["state"]) == (lease, "paused")
    resumed = client.put(url, headers=basic["headers"], json={"position_seconds": 43, "state": "playing"})
    assert resumed.json()["state"] == "playing"
    assert client.get("/v1/me/streams", headers=basic["headers"]).json()["items"][0]["state"] == "playing"
    partial = client.put(url, headers=basic["headers"], json={"position_seconds": 44})  # a PUT sends every field
    assert partial.status_code == 422 and partial.json()["error"]["field"] == "body.state"
    client.delete(f"/v1/me/playback/{lease}", headers=basic["headers"])


def test_avatars_go_up_come_down_and_go_away(client):
    member = register(client)
    made = io.BytesIO()
    Image.new("RGB", (24, 24), (10, 120, 10)).save(made, format="PNG")
    upload = made.getvalue()
    png = pictures.reencoded(upload)[0]  # what is stored (and served) is the re-encoded picture
    assert client.get("/v1/me/avatar", headers=member["headers"]).json()["error"]["code"] == "avatar_not_found"
    put = client.put("/v1/me/avatar", content=upload, headers=member["headers"] | {"Content-Type": "image/png"})
    assert put.status_code == 204 and client.get("/v1/me", headers=member["headers"]).json()["has_avatar"] is True
    fake = client.put("/v1/me/avatar", content=b"\x89PNG\r\n\x1a\n" + b"\x00" * 45, headers=member["headers"])
    assert (fake.status_code, fake.json()["error"]["field"]) == (422, "avatar")  # only starts like a PNG
    got = client.get("/v1/me/avatar", headers=member["headers"])
    assert got.status_code == 200 and got.content == png and got.headers["content-type"] == "image/png"
    not_a_picture = client.put("/v1/me/avatar", content=b"GIF89a...", headers=member["headers"])
    assert (not_a_picture.status_code, not_a_picture.json()["error"]["field"]) == (422, "avatar")
    too_big = client.put("/v1/me/avatar", content=png + b"\x00" * 1_100_000, headers=member["headers"])
    assert too_big.status_code == 422 and "at most 1 MB" in too_big.json()["error"]["message"]
    assert client.get("/v1/me/avatar", headers=member["headers"]).content == png  # a refusal changes nothing
    stranger = register(client)
    assert client.get("/v1/me/avatar", headers=stranger["headers"]).status_code == 404  # one's own only
    assert client.delete("/v1/me/avatar", headers=member["headers"]).status_code == 204
    assert client.get("/v1/me/avatar", headers=member["headers"]).status_code == 404
    assert client.get("/v1/me", headers=member["headers"]).json()["has_avatar"] is False


def test_free_titles_play_for_members_without_a_subscription(client, api_engine):
    boss = users.register(api_engine, "free.boss@example.com", "Free Boss", "correct-horse-42", role="admin")
    title_id = playable.find_title(api_engine, "t3").title_id
    content_admin.patch_title(api_engine, title_id, {"access_level": "free"}, acting_user_id=boss.user_id)
    never = register(client)
    never["profile_id"] = client.get("/v1/me/profiles", headers=never["headers"]).json()["items"][0]["profile_id"]
    free = play(client, never, "t3", device="device-free")
    assert free.status_code == 201, free.text
    assert play(client, never, "t1", device="device-free").json()["error"]["code"] == "playback_no_subscription"
    content_admin.patch_title(api_engine, title_id, {"access_level": "basic"}, acting_user_id=boss.user_id)

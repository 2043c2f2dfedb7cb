"""The catalogue and a profile's library over the API, on backend.catalogue and backend.watching:
search with typos and filters, title details, a Kids profile's cap, My List, ratings, home rows,
recommendations and recently watched; another member's profiles out of reach."""

from backend.billing import checkout as billing_checkout
from backend.billing import gateway as gateways
from backend.billing import state as billing_state
from tests.api.conftest import new_key, post, register

CARD = billing_state.CardDetails(gateways.SUCCESS_CARD, 12, 2030, "123")


def member_with_profiles(client):
    member = register(client)
    member["adult"] = client.get("/v1/me/profiles", headers=member["headers"]).json()["items"][0]["profile_id"]
    member["kids"] = post(client, "/v1/me/profiles", member, {"name": "Kids", "is_kids": True}).json()["profile_id"]
    return member


def test_search_tolerates_typos_and_filters(client):
    found = client.get("/v1/titles", params={"q": "harbor lihgts"}).json()
    assert found["items"][0]["show_id"] == "t2" and found["query"] == "harbor lihgts"
    films = client.get("/v1/titles", params={"kind": "movie", "page_size": 100}).json()["items"]
    assert films and all(c["kind"] == "movie" for c in films)
    premium = client.get("/v1/titles", params={"access_level": "premium", "year_from": 2020}).json()["items"]
    assert premium and all(c["access_level"] == "premium" and c["release_year"] >= 2020 for c in premium)
    assert client.get("/v1/titles", params={"sort": "sideways"}).json()["error"]["field"] == "query.sort"
    facets = client.get("/v1/facets").json()
    assert "Dramas" in facets["genres"] and facets["year_min"] <= facets["year_max"]


def test_title_details_with_episodes(client):
    series = client.get("/v1/titles/t2").json()
    assert series["card"]["title"] == "Harbour Lights" and series["seasons"] == 2
    assert series["episodes"][0]["season_number"] == 1 and len({e["season_number"] for e in series["episodes"]}) == 2
    assert series["countries"] == ["United Kingdom"]
    film = client.get("/v1/titles/t1").json()
    assert film["episodes"] == [] and film["directors"] == ["Ada Quill"]
    assert client.get("/v1/titles/nope").status_code == 404


def test_a_kids_profile_browses_within_its_cap(client):
    member = member_with_profiles(client)
    everything = client.get("/v1/titles", params={"page_size": 100}).json()["items"]
    kids = client.get(
        "/v1/titles", params={"page_size": 100, "profile_id": member["kids"]}, headers=member["headers"]
    ).json()["items"]
    assert {c["audience"] for c in kids} <= {"kids", "older_kids"} and len(kids) < len(everything)
    hidden = client.get("/v1/titles/t2", params={"profile_id": member["kids"]}, headers=member["headers"])
    assert hidden.status_code == 404
    assert client.get("/v1/titles", params={"profile_id": member["kids"]}).status_code == 401  # needs sign-in
    stranger = register(client)
    assert (
        client.get("/v1/titles", params={"profile_id": member["kids"]}, headers=stranger["headers"]).status_code == 404
    )


def test_my_list_and_ratings(client):
    member = member_with_profiles(client)
    base, headers = f"/v1/me/profiles/{member['adult']}", member["headers"]
    assert client.put(f"{base}/my-list/t1", headers=headers).status_code == 204
    assert client.put(f"{base}/my-list/t1", headers=headers).status_code == 204  # again: no change
    assert [c["show_id"] for c in client.get(f"{base}/my-list", headers=headers).json()["items"]] == ["t1"]
    kids_base = f"/v1/me/profiles/{member['kids']}"
    refused = client.put(f"{kids_base}/my-list/t2", headers=headers)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "title_not_found"
    assert client.get(f"{kids_base}/my-list", headers=headers).json()["items"] == []
    assert client.delete(f"{base}/my-list/t1", headers=headers).status_code == 204
    assert client.delete(f"{base}/my-list/t1", headers=headers).status_code == 404

    rated = client.put(f"{base}/ratings/t1", headers=headers, json={"score": 2, "review": "  Lovely.  "})
    assert rated.status_code == 200 and (rated.json()["score"], rated.json()["review"]) == (2, "Lovely.")
    assert client.get(f"{base}/ratings/t1", headers=headers).json()["score"] == 2
    details = client.get("/v1/titles/t1").json()
    assert details["ratings"]["love"] == 1 and details["reviews"][0]["text"] == "Lovely."
    assert "mine" not in details["reviews"][0]  # anonymous reviews
    assert client.put(f"{base}/ratings/t1", headers=headers, json={"score": 3, "review": None}).status_code == 422
    no_review = client.put(f"{base}/ratings/t1", headers=headers, json={"score": 1})  # a PUT sends every field
    assert no_review.status_code == 422 and no_review.json()["error"]["field"] == "body.review"
    assert client.delete(f"{base}/ratings/t1", headers=headers).status_code == 204
    assert client.get(f"{base}/ratings/t1", headers=headers).status_code == 404


def test_home_recommendations_and_recently_watched(client, api_engine, plan_ids):
    member = member_with_profiles(client)
    billing_checkout.checkout(api_engine, member["user"]["user_id"], plan_ids["Premium"], CARD, new_key())
    base, headers = f"/v1/me/profiles/{member['adult']}", member["headers"]
    lease = post(
        client, "/v1/me/playback", member, {"profile_id": member["adult"], "show_id": "t1", "device_id": "device-home"}
    ).json()["lease_id"]
    client.put(f"/v1/me/playback/{lease}/position", headers=headers, json={"position_seconds": 60, "state": "playing"})
    rows = client.get(f"{base}/home", headers=headers).json()["items"]
    keys = [r["key"] for r in rows]
    assert keys[0] == "continue" and rows[0]["items"][0]["show_id"] == "t1" and rows[0]["progress"]["t1"] > 0
    assert [c["show_id"] for c in client.get(f"{base}/recently-watched", headers=headers).json()["items"]] == ["t1"]
    recommended = client.get(f"{base}/recommendations", headers=headers).json()["items"]
    assert recommended and all(r["key"].startswith(("picks", "because:", "genre:", "popular")) for r in recommended)
    assert all(c["show_id"] != "t1" for r in recommended for c in r["items"])  # already watched
    similar = client.get("/v1/titles/t1/similar").json()["items"]
    assert similar and all(c["show_id"] != "t1" for c in similar)
    stranger = register(client)
    assert client.get(f"{base}/home", headers=stranger["headers"]).status_code == 404
    assert client.put(f"{base}/my-list/t1", headers=stranger["headers"]).status_code == 404

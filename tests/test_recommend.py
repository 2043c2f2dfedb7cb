"""Recommendations on real PostgreSQL: TF-IDF content similarity, co-viewing from what profiles watched,
the blend, maturity, exclusions and the per-process model cache."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

import database
from backend.watching import recommend
from etl.load_catalogue import load_catalogue
from tests.discovery_fixtures import DISCOVERY_CSV, member, title_id, watched

KIDS_ONLY = ("kids", "older_kids")


@pytest.fixture(scope="module")
def engine(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, DISCOVERY_CSV)
    # Three profiles watched both The Crown Jewels and Under_score Story (unlike in content); one watched
    # The Crown Jewels and Dark Signals; Blood Harvest is the most watched horror film.
    for _ in range(3):
        user, adult, _ = member(engine, kids=False)
        for show in ("d13", "d11", "d10"):
            watched(engine, user.user_id, adult.profile_id, show)
    user, adult, _ = member(engine, kids=False)
    for show in ("d13", "d15", "d9"):
        watched(engine, user.user_id, adult.profile_id, show)
    recommend.forget_models()
    yield engine
    recommend.forget_models()
    database.dispose_engines()


@pytest.fixture
def models(engine):
    return recommend.models(engine)


def shows(engine, ids: list[int]) -> list[str]:
    with engine.connect() as conn:
        by_id = dict(
            conn.execute(text("SELECT title_id, show_id FROM titles WHERE title_id = ANY (:ids)"), {"ids": ids}).all()
        )
    return [by_id[i] for i in ids]


def test_content_similarity_finds_the_companion_series(engine, models):
    assert shows(engine, recommend.similar_titles(models, title_id(engine, "d1"), limit=3))[0] == "d2"


def test_similar_titles_respect_the_maturity_cap(engine, models):
    found = shows(engine, recommend.similar_titles(models, title_id(engine, "d7"), allowed=KIDS_ONLY, limit=5))
    assert found and set(found) <= {"d6", "d8", "d16"}  # the kids' titles only
    assert "d6" in found[:2]  # same director and story words


def test_co_viewing_needs_two_members_watching_both(engine, models):
    rows = recommend._rows(models.content, [title_id(engine, "d13")])
    coview = recommend.coview_scores(models, rows)
    assert coview[models.content.index[title_id(engine, "d11")]] > 0
    assert coview[models.content.index[title_id(engine, "d15")]] == 0  # one member only: chance
    assert "d11" in shows(engine, recommend.similar_titles(models, title_id(engine, "d13"), limit=3))


def test_top_picks_leave_out_history_and_exclusions(engine, models):
    history = [title_id(engine, s) for s in ("d13", "d3")]
    excluded = title_id(engine, "d11")
    picks = recommend.top_picks(models, history, exclude={excluded}, limit=10)
    assert picks and not set(picks) & {*history, excluded}
    assert recommend.top_picks(models, [], limit=5) == []


def test_popular_in_genre_by_viewers(engine, models):
    horror = shows(engine, recommend.popular_in_genre(models, "Horror Movies", limit=5))
    assert horror[0] == "d10" and set(horror) == {"d9", "d10", "d15"}  # 3 viewers, then 1 each
    assert shows(engine, recommend.popular(models, limit=1)) == ["d13"]
    assert recommend.popular_in_genre(models, "No Such Genre") == []


def test_model_is_cached_and_refitted_when_the_catalogue_changes(engine, monkeypatch):
    first = recommend.content_model(engine)
    assert recommend.content_model(engine) is first
    monkeypatch.setattr(recommend, "VERSION_CHECK_EVERY", 0)
    assert recommend.content_model(engine) is first  # same catalogue version
    with engine.begin() as conn:
        conn.execute(text("UPDATE titles SET updated_at = updated_at + interval '1 second' WHERE show_id = 'd1'"))
    refitted = recommend.content_model(engine)
    assert refitted is not first and np.array_equal(refitted.title_ids, first.title_ids)

"""My List and ratings on real PostgreSQL: per profile, idempotent, editable, length-limited, never across
accounts, and the maturity cap applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

import database
from backend.catalogue import cards as title_cards
from backend.watching import library
from etl.load_catalogue import load_catalogue
from tests.discovery_fixtures import DISCOVERY_CSV, member, title_id

KIDS_ONLY = ("kids", "older_kids")
T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine(module_db_url):
    engine = database.get_engine(module_db_url)
    load_catalogue(engine, DISCOVERY_CSV)
    yield engine
    database.dispose_engines()


def test_my_list_add_twice_order_and_remove(engine):
    user, adult, kids = member(engine)
    uid, pid = user.user_id, adult.profile_id
    library.add_to_list(engine, uid, pid, "d3", now=T0)
    library.add_to_list(engine, uid, pid, "d1", now=T0 + timedelta(minutes=1))
    library.add_to_list(engine, uid, pid, "d3", now=T0 + timedelta(minutes=2))  # again: no change
    assert [c.show_id for c in library.my_list(engine, uid, pid)] == ["d1", "d3"]
    assert library.in_list(engine, uid, pid, title_id(engine, "d3"))
    assert library.my_list(engine, uid, kids.profile_id) == []  # each profile has its own list
    assert library.remove_from_list(engine, uid, pid, "d3") and not library.remove_from_list(engine, uid, pid, "d3")
    assert [c.show_id for c in library.my_list(engine, uid, pid)] == ["d1"]


def test_kids_profile_cannot_save_or_rate_adult_titles(engine):
    user, _, kids = member(engine)
    with pytest.raises(library.LibraryError, match="not available"):
        library.add_to_list(engine, user.user_id, kids.profile_id, "d9", allowed=KIDS_ONLY)
    with pytest.raises(library.LibraryError, match="not available"):
        library.rate(engine, user.user_id, kids.profile_id, "d9", 1, allowed=KIDS_ONLY)
    library.add_to_list(engine, user.user_id, kids.profile_id, "d6", allowed=KIDS_ONLY)
    assert [c.show_id for c in library.my_list(engine, user.user_id, kids.profile_id, allowed=KIDS_ONLY)] == ["d6"]


def test_another_accounts_profile_cannot_be_written(engine):
    mine, _, _ = member(engine)
    _, theirs, _ = member(engine)
    with pytest.raises(IntegrityError):
        library.add_to_list(engine, mine.user_id, theirs.profile_id, "d1")
    with pytest.raises(IntegrityError):
        library.rate(engine, mine.user_id, theirs.profile_id, "d1", 2)


def test_one_rating_per_profile_and_title_editable(engine):
    user, adult, _ = member(engine)
    uid, pid, tid = user.user_id, adult.profile_id, title_id(engine, "d4")
    library.rate(engine, uid, pid, "d4", 1, "  Fine.  ", now=T0)
    edited = library.rate(engine, uid, pid, "d4", 2, "Loved it <b>really</b> *so* much", now=T0 + timedelta(hours=1))
    assert edited.score == 2 and edited.review == "Loved it <b>really</b> *so* much"  # stored as typed
    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT score, created_at, updated_at FROM ratings
                                    WHERE user_id = :u AND title_id = :t"""),
            {"u": uid, "t": tid},
        ).all()
    assert rows == [(2, T0, T0 + timedelta(hours=1))]
    assert library.my_rating(engine, uid, pid, tid).score == 2
    library.rate(engine, uid, pid, "d4", -1, "", now=T0 + timedelta(hours=2))
    assert library.my_rating(engine, uid, pid, tid).review is None


def test_bad_ratings_are_refused_and_change_nothing(engine):
    user, adult, _ = member(engine)
    uid, pid, tid = user.user_id, adult.profile_id, title_id(engine, "d5")
    library.rate(engine, uid, pid, "d5", 1, "Short and sweet", now=T0)
    with pytest.raises(library.LibraryError, match=str(library.MAX_REVIEW_LENGTH)):
        library.rate(engine, uid, pid, "d5", 2, "x" * (library.MAX_REVIEW_LENGTH + 1))
    with pytest.raises(library.LibraryError, match="thumbs"):
        library.rate(engine, uid, pid, "d5", 5)
    with pytest.raises(library.LibraryError, match="not available"):
        library.rate(engine, uid, pid, "no-such-title", 1)
    kept = library.my_rating(engine, uid, pid, tid)
    assert (kept.score, kept.review) == (1, "Short and sweet")


def test_summary_and_anonymous_reviews(engine):
    tid = title_id(engine, "d14")
    before = library.rating_summary(engine, tid)
    raters = [member(engine, kids=False) for _ in range(3)]
    for (user, adult, _), score in zip(raters, (2, 1, -1), strict=True):
        library.rate(engine, user.user_id, adult.profile_id, "d14", score, f"review {score}", now=T0)
    summary = library.rating_summary(engine, tid)
    assert (summary.love - before.love, summary.up - before.up, summary.down - before.down) == (1, 1, 1)
    assert summary.liked_share == pytest.approx((summary.up + summary.love) / summary.total)
    me = raters[0]
    reviews = library.reviews(engine, tid, user_id=me[0].user_id, profile_id=me[1].profile_id)
    assert [r.mine for r in reviews if r.text == "review 2"] == [True]
    assert sum(r.mine for r in reviews) == 1
    assert library.rating_summary(engine, title_id(engine, "d13")).liked_share is None


def test_cards_leave_out_what_a_profile_may_not_see(engine):
    ids = [title_id(engine, s) for s in ("d9", "d6", "d1")]
    with engine.connect() as conn:
        assert [c.show_id for c in title_cards.cards_by_ids(conn, ids, None)] == ["d9", "d6", "d1"]
        assert [c.show_id for c in title_cards.cards_by_ids(conn, ids, KIDS_ONLY)] == ["d6"]

"""Admin management of titles: add, edit, deactivate; bad input refused with nothing changed; an edit
survives the next ETL run and is overwritten only when the run asks to."""

import re

import pytest
from sqlalchemy import text

from backend.accounts import passwords, users
from backend.admin import audit_log, content
from backend.admin.checks import AdminError
from backend.admin.content import TitleInput
from backend.core import errors as core_errors
from etl import load_catalogue as etl
from tests.conftest import QUIRKS_CSV


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)


@pytest.fixture
def admin_id(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    return users.register(engine, "admin@example.com", "Ada Admin", "correct horse 42", role="admin").user_id


def title_id(engine, show_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT title_id FROM titles WHERE show_id = :s"), {"s": show_id}).scalar_one()


def catalogue_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("""
            SELECT t.*, ARRAY(SELECT genre_id FROM title_genres g WHERE g.title_id = t.title_id ORDER BY position),
                   (SELECT count(*) FROM episodes e WHERE e.title_id = t.title_id AND e.is_active)
            FROM titles t ORDER BY title_id""")
            )
        ]


def as_input(detail: dict, **changes) -> TitleInput:
    fields = {
        k: detail[k]
        for k in (
            "title",
            "kind",
            "description",
            "release_year",
            "access_level",
            "duration_minutes",
            "seasons",
            "genres",
            "date_added",
        )
    }
    return TitleInput(**{**fields, "maturity_rating": detail["maturity_rating"] or "", **changes})


def test_an_edit_survives_the_next_etl_run_and_is_overwritten_on_request(engine, admin_id):
    lantern = title_id(engine, "t1")
    detail = content.get_title(engine, lantern, acting_user_id=admin_id)
    changed = content.update_title(
        engine,
        lantern,
        as_input(
            detail,
            title="The Paper Lantern (Director's Cut)",
            maturity_rating="R",
            access_level="premium",
            genres=["Dramas", "Cult Movies"],
        ),
        acting_user_id=admin_id,
    )
    assert set(changed) == {"title", "maturity_rating", "access_level", "genres"}
    edited = content.get_title(engine, lantern, acting_user_id=admin_id)
    assert (edited["audience"], edited["genres"]) == ("adults", ["Dramas", "Cult Movies"])

    kept = etl.run_logged(engine, QUIRKS_CSV)
    assert (kept.kept_edits, kept.updated) == (1, 0)
    after = content.get_title(engine, lantern, acting_user_id=admin_id)
    assert after["title"] == "The Paper Lantern (Director's Cut)" and after["genres"] == ["Dramas", "Cult Movies"]
    assert after["edited_at"] is not None

    overwritten = etl.run_logged(engine, QUIRKS_CSV, overwrite_edits=True)
    assert (overwritten.kept_edits, overwritten.updated) == (0, 1)
    restored = content.get_title(engine, lantern, acting_user_id=admin_id)
    assert (restored["title"], restored["maturity_rating"], restored["access_level"]) == (
        "The Paper Lantern",
        "PG-13",
        "basic",
    )
    assert restored["genres"] == ["Dramas", "Independent Movies"] and restored["edited_at"] is None
    [row] = audit_log.entries(engine, acting_user_id=admin_id)
    assert row["before"]["title"] == "The Paper Lantern" and row["after"]["access_level"] == "premium"


def test_a_deactivated_title_stays_out_until_reactivated_or_overwritten(engine, admin_id):
    harbour = title_id(engine, "t2")
    content.set_title_active(engine, harbour, False, acting_user_id=admin_id)
    etl.load_catalogue(engine, QUIRKS_CSV)
    assert content.get_title(engine, harbour, acting_user_id=admin_id)["is_active"] is False
    with pytest.raises(AdminError, match="already inactive"):
        content.set_title_active(engine, harbour, False, acting_user_id=admin_id)
    etl.load_catalogue(engine, QUIRKS_CSV, overwrite_edits=True)
    assert content.get_title(engine, harbour, acting_user_id=admin_id)["is_active"] is True
    assert [e["action"] for e in audit_log.entries(engine, acting_user_id=admin_id)] == ["title.deactivate"]


def test_an_added_series_gets_episodes_and_is_never_deactivated_by_the_csv(engine, admin_id, tmp_path):
    added = content.create_title(
        engine,
        TitleInput(
            title="Night Ferry",
            kind="tv_show",
            description="A crossing.",
            release_year=2025,
            maturity_rating="TV-14",
            access_level="premium",
            seasons=2,
            genres=["Crime TV Shows", "Brand New Genre"],
        ),
        acting_user_id=admin_id,
    )
    assert re.fullmatch(r"a\d+", added["show_id"])
    detail = content.get_title(engine, added["title_id"], acting_user_id=admin_id)
    assert (detail["origin"], detail["audience"], detail["is_active"]) == ("admin", "teens", True)
    with engine.connect() as conn:
        seasons = (
            conn.execute(
                text("SELECT DISTINCT season_number FROM episodes WHERE title_id = :t AND is_active ORDER BY 1"),
                {"t": added["title_id"]},
            )
            .scalars()
            .all()
        )
    assert seasons == [1, 2]

    content.update_title(engine, added["title_id"], as_input(detail, seasons=1), acting_user_id=admin_id)
    with engine.connect() as conn:
        seasons = (
            conn.execute(
                text("SELECT DISTINCT season_number FROM episodes WHERE title_id = :t AND is_active"),
                {"t": added["title_id"]},
            )
            .scalars()
            .all()
        )
    assert seasons == [1]

    smaller = tmp_path / "smaller.csv"  # the CSV without t8: only CSV titles can go
    smaller.write_text(
        "".join(line for line in QUIRKS_CSV.read_text().splitlines(keepends=True) if not line.startswith("t8,"))
    )
    summary = etl.load_catalogue(engine, smaller, overwrite_edits=True)
    assert summary.deactivated == 1
    assert content.get_title(engine, added["title_id"], acting_user_id=admin_id)["is_active"] is True


BAD_TITLES = [
    ({"title": "  "}, "Enter the title."),
    ({"title": "x" * 201}, "at most 200 characters"),
    ({"release_year": 1700}, "The release year must be from 1880 to 2100."),
    ({"release_year": "soon"}, "The release year must be a whole number"),
    ({"duration_minutes": 0}, "The running time (minutes) must be"),
    ({"duration_minutes": None}, "The running time (minutes) must be a whole number"),
    ({"maturity_rating": "XXX"}, "The maturity rating must be one of"),
    ({"access_level": "vip"}, "The access level must be one of: free, basic, premium."),
    ({"genres": []}, "Choose at least one genre."),
    ({"genres": [" ", ""]}, "Choose at least one genre."),
    ({"genres": [f"G{i}" for i in range(11)]}, "at most 10 genres"),
    ({"kind": "podcast"}, "The type must be one of: movie, tv_show."),
    ({"description": "d" * 2001}, "at most 2000 characters"),
]


def test_bad_title_input_is_refused_with_a_clear_message_and_nothing_changes(engine, admin_id):
    lantern = title_id(engine, "t1")
    good = as_input(content.get_title(engine, lantern, acting_user_id=admin_id))
    before = catalogue_rows(engine)
    for change, message in BAD_TITLES:
        bad = TitleInput(**{**good.__dict__, **change})
        attempts = [(content.create_title, (engine, bad))]
        if "kind" not in change:  # an edit keeps the type
            attempts.append((content.update_title, (engine, lantern, bad)))
        for attempt, args in attempts:
            with pytest.raises(AdminError) as refused:
                attempt(*args, acting_user_id=admin_id)
            assert message in str(refused.value), (change, str(refused.value))
    with pytest.raises(AdminError, match=re.escape("The number of seasons must be from 1 to 60.")):
        content.create_title(
            engine, TitleInput(**{**good.__dict__, "kind": "tv_show", "seasons": 61}), acting_user_id=admin_id
        )
    assert catalogue_rows(engine) == before
    assert audit_log.entries(engine, acting_user_id=admin_id) == []


def test_non_admins_cannot_touch_the_catalogue(engine, admin_id):
    analyst = users.register(engine, "an@example.com", "Ann Alyst", "correct horse 42", role="analyst")
    lantern = title_id(engine, "t1")
    good = as_input(content.get_title(engine, lantern, acting_user_id=admin_id))
    before = catalogue_rows(engine)
    for who in (None, analyst.user_id):
        for function, *args in [
            (content.create_title, engine, good),
            (content.update_title, engine, lantern, good),
            (content.set_title_active, engine, lantern, False),
            (content.find_titles, engine),
            (content.get_title, engine, lantern),
        ]:
            with pytest.raises(core_errors.NotAuthorised):
                function(*args, acting_user_id=who)
    assert catalogue_rows(engine) == before


def test_find_titles_by_name_show_id_and_status(engine, admin_id):
    assert [t["show_id"] for t in content.find_titles(engine, "harbour", acting_user_id=admin_id)] == ["t2"]
    assert [t["show_id"] for t in content.find_titles(engine, "T5", acting_user_id=admin_id)] == ["t5"]
    content.set_title_active(engine, title_id(engine, "t5"), False, acting_user_id=admin_id)
    assert [t["show_id"] for t in content.find_titles(engine, "", status="inactive", acting_user_id=admin_id)] == ["t5"]
    assert [t["show_id"] for t in content.find_titles(engine, "", status="edited", acting_user_id=admin_id)] == ["t5"]
    with pytest.raises(AdminError, match="The status must be one of"):
        content.find_titles(engine, "", status="deleted", acting_user_id=admin_id)

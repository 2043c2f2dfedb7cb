"""Reloads that cannot corrupt, on real PostgreSQL and invented catalogues (tests/catalogue_files.py): titles are
matched by what they are, so a re-numbered, shuffled release maps onto the same titles and members' ratings,
progress, lists and viewing keep their meaning; the dry run says what a load would do and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from backend.accounts import users
from backend.admin import content
from backend.watching import library
from etl import load_catalogue as etl
from etl.refusals import Renumbered
from tests import catalogue_files as files
from tests.discovery_fixtures import member, watched
from tests.test_catalogue_etl import snapshot

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def meanings(engine) -> dict[int, tuple]:
    """title_id -> what the title is (never its show id)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT title_id, kind, title, release_year, description FROM titles")).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def members_view(engine) -> set[tuple]:
    """Every member's rating, progress, list entry and viewing row, by what the title is."""
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("""
            SELECT 'rating', r.user_id, r.profile_id, t.kind, t.title, t.description, r.score::text
            FROM ratings r JOIN titles t USING (title_id)
            UNION ALL
            SELECT 'progress', v.user_id, v.profile_id, t.kind, t.title, t.description,
                   coalesce(e.season_number || 'x' || e.episode_number, '') || '@' || v.position_seconds
            FROM viewing_progress v JOIN titles t USING (title_id) LEFT JOIN episodes e USING (episode_id)
            UNION ALL
            SELECT 'list', l.user_id, l.profile_id, t.kind, t.title, t.description, ''
            FROM list_entries l JOIN titles t USING (title_id)
            UNION ALL
            SELECT 'viewing', p.user_id, p.profile_id, t.kind, t.title, t.description, p.watched_seconds::text
            FROM playback_events p JOIN titles t USING (title_id)""")
            ).all()
        )


def title_id_of(engine, show_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT title_id FROM titles WHERE show_id = :s"), {"s": show_id}).scalar_one()


def played(engine, user_id: int, profile_id: int, show_id: str, seconds: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("""INSERT INTO playback_events (user_id, profile_id, title_id, started_at, watched_seconds)
                    SELECT :u, :p, title_id, :at, :w FROM titles WHERE show_id = :s"""),
            {"u": user_id, "p": profile_id, "s": show_id, "at": T0, "w": seconds},
        )


@pytest.fixture
def loaded(engine, tmp_path):
    """The invented catalogue loaded, and one member's rating, progress, list entry and viewing on four titles."""
    etl.load_catalogue(engine, files.write(tmp_path / "first.csv", files.TITLES))
    user, adult, _ = member(engine, kids=False)
    uid, pid = user.user_id, adult.profile_id
    library.rate(engine, uid, pid, "r1", 2, now=T0)  # The Paper Lantern: loved
    library.rate(engine, uid, pid, "r4", -1, now=T0)  # the Night Train by Rafe Cole: thumbs down
    library.add_to_list(engine, uid, pid, "r3", now=T0)  # the other Night Train
    watched(engine, uid, pid, "r5", completed=False, at=T0, position=1200)  # Kitchen Wars, S1 E1
    played(engine, uid, pid, "r8", 3000)  # Glass Meadow
    return user


def test_a_renumbered_shuffled_release_keeps_every_title_and_members_row(engine, loaded, tmp_path):
    before_titles, before_members = meanings(engine), members_view(engine)
    before_episodes = snapshot(engine)["episodes"]
    copy = files.write(tmp_path / "renumbered.csv", files.renumbered(files.TITLES))

    preview = etl.load_catalogue(engine, copy, dry_run=True)
    assert (preview.inserted, preview.updated, preview.reidentified, preview.deactivated) == (0, 0, 10, 0)
    assert preview.ids_changing_meaning == preview.shared_ids == 10
    assert preview.member_rows["reidentified"] == {"ratings": 2, "progress": 1, "lists": 1, "viewing": 1}
    assert preview.refusal.startswith("10 of the 10 show ids this file shares with the catalogue (100%)")
    assert preview.refusal_override == "allow_renumbering"
    lines = etl.preview_lines(preview, "renumbered.csv")
    assert any(
        line.split()[:2] == ["re-identified", "10"] and line.split()[-4:] == ["2", "1", "1", "1"] for line in lines
    )
    assert lines[-1].endswith("if that is intended, run again with --allow-renumbering.")

    with pytest.raises(Renumbered, match="name other titles than they do now"):
        etl.run_logged(engine, copy)
    assert meanings(engine) == before_titles and members_view(engine) == before_members

    summary = etl.load_catalogue(engine, copy, allow_renumbering=True)
    assert (summary.inserted, summary.updated, summary.reidentified, summary.deactivated) == (0, 0, 10, 0)
    assert meanings(engine) == before_titles  # every title id still names the same title
    assert members_view(engine) == before_members  # and members' rows stay on them
    assert snapshot(engine)["episodes"] == before_episodes  # same episodes, same ids: nobody's episode re-planned
    renumbered = {r["_key"]: r["show_id"] for r in files.renumbered(files.TITLES)}
    assert title_id_of(engine, renumbered["r1"]) == before_ids(before_titles, "The Paper Lantern")
    with engine.connect() as conn:
        releases = conn.execute(
            text("""SELECT r.release_id, count(*) FROM catalogue_releases r JOIN title_source_ids x USING (release_id)
                    GROUP BY 1 ORDER BY 1""")
        ).all()
        assert [n for _, n in releases] == [10, 10]  # each release's ids, recorded
        assert conn.execute(text("SELECT count(*) FROM catalogue_stage")).scalar() == 0
    again = etl.load_catalogue(engine, copy)
    assert (again.inserted, again.updated, again.reidentified, again.deactivated) == (0, 0, 0, 0)


def before_ids(titles: dict[int, tuple], name: str) -> int:
    return next(i for i, t in titles.items() if t[1] == name)


def directors_of(engine, title_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("""SELECT p.name FROM title_people tp JOIN people p USING (person_id)
                        WHERE tp.title_id = :i AND tp.role = 'director'"""),
                {"i": title_id},
            ).scalars()
        )


def test_same_identity_titles_swap_ids_and_are_told_apart_by_their_people(engine, loaded, tmp_path):
    stone, cole = title_id_of(engine, "r3"), title_id_of(engine, "r4")  # two 'Night Train' (2019) films
    rows = [dict(r) for r in files.TITLES]
    rows[2]["show_id"], rows[3]["show_id"] = "r4", "r3"  # they swap ids, and only their people differ now
    for night_train in rows[2:4]:
        night_train.update(date_added="May 5, 2020", description="A night train.")
    rows[2], rows[3] = rows[3], rows[2]  # (and Rafe Cole's comes first, for no reason to pair by order)
    summary = etl.load_catalogue(engine, files.write(tmp_path / "swap.csv", rows), allow_renumbering=True)
    assert summary.reidentified == 2 and summary.inserted == summary.deactivated == 0
    assert (title_id_of(engine, "r4"), title_id_of(engine, "r3")) == (stone, cole)
    assert (directors_of(engine, stone), directors_of(engine, cole)) == (["Uma Stone"], ["Rafe Cole"])
    with engine.connect() as conn:
        disliked = conn.execute(text("SELECT title_id FROM ratings WHERE score < 0")).scalar_one()
    assert disliked == cole  # the thumbs down stayed on Rafe Cole's film


def test_a_different_work_under_a_known_name_and_year_is_a_new_title(engine, loaded, tmp_path):
    glass = title_id_of(engine, "r8")
    rows = [r for r in files.TITLES if r["show_id"] != "r8"]
    rows.append(files.row("n1", "Movie", "Glass Meadow", "Ines Vale", "Otto Bram", "June 5, 2021", 2015, "R",
                          "91 min", "Horror Movies", "Something lives under the meadow."))  # fmt: skip
    summary = etl.load_catalogue(engine, files.write(tmp_path / "namesake.csv", rows))
    assert (summary.inserted, summary.reidentified, summary.deactivated) == (1, 0, 1)  # no one in common: not it
    with engine.connect() as conn:
        active = conn.execute(text("SELECT is_active FROM titles WHERE title_id = :i"), {"i": glass}).scalar()
        viewing = conn.execute(text("SELECT DISTINCT title_id FROM playback_events")).scalars().all()
    assert active is False and viewing == [glass]


def test_an_older_release_with_other_ids_maps_titles_and_hides_only_what_it_lacks(engine, loaded, tmp_path):
    ids = meanings(engine)
    older = files.renumbered(files.TITLES[:8], seed=3, prefix="x")  # lacks Salt Roads and Copper Sky
    older.append(files.row("x11", "Movie", "Winter Bells", "Jo Tan", "Kit Rowe", "May 1, 2012", 2010, "G",
                           "80 min", "Dramas", "A choir snowed in at a mountain inn."))  # fmt: skip
    path = files.write(tmp_path / "older.csv", older)
    preview = etl.load_catalogue(engine, path, dry_run=True)
    assert (preview.inserted, preview.reidentified, preview.deactivated) == (1, 8, 2)
    assert preview.shared_ids == 0 and preview.refusal is None  # new ids only: none changes meaning
    summary = etl.run_logged(engine, path)
    assert (summary.inserted, summary.reidentified, summary.deactivated, summary.titles) == (1, 8, 2, 9)
    after = meanings(engine)
    assert {i: after[i] for i in ids} == ids  # the old titles are the same; one new title added
    with engine.connect() as conn:
        hidden = conn.execute(text("SELECT title, show_id FROM titles WHERE NOT is_active ORDER BY 1")).all()
    assert hidden == [("Copper Sky", "r10"), ("Salt Roads", "r9")]


def test_a_new_title_taking_a_gone_titles_id_is_new_and_the_old_one_keeps_its_members(engine, loaded, tmp_path):
    glass = title_id_of(engine, "r8")
    rows = [r for r in files.TITLES if r["show_id"] != "r8"]
    rows.append(files.row("r8", "Movie", "Iron Harbour", "Sal Dune", "Vic Omar", "June 5, 2021", 2021, "R",
                          "110 min", "Action & Adventure", "A dock strike turns into a siege."))  # fmt: skip
    path = files.write(tmp_path / "reused.csv", rows)
    preview = etl.load_catalogue(engine, path, dry_run=True)
    assert (preview.inserted, preview.renamed, preview.deactivated, preview.ids_changing_meaning) == (1, 0, 1, 1)
    assert preview.member_rows["deactivated"]["viewing"] == 1
    assert "r8 was 'Glass Meadow', now 'Iron Harbour'" in preview.examples["meaning"]
    etl.load_catalogue(engine, path)  # one id in ten changing meaning is not "a large share"
    with engine.connect() as conn:
        old = conn.execute(text("SELECT title, show_id, is_active FROM titles WHERE title_id = :i"), {"i": glass}).one()
        viewing = conn.execute(text("SELECT DISTINCT title_id FROM playback_events")).scalars().all()
    assert old == ("Glass Meadow", f"r8~{glass}", False)  # hidden, its id retired
    assert viewing == [glass]  # the member's viewing is still of Glass Meadow
    assert title_id_of(engine, "r8") != glass


def test_a_renamed_title_with_the_same_id_and_people_stays_the_same_title(engine, loaded, tmp_path):
    lantern = title_id_of(engine, "r1")
    rows = [dict(r) for r in files.TITLES]
    rows[0]["title"] = "The Paper Lanterns of Ulm"
    path = files.write(tmp_path / "renamed.csv", rows)
    preview = etl.load_catalogue(engine, path, dry_run=True)
    assert (preview.renamed, preview.inserted, preview.deactivated) == (1, 0, 0)
    assert preview.examples["renamed"] == ["r1 'The Paper Lantern' -> 'The Paper Lanterns of Ulm'"]
    assert preview.member_rows["renamed"]["ratings"] == 1
    etl.load_catalogue(engine, path)
    assert title_id_of(engine, "r1") == lantern
    assert meanings(engine)[lantern][1] == "The Paper Lanterns of Ulm"


def test_a_corrected_release_year_is_the_same_title(engine, loaded, tmp_path):
    rows = files.renumbered(files.TITLES, seed=5, prefix="y")
    salt = next(r for r in rows if r["_key"] == "r9")
    salt["release_year"] = "2015"  # corrected by a year, and re-numbered
    summary = etl.load_catalogue(engine, files.write(tmp_path / "year.csv", rows))
    assert (summary.inserted, summary.deactivated, summary.reidentified) == (0, 0, 10)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM titles WHERE title = 'Salt Roads'")).scalar() == 1


def test_an_admins_edits_are_kept_when_the_title_is_re_identified(engine, loaded, tmp_path):
    admin = users.register(engine, "boss@example.com", "Bo Boss", "correct horse 42", role="admin")
    kitchen = title_id_of(engine, "r5")
    entry = content.TitleInput(title="Kitchen Wars: Remastered", kind="tv_show", seasons=3, genres=["Reality TV"],
                               release_year=2020, access_level="premium", maturity_rating="TV-14")  # fmt: skip
    content.update_title(engine, kitchen, entry, acting_user_id=admin.user_id)
    copy = files.renumbered(files.TITLES)
    summary = etl.load_catalogue(engine, files.write(tmp_path / "renumbered.csv", copy), allow_renumbering=True)
    assert summary.kept_edits == 1 and summary.reidentified == 10
    new_id = next(r["show_id"] for r in copy if r["_key"] == "r5")
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT title, show_id, edited_at IS NOT NULL FROM titles WHERE title_id = :i"),
                            {"i": kitchen}).one()  # fmt: skip
    assert kept == ("Kitchen Wars: Remastered", new_id, True)


def test_a_csv_row_with_an_app_titles_id_is_rejected(engine, loaded, tmp_path):
    admin = users.register(engine, "boss@example.com", "Bo Boss", "correct horse 42", role="admin")
    made = content.create_title(
        engine, content.TitleInput(title="House Special", genres=["Dramas"], duration_minutes=90),
        acting_user_id=admin.user_id,
    )  # fmt: skip
    rows = [*files.TITLES, files.row(made["show_id"], "Movie", "Intruder", "", "", "May 1, 2020", 2020, "PG",
                                     "90 min", "Dramas", "Takes an app title's id.")]  # fmt: skip
    summary = etl.load_catalogue(engine, files.write(tmp_path / "clash.csv", rows))
    assert summary.rejected == 1
    assert f"show_id '{made['show_id']}' is the id of a title added in the app" in str(summary.rejections[0])
    assert meanings(engine)[made["title_id"]][1] == "House Special"

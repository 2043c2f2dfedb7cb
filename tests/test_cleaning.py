"""Cleaning rules of the catalogue ETL, on a fixture CSV written for these quirks."""

from datetime import date

import pytest

from backend.catalogue.rules import (
    AUDIENCE_BY_RATING,
    EPISODE_MINUTES,
    EPISODES_PER_SEASON,
    access_level_for,
    audience_for,
    episode_plan,
)
from etl import dates
from etl.cleaning import (
    RowError,
    clean_catalogue,
    fix_rating_and_duration,
    parse_duration,
    split_list,
)
from etl.load_catalogue import read_catalogue
from etl.plan import LIST_SEPARATOR, stage_values
from etl.reading import read_records
from etl.refusals import BadHeader
from tests.conftest import QUIRKS_CSV


@pytest.fixture(scope="module")
def quirks():
    catalogue = read_catalogue(QUIRKS_CSV)
    return {t.show_id: t for t in catalogue.titles}, catalogue.rejected


def test_split_list_trims_drops_empties_and_duplicates():
    assert split_list(", France, Belgium,") == ["France", "Belgium"]
    assert split_list("United Kingdom,") == ["United Kingdom"]
    assert split_list("Bo Reyes, Cy  Moss, Bo Reyes") == ["Bo Reyes", "Cy Moss"]
    assert split_list("") == []


def test_date_added_with_leading_space_is_parsed():
    reader = dates.detect([])
    assert reader.parse(" August 4, 2017") == date(2017, 8, 4)
    assert reader.parse("September 25, 2021") == date(2021, 9, 25)
    assert reader.parse("") is None
    with pytest.raises(ValueError, match="not a real date"):
        reader.parse("2020/13/45")


def test_duration_in_rating_column_is_moved():
    assert fix_rating_and_duration("74 min", "") == ("", "74 min")
    assert fix_rating_and_duration("PG", "90 min") == ("PG", "90 min")


def test_duration_split_into_minutes_or_seasons():
    assert parse_duration("90 min") == (90, None)
    assert parse_duration("1 Season") == (None, 1)
    assert parse_duration("3 Seasons") == (None, 3)
    assert parse_duration("") == (None, None)
    with pytest.raises(RowError):
        parse_duration("a while")
    with pytest.raises(RowError):
        parse_duration("0 min")


@pytest.mark.parametrize(
    ("rating", "audience"),
    [
        ("TV-Y", "kids"),
        ("G", "kids"),
        ("TV-G", "kids"),
        ("TV-Y7", "older_kids"),
        ("TV-Y7-FV", "older_kids"),
        ("PG", "older_kids"),
        ("TV-PG", "older_kids"),
        ("PG-13", "teens"),
        ("TV-14", "teens"),
        ("R", "adults"),
        ("NC-17", "adults"),
        ("TV-MA", "adults"),
        ("NR", "unrated"),
        ("UR", "unrated"),
        ("", "unrated"),
        (None, "unrated"),
        ("74 min", "unrated"),
    ],
)
def test_maturity_ratings_map_to_audiences(rating, audience):
    assert audience_for(rating) == audience


def test_every_known_rating_has_an_audience_group():
    assert set(AUDIENCE_BY_RATING.values()) == {"kids", "older_kids", "teens", "adults"}


def test_access_level_rule_is_by_release_year():
    assert access_level_for(2020) == "premium"
    assert access_level_for(2021) == "premium"
    assert access_level_for(2019) == "basic"
    assert access_level_for(None) == "basic"


def test_episode_plan_is_deterministic_and_in_range():
    plan = episode_plan("s42", 4)
    assert plan == episode_plan("s42", 4)
    assert len(plan.episodes_per_season) == 4
    assert all(EPISODES_PER_SEASON[0] <= n <= EPISODES_PER_SEASON[1] for n in plan.episodes_per_season)
    assert EPISODE_MINUTES[0] <= plan.minutes <= EPISODE_MINUTES[1]
    assert plan.episodes()[0] == (1, 1)
    assert len(plan.episodes()) == sum(plan.episodes_per_season)
    # Adding a season keeps the earlier seasons as they were.
    assert episode_plan("s42", 5).episodes_per_season[:4] == plan.episodes_per_season


def test_fixture_rows_are_cleaned(quirks):
    titles, _ = quirks
    assert titles["t2"].date_added == date(2017, 8, 4)  # leading space
    assert titles["t2"].countries == ["United Kingdom"]  # trailing comma
    assert titles["t2"].seasons == 2 and titles["t2"].duration_minutes is None
    assert titles["t3"].maturity_rating is None and titles["t3"].duration_minutes == 74  # rating held the duration
    assert titles["t3"].audience == "unrated"
    assert titles["t4"].countries == ["France", "Belgium"]  # leading and trailing commas
    assert "\n" in titles["t4"].description  # quoted multi-line field kept whole
    assert titles["t1"].cast == ["Bo Reyes", "Cy Moss"]  # duplicate cast member once
    assert titles["t5"].cast[0] == 'Gus "Gizmo" Hale'
    assert titles["t8"].directors == ["Mo Diaz", "Ada Quill"]
    assert titles["t7"].date_added is None and titles["t7"].audience == "unrated"
    assert titles["t15"].title == "Ünïcode Ströll"
    assert titles["t1"].access_level == "basic" and titles["t4"].access_level == "premium"


def test_rejected_rows_have_row_number_and_reason(quirks):
    _, rejected = quirks
    reasons = {r.row_number: (r.show_id, r.reason) for r in rejected}
    assert reasons[9] == ("t2", "duplicate show_id (first seen in row 2)")
    assert "Podcast" in reasons[10][1]
    assert reasons[11][1] == "title is empty"
    assert "release_year" in reasons[12][1]
    assert "fewer than" in reasons[13][1]
    assert "13 fields" in reasons[14][1]
    assert "duration" in reasons[15][1]
    assert "date_added" in reasons[17][1]
    assert len(rejected) == 8
    assert str(rejected[0]) == "row 9 (t2): duplicate show_id (first seen in row 2)"


def test_missing_columns_are_a_bad_header():
    with pytest.raises(BadHeader, match="director"):
        clean_catalogue(read_records("show_id,type,title\ns1,Movie,X\n"))


def test_header_with_byte_order_mark_and_spaces_is_accepted():
    header = (
        "\ufeffshow_id, type,title,director,cast,country,date_added,release_year,rating,duration,listed_in,description"
    )
    catalogue = clean_catalogue(read_records(header + "\nx1,Movie,Title,,,,,2001,PG,90 min,Dramas,Text\n"))
    assert [t.show_id for t in catalogue.titles] == ["x1"]


def test_lists_are_staged_with_a_separator_no_name_can_hold(quirks):
    titles, _ = quirks
    row = stage_values(titles["t5"], None)
    assert row[14] == 'Gus "Gizmo" Hale' + LIST_SEPARATOR + "Ivy Chen"
    assert split_list("a\x1fb, c") == ["a b", "c"]
    assert stage_values(titles["t4"], None)[13:15] == ("", "")  # no director, no cast

"""Any real copy of the catalogue file loads, and any other file is refused in one clear line with nothing
changed: dates in the formats copies use (detected per file), BOM, Windows line endings, quoted newlines, other
separators; NUL bytes, binary files, archives, other encodings, empty files, a header only, a wrong header."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import date

import pytest

import database
from backend.core import jobs
from etl import dates
from etl import load_catalogue as etl
from etl.load_catalogue import read_catalogue
from etl.refusals import MassDeactivation, TooManyRejected
from tests import catalogue_files as files
from tests.test_catalogue_etl import snapshot

COPIES = {  # how copies of the file write September 25, 2021
    "kaggle": files.kaggle_date,
    "leading space": lambda d: " " + files.kaggle_date(d),
    "spreadsheet": lambda d: d.strftime("%d-%b-%y"),  # 25-Sep-21
    "iso": date.isoformat,
    "iso with time": lambda d: f"{d.isoformat()} 00:00:00",
    "us": lambda d: f"{d.month}/{d.day}/{d.year}",
    "us with time": lambda d: f"{d.month}/{d.day}/{d.year} 0:00",
    "european": lambda d: d.strftime("%d/%m/%Y"),
    "german": lambda d: d.strftime("%d.%m.%Y"),
    "abbreviated": lambda d: d.strftime("%b %d, %Y"),
    "day month year": lambda d: d.strftime("%d %B %Y"),
}


@pytest.mark.parametrize("style", COPIES)
def test_every_date_format_of_a_real_copy_is_read(tmp_path, style):
    catalogue = read_catalogue(files.write(tmp_path / "copy.csv", files.TITLES, dates=COPIES[style]))
    assert catalogue.rejected == []
    assert {t.show_id: t.date_added for t in catalogue.titles} == files.ADDED


def test_a_file_that_never_shows_its_day_month_order_rejects_only_its_ambiguous_dates(tmp_path):
    early = {key: date(2020, 2, 3 + i) for i, key in enumerate(files.ADDED)}  # 2/3/2020 ... 2/12/2020
    early["r1"] = date(2020, 4, 4)  # the same either way
    rows = [dict(r, date_added=early[r["show_id"]].strftime("%m/%d/%Y")) for r in files.TITLES]
    catalogue = read_catalogue(files.write(tmp_path / "ambiguous.csv", rows))
    assert [t.show_id for t in catalogue.titles] == ["r1"]
    assert {r.cause for r in catalogue.rejected} == {"date_added"}
    assert (
        "is ambiguous: nothing in this file shows if the day or the month comes first" in catalogue.rejected[0].reason
    )


def test_a_date_against_the_files_order_is_rejected_with_its_reason():
    reader = dates.detect(["25/09/2021", "14/02/2020", "2/13/2020"])  # the file puts the day first (2 to 1)
    assert reader.parse("03/04/2021") == date(2021, 4, 3)
    with pytest.raises(ValueError, match=r"'2/13/2020' does not follow this file's day/month order"):
        reader.parse("2/13/2020")
    with pytest.raises(ValueError, match=r"'Smarch 3, 2020' is not a known date format"):
        reader.parse("Smarch 3, 2020")
    assert dates.describe(reader.styles) == "D/M/YYYY (1 row)"


def test_a_file_whose_dates_no_reader_knows_is_refused_naming_the_format(engine, tmp_path):
    etl.load_catalogue(engine, files.write(tmp_path / "first.csv", files.TITLES))
    before = snapshot(engine)
    odd = files.write(tmp_path / "odd.csv", files.TITLES, dates=lambda d: d.strftime("%Y.%m.%d."))
    with pytest.raises(TooManyRejected) as refused:
        etl.run_logged(engine, odd)
    assert str(refused.value) == (
        "10 of 10 rows rejected: date_added '2021.03.03.' is not a known date format (row 1, r1; and 9 more rows "
        "like it)"
    )
    assert snapshot(engine) == before


def test_a_rejected_row_never_takes_its_title_away(engine, tmp_path):
    etl.load_catalogue(engine, files.write(tmp_path / "first.csv", files.TITLES))
    rows = files.renumbered(files.TITLES, prefix="z")
    bad = next(r for r in rows if r["_key"] == "r6")
    bad["date_added"] = "sometime in 2018"
    summary = etl.load_catalogue(engine, files.write(tmp_path / "one-bad.csv", rows))
    assert (summary.rejected, summary.kept_rejected, summary.deactivated, summary.titles) == (1, 1, 0, 10)
    assert "date_added 'sometime in 2018' is not a known date format" in str(summary.rejections[0])


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("bom and windows line endings", {"encoding": "utf-8-sig", "newline": "\r\n"}),
        ("semicolons", {"delimiter": ";"}),
        ("tabs", {"delimiter": "\t"}),
    ],
)
def test_copies_in_other_dialects_read_the_same(tmp_path, name, options):
    plain = read_catalogue(files.write(tmp_path / "plain.csv", files.TITLES))
    rows = [dict(r) for r in files.TITLES]
    rows[0]["description"] = "A lamp maker\nlights up one last festival."  # a quoted newline
    other = read_catalogue(files.write(tmp_path / "other.csv", rows, **options))
    plain.titles[0].description = rows[0]["description"]
    assert other.titles == plain.titles and other.rejected == []


def zipped(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("netflix_titles.csv", path.read_bytes())
    return buffer.getvalue()


BAD_FILES = {
    "nul byte": (lambda good: good.replace(b"Dockside", b"Dock\x00side"), "contains a NUL byte (line 3)"),
    "binary": (lambda good: bytes(range(256)) * 40, "contains a NUL byte (line 1)"),
    "png": (lambda good: b"\x89PNG\r\n\x1a\n" + bytes(40), "contains a NUL byte"),
    "zip": (None, "is a ZIP archive (or an Excel workbook), not a CSV: extract or export netflix_titles.csv first"),
    "utf-16": (lambda good: good.decode().encode("utf-16"), "is UTF-16 text: save it as UTF-8 CSV"),
    "latin-1": (
        lambda good: good.decode().replace("Glass Meadow", "Glaß Méadow").encode("cp1252"),
        "is not UTF-8 text (byte 0xdf on line 9): save it as UTF-8 CSV",
    ),
    "empty": (lambda good: b"", "is empty"),
    "blank": (lambda good: b"\r\n  \n", "is empty"),
    "header only": (lambda good: good.split(b"\n", 1)[0] + b"\n", "has a header but no title rows"),
    "wrong header": (lambda good: b"id,name\n1,x\n", "the first line is not the catalogue's header"),
    "json": (lambda good: b'{"titles": [1, 2]}\n', "the first line is not the catalogue's header"),
    "missing columns": (
        lambda good: good.replace(b",listed_in,description", b""),
        "the CSV header lacks column(s) listed_in, description",
    ),
    "huge field": (
        lambda good: good.replace(b'"Bo Reyes', b'"Bo Reyes' + b"x" * 140_000),
        "is not a readable CSV (line 2: field larger than field limit (131072); an unclosed quote?)",
    ),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_is_one_clear_line_exit_2_and_nothing_changed(engine, tmp_path, capsys, kind):
    good = files.write(tmp_path / "good.csv", files.TITLES)
    etl.load_catalogue(engine, good)
    before = snapshot(engine)
    make, message = BAD_FILES[kind]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(zipped(good) if make is None else make(good.read_bytes()))
    for argv in (["--csv", str(bad)], ["--csv", str(bad), "--dry-run"]):
        assert etl.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith(f"{bad}: ") and err.endswith(". Nothing was changed.")
        assert message in err
    assert snapshot(engine) == before


def test_a_quote_left_open_is_named_and_its_title_kept(engine, tmp_path):
    good = files.write(tmp_path / "good.csv", files.TITLES, dates=date.isoformat)  # dates need no quotes
    etl.load_catalogue(engine, good)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(good.read_bytes().replace(b",Kids' TV,", b",\"Kids' TV,"))  # open until the next quote
    summary = etl.load_catalogue(engine, broken)
    [rejection] = [str(r) for r in summary.rejections]
    assert rejection == "row 7 (r7): has 19 fields, expected 12 (a quote left open swallows the lines after it?)"
    assert (summary.kept_rejected, summary.deactivated, summary.titles) == (1, 2, 8)  # Little Sprouts kept


def test_a_mass_deactivation_names_the_rejections_behind_it(engine, tmp_path):
    etl.load_catalogue(engine, files.write(tmp_path / "good.csv", files.TITLES))
    rows = [dict(r, show_id=f"q{i}", type="Film") for i, r in enumerate(files.TITLES[:2])] + files.TITLES[2:5]
    with pytest.raises(MassDeactivation, match=r"lacks 7 of the 10 active titles \(70%\), which would be deactivated; "
                       r"2 rows were rejected, the first row 1 \(q0\): type 'Film' is neither"):  # fmt: skip
        etl.load_catalogue(engine, files.write(tmp_path / "few.csv", rows))


def test_the_cli_never_shows_a_traceback_for_a_bad_file(db_url, tmp_path):
    bad = files.write(tmp_path / "nul.csv", files.TITLES)
    bad.write_bytes(bad.read_bytes() + b"\x00")
    result = subprocess.run(
        [sys.executable, "-m", "etl.load_catalogue", "--csv", str(bad)],
        capture_output=True,
        text=True,
        cwd=database.PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("it is binary or damaged, not CSV text. Nothing was changed.")


def test_the_dry_run_cli_exit_code_says_whether_a_real_run_would_go_ahead(engine, tmp_path, capsys):
    first = files.write(tmp_path / "first.csv", files.TITLES)
    assert etl.main(["--csv", str(first), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Dry run of {first} (10 rows, in ") and "A real run would go ahead." in out
    assert snapshot(engine)["titles"] == [] and jobs.recent_runs(engine, etl.JOB_NAME).empty  # nothing written
    assert etl.main(["--csv", str(first)]) == 0
    copy = files.write(tmp_path / "copy.csv", files.renumbered(files.TITLES))
    assert etl.main(["--csv", str(copy), "--dry-run"]) == 2
    assert "if that is intended, run again with --allow-renumbering." in capsys.readouterr().out
    assert etl.main(["--csv", str(copy), "--dry-run", "--allow-renumbering"]) == 0

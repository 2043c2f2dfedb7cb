"""Data operations as the browser runs them: the ETL (uploaded or configured CSV) and the seeder with
progress, the CLI's summary and messages, the run history, CSV exports; admins and analysts only."""

import csv
import io
import re
from datetime import date

import pytest

from backend.accounts import passwords, users
from backend.admin import audit_log, data_exports
from backend.admin.data_exports import DataOpsError
from backend.catalogue.rules import catalogue_counts
from backend.core import errors as core_errors
from etl import load_catalogue as etl
from ops import data_operations
from seed import options as seed_options
from tests import catalogue_files
from tests.conftest import QUIRKS_CSV


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)


@pytest.fixture
def staff(engine):
    return {
        role: users.register(engine, f"{role}@example.com", f"{role.title()} One", "correct horse 42", role=role)
        for role in users.ROLES
    }


def test_etl_from_an_upload_reports_progress_rejections_and_the_cli_summary(engine, staff, capsys):
    steps = []
    upload = data_operations.save_upload(QUIRKS_CSV.read_bytes())
    result = data_operations.run_catalogue_etl(
        engine,
        upload,
        acting_user_id=staff["analyst"].user_id,
        source_name="catalogue_quirks.csv",
        on_step=lambda name, done, total: steps.append((name, done, total)),
    )
    upload.unlink()
    assert steps == [(name, n, len(etl.LOAD_STEPS)) for n, name in enumerate(etl.LOAD_STEPS, start=1)]
    assert result.summary["titles"] == 9 and result.summary["rejected"] == 8
    assert "row 14 (t13): has 13 fields, expected 12" in result.rejections

    assert etl.main(["--csv", str(QUIRKS_CSV)]) == 0  # the CLI, on the same (now unchanged) catalogue
    printed = capsys.readouterr().out.splitlines()
    cli = [re.sub(r"[\d.]+ s$", "", line) for line in printed]
    ours = [re.sub(r"[\d.]+ s$", "", line) for line in result.lines]
    assert ours[0] == cli[0].replace(str(QUIRKS_CSV), "catalogue_quirks.csv")
    assert ours[1:-1] == cli[1:-1]  # counts; the last line differs: the CLI's re-run changed nothing
    assert ours[-1] == "  changes    9 inserted, 0 updated, 0 re-identified, 0 renamed, 0 deactivated, 8 rejected"

    runs = data_exports.run_history(engine, acting_user_id=staff["admin"].user_id, job="catalogue_etl")
    assert list(runs["started_by"]) == ["cli", "app:analyst@example.com"]
    assert list(runs["status"]) == ["succeeded", "succeeded"]
    [logged] = audit_log.entries(engine, acting_user_id=staff["admin"].user_id, action="job.")
    assert logged["actor_email"] == "analyst@example.com" and logged["after"]["titles"] == 9


def test_a_bad_csv_is_refused_with_the_clis_message_and_changes_nothing(engine, staff, tmp_path):
    admin_id = staff["admin"].user_id
    data_operations.run_catalogue_etl(engine, QUIRKS_CSV, acting_user_id=admin_id)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataOpsError, match=r"^bad.csv: .*Nothing was changed\.$"):
        data_operations.run_catalogue_etl(engine, bad, acting_user_id=admin_id, source_name="bad.csv")
    few = tmp_path / "few.csv"
    few.write_text("".join(QUIRKS_CSV.read_text().splitlines(keepends=True)[:2]))
    with pytest.raises(DataOpsError, match="tick “Allow mass deactivation”"):
        data_operations.run_catalogue_etl(engine, few, acting_user_id=admin_id)
    assert data_operations.run_catalogue_etl(engine, QUIRKS_CSV, acting_user_id=admin_id).summary["updated"] == 0
    history = data_exports.run_history(engine, acting_user_id=admin_id)
    assert list(history["status"])[:3] == ["succeeded", "failed", "failed"]
    with pytest.raises(DataOpsError, match="empty"):
        data_operations.save_upload(b"")


def test_the_configured_csv_is_netflix_csv_and_never_a_download(monkeypatch, tmp_path):
    monkeypatch.setenv("NETFLIX_CSV", str(QUIRKS_CSV))
    assert data_operations.configured_csv() == QUIRKS_CSV
    monkeypatch.setenv("NETFLIX_CSV", str(tmp_path / "missing.csv"))
    with pytest.raises(DataOpsError, match="no such file"):
        data_operations.configured_csv()


def test_seeder_runs_once_with_progress_and_refuses_a_second_run_without_reset(engine, staff):
    analyst = staff["analyst"].user_id
    data_operations.run_catalogue_etl(engine, QUIRKS_CSV, acting_user_id=analyst)
    phases = []
    result = data_operations.run_seeder(
        engine,
        acting_user_id=analyst,
        subscribers=40,
        months=2,
        seed=3,
        end=date(2026, 3, 1),
        on_progress=lambda phase, done, total: phases.append(phase),
    )
    assert {"accounts", "subscriptions", "viewing", "checks"} <= set(phases)
    assert result.lines[0].startswith("Seeded 40 subscribers x 2 months in ")
    assert any(line.split() == ["users", str(result.summary["rows"]["users"])] for line in result.lines)
    assert f"Demo sign-ins (password: {seed_options.DEMO_PASSWORD}):" in result.lines

    with pytest.raises(DataOpsError, match=re.escape("Not seeded: ") + ".*run with --reset to replace them"):
        data_operations.run_seeder(engine, acting_user_id=analyst, subscribers=40, months=2, seed=3)
    again = data_operations.run_seeder(
        engine, acting_user_id=analyst, subscribers=40, months=2, seed=3, reset=True, end=date(2026, 3, 1)
    )
    assert again.summary["rows"]["removed_accounts"] == result.summary["rows"]["users"]
    runs = data_exports.run_history(engine, acting_user_id=analyst, job="seed")
    assert list(runs["status"]) == ["succeeded", "failed", "succeeded"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"subscribers": 0}, "Subscribers must be from 1 to 100,000"),
        ({"subscribers": 100_001}, "Subscribers must be from 1 to 100,000"),
        ({"months": 0}, "Months must be from 1 to 36."),
        ({"seed": -1}, "The seed is a whole number of 0 or more."),
    ],
)
def test_bad_seeder_options_are_refused_before_anything_runs(engine, staff, options, message):
    with pytest.raises(DataOpsError, match=re.escape(message)):
        data_operations.run_seeder(
            engine, acting_user_id=staff["admin"].user_id, **({"subscribers": 10, "months": 1, "seed": 1} | options)
        )
    assert data_exports.run_history(engine, acting_user_id=staff["admin"].user_id).empty


def test_exports_leave_out_password_hashes_and_are_limited(engine, staff):
    admin_id = staff["admin"].user_id
    data = data_exports.export_csv(engine, "users", acting_user_id=staff["analyst"].user_id)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert {r["email"] for r in rows} == {f"{role}@example.com" for role in users.ROLES}
    assert "password_hash" not in rows[0] and "$2b$" not in data.decode()
    assert (
        len(
            list(
                csv.reader(
                    io.StringIO(data_exports.export_csv(engine, "users", acting_user_id=admin_id, limit=1).decode())
                )
            )
        )
        == 2
    )
    for table in data_exports.EXPORTS:  # every export runs and starts with its header
        header = next(csv.reader(io.StringIO(data_exports.export_csv(engine, table, acting_user_id=admin_id).decode())))
        assert len(header) > 3 and "password_hash" not in header, table
    with pytest.raises(DataOpsError, match="Exports are"):
        data_exports.export_csv(engine, "pg_authid", acting_user_id=admin_id)
    assert set(data_exports.export_row_counts(engine, acting_user_id=admin_id)) == set(data_exports.EXPORTS)


def test_subscribers_are_refused_every_data_operation(engine, staff, tmp_path):
    member = staff["subscriber"].user_id
    for function, *args in [
        (data_operations.run_catalogue_etl, engine, QUIRKS_CSV),
        (data_exports.run_history, engine),
        (data_exports.export_csv, engine, "users"),
        (data_exports.export_row_counts, engine),
    ]:
        with pytest.raises(core_errors.NotAuthorised):
            function(*args, acting_user_id=member)
    with pytest.raises(core_errors.NotAuthorised):
        data_operations.run_seeder(engine, acting_user_id=member, subscribers=10, months=1, seed=1)
    assert data_exports.run_history(engine, acting_user_id=staff["admin"].user_id).empty


def test_analysts_preview_anything_and_apply_ordinary_loads_but_only_admins_apply_overrides(engine, staff, tmp_path):
    analyst, admin = staff["analyst"].user_id, staff["admin"].user_id
    first = catalogue_files.write(tmp_path / "first.csv", catalogue_files.TITLES)
    steps = []
    preview = data_operations.preview_catalogue_load(
        engine, first, acting_user_id=analyst, on_step=lambda name, done, total: steps.append((name, done, total))
    )
    assert steps == [(name, n, 3) for n, name in enumerate(etl.PREVIEW_STEPS, start=1)]
    assert preview.can_apply and preview.why_not is None and preview.summary["inserted"] == 10
    assert (
        data_operations.run_catalogue_etl(
            engine, first, acting_user_id=analyst, expected_sha256=preview.sha256
        ).summary["inserted"]
        == 10
    )

    few = catalogue_files.write(tmp_path / "few.csv", catalogue_files.TITLES[:3])
    mass = data_operations.LoadOptions(allow_mass_deactivation=True)
    preview = data_operations.preview_catalogue_load(engine, few, acting_user_id=analyst, options=mass)
    assert preview.refused is None and preview.summary["deactivated"] == 7  # what it would do, even so
    assert not preview.can_apply and preview.why_not == data_operations.ADMIN_ONLY
    with pytest.raises(core_errors.NotAuthorised, match="Only an admin can apply a load that overwrites"):
        data_operations.run_catalogue_etl(engine, few, acting_user_id=analyst, options=mass)
    with pytest.raises(core_errors.NotAuthorised):
        data_operations.run_catalogue_etl(
            engine, few, acting_user_id=analyst, options=data_operations.LoadOptions(overwrite_edits=True)
        )
    assert catalogue_counts(engine)["titles"] == 10
    assert data_operations.preview_catalogue_load(engine, few, acting_user_id=admin, options=mass).can_apply
    assert data_operations.run_catalogue_etl(engine, few, acting_user_id=admin, options=mass).summary["titles"] == 3


def test_a_renumbered_file_is_previewed_with_its_members_rows_and_needs_an_admin(engine, staff, tmp_path):
    analyst, admin = staff["analyst"].user_id, staff["admin"].user_id
    data_operations.run_catalogue_etl(
        engine, catalogue_files.write(tmp_path / "first.csv", catalogue_files.TITLES), acting_user_id=analyst
    )
    copy = catalogue_files.write(tmp_path / "copy.csv", catalogue_files.renumbered(catalogue_files.TITLES))
    preview = data_operations.preview_catalogue_load(engine, copy, acting_user_id=analyst, source_name="copy.csv")
    assert not preview.can_apply and preview.refused == preview.why_not
    assert preview.refused.endswith("if that is intended, an admin can tick “Accept re-numbered ids”.")
    assert preview.lines[0].startswith("Dry run of copy.csv (10 rows, in ") and preview.lines[-1].endswith(
        "an admin can tick “Accept re-numbered ids”."
    )
    with pytest.raises(DataOpsError, match=r"^copy.csv: 10 of the 10 show ids .*“Accept re-numbered ids”\. Nothing"):
        data_operations.run_catalogue_etl(engine, copy, acting_user_id=admin, source_name="copy.csv")
    renumbering = data_operations.LoadOptions(allow_renumbering=True)
    preview = data_operations.preview_catalogue_load(engine, copy, acting_user_id=admin, options=renumbering)
    assert preview.can_apply and preview.summary["reidentified"] == 10
    result = data_operations.run_catalogue_etl(
        engine, copy, acting_user_id=admin, options=renumbering, expected_sha256=preview.sha256
    )
    assert result.summary["reidentified"] == 10 and result.summary["inserted"] == 0
    [logged] = audit_log.entries(engine, acting_user_id=admin, action="job.", limit=1)
    assert logged["after"]["allow_renumbering"] is True and logged["after"]["reidentified"] == 10


def test_applying_refuses_a_file_that_changed_since_its_preview(engine, staff, tmp_path):
    analyst = staff["analyst"].user_id
    path = catalogue_files.write(tmp_path / "first.csv", catalogue_files.TITLES)
    preview = data_operations.preview_catalogue_load(engine, path, acting_user_id=analyst, source_name="first.csv")
    catalogue_files.write(path, catalogue_files.TITLES[:9])
    with pytest.raises(DataOpsError, match=r"^first\.csv: the file is not the one that was previewed .*Nothing"):
        data_operations.run_catalogue_etl(
            engine, path, acting_user_id=analyst, source_name="first.csv", expected_sha256=preview.sha256
        )
    assert catalogue_counts(engine)["titles"] == 0

"""The admin and data-operations pages under AppTest: each page works for its role, shows bad input's
message and changes nothing, and refuses other roles on the server (not only in the menu)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

import database
from backend.accounts import passwords, users
from backend.admin import accounts as account_admin
from backend.admin import audit_log
from backend.billing import plans
from backend.catalogue.rules import catalogue_counts
from etl import load_catalogue as etl
from tests import catalogue_files
from tests.conftest import QUIRKS_CSV, app_as

PASSWORD = "correct horse 42"
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
ADMIN_PAGES = ("admin_plans.py", "admin_content.py", "admin_users.py", "admin_audit.py")


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)


@pytest.fixture
def people(engine):
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    return {
        role: users.register(engine, f"{role}@example.com", f"{role.title()} Person", PASSWORD, role=role, now=earlier)
        for role in users.ROLES
    }


def admin_page(user, name: str) -> AppTest:
    at = app_as(user).switch_page(f"pages/{name}").run()
    assert not at.exception, at.exception
    return at


def page_alone(user, name: str) -> AppTest:
    """The page script run by itself for a signed-in `user`, as if the menu had let them in."""
    at = AppTest.from_file(str(database.PROJECT_ROOT / "pages" / name), default_timeout=30)
    at.session_state["authenticator"] = object()  # past through_app(): the page's own check must refuse
    at.session_state["user_id"] = user.user_id
    return at.run()


def plan_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM plans ORDER BY plan_id"))]


def test_only_admins_have_the_admin_pages_in_their_app(people):
    at = app_as(people["admin"]).switch_page("pages/admin_plans.py").run()
    assert any(b.label == "Create plan" for b in at.button)
    for role in ("analyst", "subscriber"):
        at = app_as(people[role])
        for name in ADMIN_PAGES:
            with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered for them
                at.switch_page(f"pages/{name}")


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_non_admins_are_refused_by_the_page_itself(people, name):
    for role in ("analyst", "subscriber"):
        at = page_alone(people[role], name)
        assert [e.value for e in at.error] == ["You do not have access to this."], (role, name)


def test_data_operations_page_refuses_subscribers_and_serves_analysts(people):
    assert [e.value for e in page_alone(people["subscriber"], "data_ops.py").error] == [
        "You do not have access to this."
    ]
    at = admin_page(people["analyst"], "data_ops.py")
    assert at.title[0].value == "Data operations" and not at.error
    assert [b.label for b in at.button if b.label.startswith(("Run", "Preview"))] == [
        "Preview the catalogue load",
        "Run the seeder",
    ]


def test_create_a_plan_and_bad_input_changes_nothing(engine, people):
    at = admin_page(people["admin"], "admin_plans.py")
    before = plan_rows(engine)
    at.text_input(key="create_plan_name").input("Family")
    at.text_input(key="create_plan_price").input("1000.01")
    at.number_input(key="create_plan_devices").set_value(6)
    at.button(key="create_plan_submit").click().run()
    assert [e.value for e in at.error] == ["The price must be above 0 and at most 1,000.00."]
    assert plan_rows(engine) == before

    at.text_input(key="create_plan_price").input("24.99")
    at.number_input(key="create_plan_devices").set_value(11)
    at.button(key="create_plan_submit").click().run()
    assert [e.value for e in at.error] == ["Devices at once must be from 1 to 10."]
    assert plan_rows(engine) == before

    at.number_input(key="create_plan_devices").set_value(6)
    at.button(key="create_plan_submit").click().run()
    assert not at.error and at.success[0].value == "Plan Family created. It is on sale now."
    family = next(p for p in plans.active_plans(engine) if p.name == "Family")
    assert (str(family.price), family.max_devices_allowed) == ("24.99", 6)

    at.text_input(key="create_plan_name").input("standard")  # taken, whatever the case
    at.button(key="create_plan_submit").click().run()
    assert [e.value for e in at.error] == ["Another plan already has this name. Choose another."]


def test_edit_a_price_and_take_a_plan_off_sale(engine, people):
    at = admin_page(people["admin"], "admin_plans.py")
    basic = next(p for p in plans.active_plans(engine) if p.name == "Basic")
    at.selectbox(key="edit_plan_id").set_value(basic.plan_id).run()
    at.text_input(key=f"edit_plan_{basic.plan_id}_price").input("8.49")
    at.button(key=f"edit_plan_{basic.plan_id}_submit").click().run()
    assert at.success[0].value == "Plan Basic saved."
    assert next(p for p in plans.active_plans(engine) if p.name == "Basic").price == Decimal("8.49")
    at.button(key="deactivate_plan").click().run()
    assert at.success[0].value == "Basic is off sale. Its subscribers keep it."
    assert "Basic" not in [p.name for p in plans.active_plans(engine)]
    actions = [e["action"] for e in audit_log.entries(engine, acting_user_id=people["admin"].user_id)]
    assert actions == ["plan.deactivate", "plan.update"]


def test_catalogue_page_edits_a_title_and_refuses_bad_input(engine, people):
    etl.load_catalogue(engine, QUIRKS_CSV)
    at = admin_page(people["admin"], "admin_content.py")
    search = next(t for t in at.text_input if t.label == "Search titles")
    search.input("lantern").run()
    lantern = at.selectbox(key="edit_title_id").value
    at.text_input(key=f"edit_title_{lantern}_title").input("   ")
    at.button(key=f"edit_title_{lantern}_submit").click().run()
    assert [e.value for e in at.error] == ["Enter the title."]
    at.text_input(key=f"edit_title_{lantern}_title").input("The Paper Lantern (Restored)")
    at.selectbox(key=f"edit_title_{lantern}_access").set_value("premium")
    at.button(key=f"edit_title_{lantern}_submit").click().run()
    assert at.success[0].value == "The Paper Lantern (Restored) saved."
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT title, access_level, edited_at FROM titles WHERE title_id = :t"), {"t": lantern}
        ).one()
    assert row.title == "The Paper Lantern (Restored)" and row.access_level == "premium" and row.edited_at


def test_catalogue_page_adds_a_film(engine, people):
    etl.load_catalogue(engine, QUIRKS_CSV)
    at = admin_page(people["admin"], "admin_content.py")
    at.text_input(key="add_title_title").input("Harbour Nights")
    at.button(key="add_title_submit").click().run()
    assert [e.value for e in at.error] == ["The running time (minutes) must be a whole number from 1 to 1000."]
    at.number_input(key="add_title_minutes").set_value(97)
    at.button(key="add_title_submit").click().run()
    assert [e.value for e in at.error] == ["Choose at least one genre."]
    at.multiselect(key="add_title_genres").select("Dramas")
    at.button(key="add_title_submit").click().run()
    assert at.success[0].value == "Harbour Nights added to the catalogue."
    with engine.connect() as conn:
        assert conn.execute(text("SELECT origin FROM titles WHERE title = 'Harbour Nights'")).scalar_one() == "admin"


def test_users_page_suspends_and_restores(engine, people):
    member = people["subscriber"]
    at = admin_page(people["admin"], "admin_users.py")
    next(t for t in at.text_input if t.label == "Search accounts").input("subscriber@").run()
    assert at.selectbox(key="admin_user_id").value == member.user_id
    assert any(t.value == "Never subscribed." for t in at.text)
    at.button(key="suspend").click().run()
    assert at.success[0].value == "subscriber@example.com is suspended and signed out everywhere."
    assert users.get_user(engine, member.user_id).suspended_at is not None
    at.button(key="restore").click().run()
    assert users.get_user(engine, member.user_id).suspended_at is None
    at.selectbox(key=f"role_{member.user_id}").set_value("analyst")
    at.button(key="change_role").click().run()
    assert users.get_user(engine, member.user_id).role == "analyst"


def test_an_admin_cannot_suspend_themselves_on_the_page(engine, people):
    me = people["admin"]
    at = admin_page(me, "admin_users.py")
    next(t for t in at.text_input if t.label == "Search accounts").input("admin@").run()
    at.button(key="suspend").click().run()
    assert [e.value for e in at.error] == ["You cannot change your own account here: ask another admin."]
    assert users.get_user(engine, me.user_id).suspended_at is None


def test_audit_page_lists_and_filters(engine, people):
    me = people["admin"].user_id
    account_admin.suspend(engine, people["subscriber"].user_id, acting_user_id=me)
    account_admin.change_role(engine, people["analyst"].user_id, "subscriber", acting_user_id=me)
    at = admin_page(people["admin"], "admin_audit.py")
    assert at.caption[0].value == "2 entries, newest first."
    frame = at.dataframe[0].value
    assert list(frame["action"]) == ["user.change_role", "user.suspend"]
    assert list(frame["who"]) == ["admin@example.com"] * 2
    at.selectbox[0].set_value("user.suspend").run()
    assert at.caption[0].value == "1 entry, newest first."


def test_data_operations_page_runs_the_etl_and_the_seeder(engine, people, monkeypatch):
    monkeypatch.setenv("NETFLIX_CSV", str(QUIRKS_CSV))
    at = admin_page(people["analyst"], "data_ops.py")
    next(b for b in at.button if b.label == "Preview the catalogue load").click().run()
    assert not at.error and at.subheader[0].value == "Preview"
    preview = at.code[0].value
    assert preview.startswith(f"Dry run of {QUIRKS_CSV} (17 rows, in ") and "A real run would go ahead." in preview
    assert [line.split()[:2] for line in preview.splitlines() if line.strip().startswith("inserted")] == [
        ["inserted", "9"]
    ]
    assert "rejected row 14 (t13): has 13 fields, expected 12" in at.code[1].value
    assert catalogue_counts(engine)["titles"] == 0  # a preview changes nothing

    at.button(key="etl_apply").click().run()
    assert not at.error and at.success[0].value.startswith(f"Catalogue loaded from {QUIRKS_CSV} in ")
    assert "9 inserted, 0 updated, 0 re-identified, 0 renamed, 0 deactivated, 8 rejected" in at.code[0].value
    assert at.warning[0].value == "8 rows were rejected (the rest loaded):"
    assert "rejected row 14 (t13): has 13 fields, expected 12" in at.code[1].value
    assert not [b for b in at.button if b.label == "Apply this load"]  # applied once; the next load is previewed

    next(n for n in at.number_input if n.label == "Subscribers").set_value(30)
    next(n for n in at.number_input if n.label == "Months").set_value(2)
    next(b for b in at.button if b.label == "Run the seeder").click().run()
    assert not at.error, [e.value for e in at.error]
    seeded = next(s.value for s in at.success if s.value.startswith("Seeded"))
    assert seeded.startswith("Seeded 30 subscribers x 2 months in ")

    next(b for b in at.button if b.label == "Run the seeder").click().run()
    assert [e.value for e in at.error] == [
        "Not seeded: 32 seeded accounts exist already: run with --reset to replace them. Nothing was changed."
    ]
    history = at.dataframe[0].value
    assert list(history["status"])[:3] == ["failed", "succeeded", "succeeded"]


def test_a_renumbered_catalogue_is_previewed_and_only_an_admin_accepts_it(engine, people, monkeypatch, tmp_path):
    etl.load_catalogue(engine, catalogue_files.write(tmp_path / "first.csv", catalogue_files.TITLES))
    copy = catalogue_files.write(tmp_path / "copy.csv", catalogue_files.renumbered(catalogue_files.TITLES))
    monkeypatch.setenv("NETFLIX_CSV", str(copy))
    before = show_ids(engine)

    at = admin_page(people["analyst"], "data_ops.py")
    next(b for b in at.button if b.label == "Preview the catalogue load").click().run()
    assert "re-identified        10" in at.code[0].value
    [warning] = [w.value for w in at.warning]
    assert warning.startswith("A real run would be refused: 10 of the 10 show ids this file shares")
    assert warning.endswith("if that is intended, an admin can tick “Accept re-numbered ids”.")
    assert not [b for b in at.button if b.label == "Apply this load"]
    next(c for c in at.checkbox if c.label == "Accept re-numbered ids").check()
    next(b for b in at.button if b.label == "Preview the catalogue load").click().run()
    assert [w.value for w in at.warning] == [
        "Only an admin can apply a load that overwrites admin edits, deactivates in bulk or accepts re-numbered ids."
    ]
    assert show_ids(engine) == before

    at = admin_page(people["admin"], "data_ops.py")
    next(c for c in at.checkbox if c.label == "Accept re-numbered ids").check()
    next(b for b in at.button if b.label == "Preview the catalogue load").click().run()
    at.button(key="etl_apply").click().run()
    assert not at.error and "0 inserted, 0 updated, 10 re-identified" in at.code[0].value
    after = show_ids(engine)
    assert after.keys() == before.keys() and all(after[i] != before[i] for i in before)


def show_ids(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT title_id, show_id FROM titles")).all())

"""Admin: plans. Create, edit, take off sale, put back on sale, delete a plan nobody subscribed to."""

import streamlit as st

from backend.admin import plans as plan_admin
from backend.admin.plans import PlanInput
from backend.billing.lifecycle import period_label
from backend.core.money import format_amount
from ui.admin import acting_user_id, attempt, show_flash
from ui.refusals import allowed
from ui.session import engine, through_app

through_app()

st.title("Plans")
listing = allowed(lambda: plan_admin.list_plans(engine(), acting_user_id=acting_user_id()))
show_flash()
st.caption(
    "Validity days set the billing period: 28 to 31 days renew monthly on the same day, 365 or 366 yearly, "
    "any other number every that many days. An edit (price, validity, access, devices, resolution) applies to "
    "new periods only: subscribers keep what they have until their next renewal, when they are told. "
    "A plan with subscribers is never deleted: take it off sale and they keep it."
)
st.dataframe(
    [
        {
            "plan": p["name"],
            "price": f"{p['currency']} {format_amount(p['price'])} / {period_label(p['validity_days'])}",
            "validity days": p["validity_days"],
            "on sale": p["is_active"],
            "devices": p["max_devices_allowed"],
            "resolution": p["resolution"],
            "access": p["access_level"],
            "live subscribers": p["live_subscribers"],
            "subscribers ever": p["subscribers_ever"],
        }
        for p in listing
    ],
    hide_index=True,
    width="stretch",
)


def plan_form(key: str, plan: dict | None, submit: str) -> PlanInput | None:
    """The plan's fields (prefilled from `plan`); the entered values when submitted."""
    plan = plan or {}
    with st.form(key):
        name = st.text_input("Name", value=plan.get("name", ""), max_chars=plan_admin.MAX_PLAN_NAME, key=f"{key}_name")
        price = st.text_input(
            "Price (USD)",
            value=str(plan.get("price", "")),
            placeholder="12.99",
            help="Above 0 and at most 1,000.00.",
            key=f"{key}_price",
        )
        left, middle, right = st.columns(3)
        validity = left.number_input(
            "Validity days",
            value=plan.get("validity_days", 30),
            step=1,
            help="1 to 400 days: 28-31 renew monthly on the same day, 365-366 yearly, any other number every "
            "that many days.",
            key=f"{key}_validity",
        )
        devices = middle.number_input(
            "Devices at once",
            value=plan.get("max_devices_allowed", 1),
            step=1,
            help="1 to 10 screens playing at the same time.",
            key=f"{key}_devices",
        )
        on_sale = right.checkbox("On sale", value=plan.get("is_active", True), key=f"{key}_on_sale")
        left, right = st.columns(2)
        resolution = left.selectbox(
            "Resolution",
            plan_admin.RESOLUTIONS,
            key=f"{key}_resolution",
            index=plan_admin.RESOLUTIONS.index(plan.get("resolution", "1080p")),
        )
        access = right.selectbox(
            "Access level",
            plan_admin.ACCESS_LEVELS,
            key=f"{key}_access",
            index=plan_admin.ACCESS_LEVELS.index(plan.get("access_level", "basic")),
            help="free: the free titles; basic: free titles and titles released before 2020; premium: every title.",
        )
        description = st.text_area(
            "Description",
            value=plan.get("description", ""),
            max_chars=plan_admin.MAX_DESCRIPTION,
            key=f"{key}_description",
        )
        if not st.form_submit_button(submit, type="primary", key=f"{key}_submit"):
            return None
    return PlanInput(name, price, validity, devices, resolution, access, description, on_sale)


create, edit = st.tabs(["Create a plan", "Edit a plan"])
with create:
    entered = plan_form("create_plan", None, "Create plan")
    if entered:
        attempt(
            lambda: plan_admin.create_plan(engine(), entered, acting_user_id=acting_user_id()),
            f"Plan {entered.name.strip()} created. "
            + ("It is on sale now." if entered.is_active else "It is off sale."),
        )

with edit:
    if not listing:
        st.info("No plans yet.")
        st.stop()
    by_id = {p["plan_id"]: p for p in listing}
    labels = {i: p["name"] + ("" if p["is_active"] else " (off sale)") for i, p in by_id.items()}
    chosen = by_id[st.selectbox("Plan", by_id, key="edit_plan_id", format_func=labels.get)]
    entered = plan_form(f"edit_plan_{chosen['plan_id']}", chosen, "Save changes")
    if entered:
        attempt(
            lambda: plan_admin.update_plan(engine(), chosen["plan_id"], entered, acting_user_id=acting_user_id()),
            f"Plan {entered.name.strip()} saved.",
        )
    left, right = st.columns(2)
    if chosen["is_active"]:
        if left.button("Take off sale", key="deactivate_plan"):
            attempt(
                lambda: plan_admin.set_plan_active(engine(), chosen["plan_id"], False, acting_user_id=acting_user_id()),
                f"{chosen['name']} is off sale. Its subscribers keep it.",
            )
    elif left.button("Put back on sale", key="activate_plan"):
        attempt(
            lambda: plan_admin.set_plan_active(engine(), chosen["plan_id"], True, acting_user_id=acting_user_id()),
            f"{chosen['name']} is on sale again.",
        )
    if chosen["subscribers_ever"] == 0 and right.button("Delete plan", key="delete_plan"):
        attempt(
            lambda: plan_admin.delete_plan(engine(), chosen["plan_id"], acting_user_id=acting_user_id()),
            f"{chosen['name']} deleted.",
        )

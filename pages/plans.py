"""The plans, side by side; public. Signed-in members choose one here and check out."""

import uuid

import streamlit as st

from backend.billing import checkout as billing_checkout
from backend.billing import gateway, lifecycle, plans, subscriptions
from backend.billing import state as billing_state
from backend.catalogue.rules import level_summary
from backend.core.money import format_amount
from ui.refusals import attempt
from ui.session import engine, through_app
from ui.text import md

through_app()

st.title("Plans")
available = plans.active_plans(engine())
if not available:
    st.info("No plans are on sale yet.")
    st.stop()
user = st.session_state.get("current_user")
for column, plan in zip(st.columns(min(len(available), 4)), available, strict=False):
    with column.container(border=True):
        st.subheader(md(plan.name), anchor=False)
        st.markdown(f"**{plan.price_label}**")
        devices = plan.max_devices_allowed
        st.text(f"{plan.resolution} · {devices} screen{'s' if devices > 1 else ''} at once")
        st.text(f"{plan.validity_days} days a period · {level_summary(plan.access_level).capitalize()}")
        if plan.description:
            st.text(plan.description)
        if user is not None and st.button("Choose", key=f"choose_{plan.plan_id}", width="stretch"):
            st.session_state["checkout_plan"] = plan.plan_id

if user is None:
    st.page_link("pages/register.py", label="Create an account to subscribe", icon=":material/person_add:")
    st.stop()

chosen = next((p for p in available if p.plan_id == st.session_state.get("checkout_plan")), None)
if chosen is None:
    st.stop()
current = subscriptions.current(engine(), user.user_id)
if current is not None and current.is_live:
    st.info("You already have a subscription. Change your plan on the Subscription page.")
    st.page_link("pages/subscription.py", label="Go to your subscription", icon=":material/credit_card:")
    st.stop()

st.header(f"Check out: {md(chosen.name)}", anchor=False)
first_time = current is None
if first_time and lifecycle.trial_days() > 0:
    st.markdown(
        f"Your first **{lifecycle.trial_days()} days are free**. Nothing is charged today; "
        f"we will charge **{chosen.price_label}** when the trial ends unless you cancel before."
    )
    button = f"Start {lifecycle.trial_days()}-day free trial"
else:
    st.markdown(f"You pay **{chosen.price_label}** now; it renews automatically until you cancel.")
    button = f"Pay {chosen.currency} {format_amount(chosen.price)}"
saved = subscriptions.card_on_file(engine(), user.user_id)
key = st.session_state.setdefault("checkout_key", uuid.uuid4().hex)
with st.form("checkout"):
    use_saved = saved is not None and st.checkbox(
        f"Pay with my saved {saved['brand']} ending {saved['last4']}", value=True
    )
    number = st.text_input(
        "Card number",
        max_chars=23,
        placeholder="4242 4242 4242 4242",
        help="Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, "
        "4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 0119 is a network error.",
    )
    month_col, year_col, cvc_col = st.columns(3)
    exp_month = month_col.number_input("Expiry month", min_value=1, max_value=12, value=12)
    exp_year = year_col.number_input("Expiry year", min_value=2000, max_value=2100, value=2030)
    cvc = cvc_col.text_input("CVC", max_chars=4, type="password")
    submitted = st.form_submit_button(button, type="primary")
if submitted:
    card = None if use_saved else billing_state.CardDetails(number, int(exp_month), int(exp_year), cvc)
    done, result = attempt(
        lambda: billing_checkout.checkout(
            engine(), user.user_id, chosen.plan_id, card, key, gateway=gateway.default_gateway()
        )
    )
    st.session_state.pop("checkout_key", None)  # after a refusal, the next try is a new attempt
    if done and result is not None:
        st.session_state.pop("checkout_plan", None)
        st.session_state["billing_flash"] = (
            f"Your free trial of {chosen.name} has started."
            if result.trial
            else f"Payment received: welcome to {chosen.name}!"
        )
        st.switch_page("pages/subscription.py")

"""The member's subscription: plan and status, what it includes, the past-due banner (retry now,
update card), plan changes, cancel/resume, the card on file, billing history with receipts, and
the notification centre."""

import uuid
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from backend.billing import gateway, plans, statements, subscriptions
from backend.billing import state as billing_state
from backend.core.money import format_amount
from backend.notify import notifications
from ui.refusals import attempt
from ui.session import engine, through_app
from ui.text import md

through_app()

user = st.session_state["current_user"]
uid = user.user_id
now = datetime.now(UTC)
gw = gateway.default_gateway()
st.title("Subscription")
if "billing_flash" in st.session_state:
    st.success(md(st.session_state.pop("billing_flash")))


def act(work, done) -> None:
    """Run a backend action; a refusal is shown, a success (`done`: text, or a function of the outcome)
    is shown after the rerun."""
    succeeded, outcome = attempt(work)
    if succeeded:
        st.session_state["billing_flash"] = done(outcome) if callable(done) else done
        st.rerun()


def card_form(form_key: str, label: str) -> billing_state.CardDetails | None:
    with st.form(form_key, clear_on_submit=True):
        number = st.text_input("Card number", max_chars=23, placeholder="4242 4242 4242 4242")
        month_col, year_col, cvc_col = st.columns(3)
        exp_month = month_col.number_input("Expiry month", min_value=1, max_value=12, value=12)
        exp_year = year_col.number_input("Expiry year", min_value=2000, max_value=2100, value=2030)
        cvc = cvc_col.text_input("CVC", max_chars=4, type="password")
        if st.form_submit_button(label):
            return billing_state.CardDetails(number, int(exp_month), int(exp_year), cvc)
    return None


def day(moment) -> str:
    return f"{moment:%d %b %Y}"


def card_saved(outcome: str) -> str:
    return "Card saved and payment received: you are all set." if outcome == "recovered" else "Card saved."


sub = subscriptions.current(engine(), uid)
entitled = subscriptions.entitlement(engine(), uid, now)
if sub is None:
    st.info("You have no subscription yet.")
    st.page_link("pages/plans.py", label="Choose a plan", icon=":material/sell:")
else:
    price = f"{sub.currency} {format_amount(sub.price)} / {sub.billing_period}"
    if sub.status == "past_due":
        st.error(
            f"Your payment of {sub.currency} {format_amount(sub.price)} failed. We will retry over the next days; "
            f"update your card or retry now to keep watching after {day(sub.grace_until)}.",
            icon=":material/warning:",
        )
        retry_col, card_col = st.columns(2)
        if retry_col.button("Retry now", type="primary"):
            key = st.session_state.setdefault("retry_key", uuid.uuid4().hex)
            done, _ = attempt(lambda: subscriptions.retry_payment(engine(), uid, key, gateway=gw))
            st.session_state.pop("retry_key", None)
            if done:
                st.session_state["billing_flash"] = "Payment received: you are all set."
                st.rerun()
        with card_col.expander("Update card"):
            new_card = card_form("past_due_card", "Save card and pay")
            if new_card is not None:
                act(lambda: subscriptions.update_card(engine(), uid, new_card, gateway=gw), card_saved)

    st.subheader(md(sub.plan_name), anchor=False)
    if entitled.allowed:
        st.success(entitled.summary, icon=":material/play_circle:")
    else:
        st.warning(entitled.reason)
    if sub.status == "trialing":
        then = "it ends then." if sub.cancel_at_period_end else f"then {price}."
        st.markdown(f"**Free trial** until {day(sub.trial_end)}: {then}")
    elif sub.status == "active" and sub.cancel_at_period_end:
        st.markdown(f"**Cancelled**: you can watch until {day(sub.current_period_end)}; nothing more is charged.")
    elif sub.status == "active":
        st.markdown(f"**Active** · {price} · renews on {day(sub.current_period_end)}.")
    elif sub.status == "past_due":
        st.markdown(f"**Payment due** · {price}.")
    else:
        st.markdown(f"**Ended** on {day(sub.ended_at)}.")
        st.page_link("pages/plans.py", label="Resubscribe", icon=":material/sell:")

    if sub.is_live and sub.scheduled_plan_id is not None:
        st.info(f"Changes to {md(sub.scheduled_plan_name)} on {day(sub.current_period_end)}.")
        if st.button(f"Keep {md(sub.plan_name)}"):
            act(lambda: subscriptions.undo_downgrade(engine(), uid, gateway=gw), f"You stay on {sub.plan_name}.")

    if sub.is_live and sub.status != "past_due":
        others = [p for p in plans.active_plans(engine()) if p.plan_id != sub.plan_id]
        if others:
            with st.form("change_plan"):
                st.markdown(
                    "**Change plan**: an upgrade applies at once (the new price from your next billing "
                    "date); a downgrade applies at your next billing date."
                )
                target = st.selectbox("New plan", others, format_func=lambda p: f"{p.name} ({p.price_label})")
                if st.form_submit_button("Change plan"):
                    messages = {
                        "upgraded": f"Changed to {target.name}: it applies now.",
                        "downgraded": f"Changed to {target.name}.",
                        "downgrade_scheduled": f"You move to {target.name} on your next billing date, "
                        f"{day(sub.current_period_end)}.",
                        "downgrade_undone": f"You stay on {sub.plan_name}.",
                    }
                    act(
                        lambda: subscriptions.change_plan(engine(), uid, target.plan_id, gateway=gw),
                        lambda outcome: messages[outcome],
                    )
        end = sub.trial_end if sub.status == "trialing" else sub.current_period_end
        if sub.cancel_at_period_end:
            if st.button("Resume subscription", type="primary"):
                act(lambda: subscriptions.resume(engine(), uid, gateway=gw), "Your subscription continues.")
        elif st.button("Cancel subscription"):
            act(
                lambda: subscriptions.cancel(engine(), uid, gateway=gw),
                f"Cancelled. You can watch until {day(end)}, and resume before then.",
            )

st.header("Payment method")
card = subscriptions.card_on_file(engine(), uid)
if card is not None:
    st.text(f"{card['brand']} ending {card['last4']}, expires {card['exp_month']:02d}/{card['exp_year']}")
if sub is None or sub.status != "past_due":
    with st.expander("Update card" if card else "Add a card"):
        new_card = card_form("card", "Save card")
        if new_card is not None:
            act(lambda: subscriptions.update_card(engine(), uid, new_card, gateway=gw), card_saved)

st.header("Billing history")
history = statements.billing_history(engine(), uid)
if not history:
    st.caption("No payments yet.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Date": f"{h['attempted_at']:%Y-%m-%d}",
                    "Plan": h["plan_name"],
                    "Period": f"{h['period_start']:%Y-%m-%d} to {h['period_end']:%Y-%m-%d}"
                    if h["period_start"]
                    else "",
                    "Amount": f"{h['currency']} {format_amount(h['amount'])}",
                    "Status": "Paid"
                    if h["status"] == "succeeded"
                    else f"Failed ({(h['failure_reason'] or '').replace('_', ' ')})",
                    "Receipt": h["receipt"] or "",
                }
                for h in history
            ]
        ),
        hide_index=True,
    )
    paid = [h for h in history if h["receipt"]]
    if paid:
        chosen = st.selectbox("Receipt", paid, format_func=lambda h: f"{h['receipt']} · {h['attempted_at']:%Y-%m-%d}")
        receipt = statements.receipt(engine(), uid, chosen["payment_id"])
        st.code(receipt, language=None)
        st.download_button("Download receipt", receipt, file_name=f"{chosen['receipt']}.txt", mime="text/plain")

st.header("Notifications")
items = notifications.recent(engine(), uid)
if not items:
    st.caption("Nothing yet.")
for item in items:
    with st.container(border=True):
        st.markdown(f"**{'' if item['read_at'] else '● '}{md(item['title'])}** · {day(item['created_at'])}")
        st.text(item["body"])
if any(item["read_at"] is None for item in items) and st.button("Mark all as read"):
    notifications.mark_all_read(engine(), uid, now)
    st.rerun()

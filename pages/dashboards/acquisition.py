"""Acquisition: visitors -> signups -> trials -> paid, by traffic source and by month of first visit."""

import plotly.graph_objects as go
import streamlit as st

from backend.analytics import content_metrics
from ui import dashboards as dash
from ui.dashboards import show
from ui.session import engine, through_app

through_app()
acting = dash.guard("Acquisition")
period, filters = dash.filter_bar(acting)
COHORT = (
    "cohorts by month of first visit: visitors first seen in the range, how many signed up, ever started a "
    "trial and ever paid (so far); country = the visitor's; the plan filter does not apply."
)

data = content_metrics.acquisition_page(engine(), period, filters, acting_user_id=acting)
by_source = data["by_source"]
totals = by_source[["visitors", "signups", "trials", "paid"]].sum()
fig = go.Figure(
    go.Funnel(y=["Visitors", "Signups", "Trials", "Paid"], x=totals.to_list(), textinfo="value+percent initial")
)
fig.update_layout(title="Funnel", hovermode="closest")
show(fig, totals.rename("count").rename_axis("step").reset_index(), COHORT, key="funnel")

fig = go.Figure()
for step in ("visitors", "signups", "trials", "paid"):
    fig.add_bar(x=by_source["traffic_source"], y=by_source[step], name=step.capitalize())
fig.update_layout(barmode="group", title="By traffic source", yaxis_type="log", yaxis_title="people (log scale)")
show(
    fig,
    by_source,
    COHORT + " Visitor-to-signup = signups / visitors; signup-to-paid = paid / signups.",
    key="funnel_source",
)

fig = go.Figure()
for column, name in (("visitor_to_signup", "Visitor to signup"), ("signup_to_paid", "Signup to paid")):
    fig.add_bar(x=by_source["traffic_source"], y=by_source[column] * 100, name=name)
fig.update_layout(barmode="group", title="Conversion by traffic source", yaxis_title="%")
show(
    fig,
    by_source[["traffic_source", "visitor_to_signup", "signup_to_paid"]],
    "signups / visitors and paid / signups of each source's visitors (n/a when the denominator is 0).",
    key="conversion_source",
)

by_month = data["by_month"]
fig = go.Figure()
for column, name in (("visitor_to_signup", "Visitor to signup"), ("signup_to_paid", "Signup to paid")):
    fig.add_scatter(x=dash.month_axis(by_month), y=by_month[column] * 100, name=name, mode="lines+markers")
fig.update_layout(title="Conversion by month of first visit", yaxis_title="%")
show(fig, by_month, COHORT + " Recent cohorts are still converting.", key="funnel_month")
st.caption(
    "Source mix of the range: " + ", ".join(f"{row.traffic_source} {row.visitors:,}" for row in by_source.itertuples())
    if len(by_source)
    else "No visitors."
)

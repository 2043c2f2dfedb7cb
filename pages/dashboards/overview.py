"""Analytics overview: the KPI tiles with their month-over-month change, growth, churn and retention."""

from datetime import date

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from backend.analytics import revenue_pages
from ui import dashboards as dash
from ui.session import engine, through_app

through_app()
acting = dash.guard("Overview")
period, filters = dash.filter_bar(acting)
data = revenue_pages.overview(engine(), period, filters, acting_user_id=acting)

kpis = data["kpis"]
month = kpis["month"].iloc[0]
to_date = month is not None and month == date.today().replace(day=1)
st.subheader((f"{month:%B %Y}" + (" (month to date)" if to_date else "")) if month else "Latest month")
dash.tiles(kpis, worse_when_up=("Subscriber churn", "Gross revenue churn"))
st.caption(
    "How this is computed: each tile is the last month of the range (MRR, ARR, subscribers and ARPU at its "
    "end), compared with the month before. MRR = monthly-normalised price of paying subscriptions (annual / "
    "12; trials excluded, past-due counted during grace); ARR = MRR x 12; ARPU = MRR / active subscribers; "
    "churn = churned / active at start; gross revenue churn = (churn + contraction MRR) / start MRR; "
    "NRR = (start - churn - contraction + expansion) / start MRR; LTV = ARPU / mean churn of the 6 months "
    "before; quick ratio = (new + expansion) / (churn + contraction); trial conversion = trials started in "
    "the month that became paying / trials started; cash = successful payments. "
    "Plan filter: MRR counts in the plan it is on at that instant (switches out of/into the selection are "
    "'moved out/in', not churn/new)."
)
dash.download(kpis.drop(columns=["column"]), "kpis", "Download KPI tiles (CSV)")

growth = data["growth"]
months = dash.month_axis(growth)
fig = make_subplots(specs=[[{"secondary_y": True}]])
fig.add_bar(x=months, y=dash.as_float(growth["end_mrr"]), name="MRR (end of month)")
fig.add_scatter(x=months, y=growth["active_end"], name="Active subscribers", mode="lines+markers", secondary_y=True)
fig.update_layout(title="MRR and active subscribers")
fig.update_yaxes(title_text="MRR ($)", secondary_y=False)
fig.update_yaxes(title_text="subscribers", secondary_y=True, showgrid=False, tickmode="auto", rangemode="tozero")
dash.chart(
    fig,
    growth,
    "MRR and active subscribers (MRR > 0) at the end of each month, replayed from the "
    "subscription event log; ARR = MRR x 12, ARPU = MRR / active subscribers, LTV = ARPU / mean "
    "subscriber churn rate of the 6 months before.",
    key="growth",
)

retention = data["retention"]
months = dash.month_axis(retention)
fig = go.Figure()
for column, name in (
    ("churn_rate", "Subscriber churn"),
    ("voluntary_churn_rate", "Voluntary"),
    ("involuntary_churn_rate", "Involuntary"),
    ("gross_revenue_churn_rate", "Gross revenue churn"),
    ("net_revenue_churn_rate", "Net MRR churn"),
):
    fig.add_scatter(x=months, y=dash.as_float(retention[column]) * 100, name=name, mode="lines+markers")
fig.update_layout(title="Churn rates per month", yaxis_title="% per month")
dash.chart(
    fig,
    retention,
    "Subscriber churn = subscribers whose MRR went to 0 in the month / active at its start "
    "(voluntary: cancelled at period end; involuntary: grace period ended unpaid); gross "
    "revenue churn = (churn + contraction MRR) / start MRR; net MRR churn also subtracts "
    "expansion and reactivation. n/a (a gap) when nothing was active at the start.",
    key="churn",
)

fig = go.Figure()
for column, name in (("nrr", "NRR"), ("grr", "GRR"), ("trial_conversion", "Trial conversion")):
    fig.add_scatter(x=months, y=dash.as_float(retention[column]) * 100, name=name, mode="lines+markers")
fig.update_layout(title="Revenue retention and trial conversion", yaxis_title="%")
dash.chart(
    fig,
    retention[["month", "nrr", "grr", "trials_started", "trials_converted", "trial_conversion"]],
    "NRR = (start MRR - churn - contraction + expansion) / start MRR and GRR = (start MRR - churn - "
    "contraction) / start MRR, subscribers active at the start only; trial conversion = trials started in "
    "the month that have since become paying / trials started (recent months still have running trials).",
    key="retention",
)

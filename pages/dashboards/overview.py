"""Analytics overview: the KPI tiles with their month-over-month change, growth, churn and retention."""

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from backend.analytics import revenue_metrics, revenue_pages
from ui import dashboards as dash
from ui.session import engine, through_app

through_app()
acting = dash.guard("Overview")
period, filters = dash.filter_bar(acting)
data = revenue_pages.overview(engine(), period, filters, acting_user_id=acting)

kpis = data["kpis"]
month = kpis["month"].iloc[0]
to_date = bool(kpis["month_to_date"].iloc[0])
st.subheader((f"{month:%B %Y}" + (" (month to date)" if to_date else "")) if month else "Latest month")
dash.tiles(kpis, worse_when_up=("Subscriber churn", "Gross revenue churn"))
if to_date:
    st.caption(
        "Month to date: MRR, ARR, subscribers, ARPU and LTV (values at an instant) are compared with the end of "
        "the month before; churn, NRR, the quick ratio, trial conversion and cash cover the days so far and are "
        "not compared with a full month. Choose the last complete month in *To* for month-over-month changes."
    )
st.caption(
    "How this is computed: each tile is the last month of the range (MRR, ARR, subscribers and ARPU at its "
    "end), compared with the month before. MRR = monthly-normalised price of paying subscriptions (annual / "
    "12; trials excluded, past-due counted during grace); ARR = MRR x 12; ARPU = MRR / active subscribers; "
    "churn = churned / active at start; gross revenue churn = (churn + contraction MRR) / start MRR; "
    "NRR = (start - churn - contraction + expansion) / start MRR; LTV = ARPU / mean churn of the 6 months "
    "before; quick ratio = (new + expansion) / (churn + contraction); trial conversion = trials started in "
    "the month that converted when their trial ended / trials started (pending while any is still running); "
    "cash = successful payments. Money is rounded half-up to the cent. "
    f"{revenue_metrics.PLAN_FILTER_RULE}"
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
for column, name in (
    ("nrr", "NRR"),
    ("grr", "GRR"),
    ("trial_conversion", "Trial conversion (from the trial)"),
    ("trial_ever_paid_rate", "Trial members who have paid since"),
):
    fig.add_scatter(x=months, y=dash.as_float(retention[column]) * 100, name=name, mode="lines+markers")
fig.update_layout(title="Revenue retention and trial conversion", yaxis_title="%")
dash.chart(
    fig,
    retention[
        [
            "month",
            "month_to_date",
            "nrr",
            "grr",
            "trials_started",
            "trials_converted",
            "trials_running",
            "trial_conversion",
            "trial_conversion_pending",
            "trials_ever_paid",
            "trial_ever_paid_rate",
        ]
    ],
    "NRR = (start MRR - churn - contraction + expansion) / start MRR and GRR = (start MRR - churn - "
    "contraction) / start MRR, subscribers active at the start only. "
    f"{revenue_metrics.PLAN_FILTER_RULE} Trial conversion = trials started in the month whose first charge "
    "succeeded when the trial ended / trials started; a month with trials still running is pending (a gap, "
    "never a low value). The second line is looser: members of those trials who have paid at any time since "
    "(e.g. came back after the trial expired).",
    key="retention",
)

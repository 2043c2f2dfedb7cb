"""Analytics: revenue. MRR movements, MRR by plan, cash collected vs MRR, failed payments and recovery."""

import plotly.express as px
import plotly.graph_objects as go

from backend.analytics import revenue_pages
from ui import dashboards as dash
from ui.session import engine, through_app
from ui.text import chart_text

through_app()
acting = dash.guard("Revenue")
period, filters = dash.filter_bar(acting)
data = revenue_pages.revenue_page(engine(), period, filters, acting_user_id=acting)

movements = data["movements"]
months = dash.month_axis(movements)
fig = go.Figure()
for column, name, sign in (
    ("new_mrr", "New", 1),
    ("expansion_mrr", "Expansion", 1),
    ("reactivation_mrr", "Reactivation", 1),
    ("moved_in_mrr", "Moved in (plan filter)", 1),
    ("contraction_mrr", "Contraction", -1),
    ("churned_mrr", "Churn", -1),
    ("moved_out_mrr", "Moved out (plan filter)", -1),
):
    values = dash.as_float(movements[column]) * sign
    if column.startswith("moved") and not values.any():
        continue
    fig.add_bar(x=months, y=values, name=name)
fig.add_scatter(
    x=months,
    y=dash.as_float(movements["net_new_mrr"]),
    name="Net new MRR",
    mode="lines+markers",
    line={"color": "#f5f5f1"},
)
fig.update_layout(title="MRR movements per month", barmode="relative", yaxis_title="MRR ($)")
dash.chart(
    fig,
    movements,
    "Each subscriber's MRR at the start and end of the month (replayed from the "
    "subscription event log): 0 to >0 is new (never paid before) or reactivation; up is "
    "expansion, down to >0 contraction, to 0 churn; net = end - start MRR. With a plan "
    "filter, MRR counts in the plan it is on at that instant and switches into/out of the "
    "selected plans are moved in/out (ChartMogul's entering/leaving segment); the rates on the "
    "Overview follow the subscribers instead (a move counts at its new price).",
    key="movements",
)

by_plan = data["mrr_by_plan"]
fig = px.bar(
    by_plan.assign(month=dash.month_axis(by_plan), mrr=dash.as_float(by_plan["mrr"]), plan=chart_text(by_plan["plan"])),
    x="month",
    y="mrr",
    color="plan",
    title="MRR by plan (end of month)",
    labels={"mrr": "MRR ($)"},
)
dash.chart(
    fig,
    by_plan,
    "End-of-month MRR and active subscribers grouped by the plan each subscriber is on at the "
    "end of the month (annual plans at price / 12).",
    key="mrr_by_plan",
)

cash = data["cash_vs_mrr"]
fig = go.Figure()
fig.add_bar(x=months, y=dash.as_float(cash["cash_collected"]), name="Cash collected")
fig.add_scatter(x=months, y=dash.as_float(cash["end_mrr"]), name="MRR (end of month)", mode="lines+markers")
fig.update_layout(title="Cash collected vs MRR", yaxis_title="$")
dash.chart(
    fig,
    cash,
    "Cash collected = the sum of successful payments in the month (by the plan paid for; there "
    "are no refunds in this app), beside end-of-month MRR: they differ, e.g. an annual plan is "
    "paid once but counts 1/12 of its price in MRR each month.",
    key="cash_vs_mrr",
)

payments = data["payments"]
fig = go.Figure()
fig.add_bar(x=months, y=payments["failed_payment_attempts"], name="Failed payment attempts")
fig.add_bar(x=months, y=payments["renewals_recovered"], name="Failed renewals recovered")
fig.add_bar(x=months, y=payments["renewals_lost"], name="Failed renewals lost")
fig.add_scatter(
    x=months,
    y=dash.as_float(payments["recovery_rate"]) * 100,
    name="Recovery rate (%)",
    mode="lines+markers",
    yaxis="y2",
)
fig.update_layout(
    title="Failed payments and recovery",
    barmode="group",
    yaxis_title="count",
    yaxis2={
        "title": "recovery %",
        "overlaying": "y",
        "side": "right",
        "range": [0, 105],
        "showgrid": False,
        "tickmode": "linear",
        "dtick": 25,
    },
)
dash.chart(
    fig,
    payments,
    "Failed attempts = payment attempts that failed in the month (checkout, trial "
    "conversion, renewal, retry). Recovery rate = of the renewals that failed in the month, "
    "recovered within the 7-day grace / (recovered + ended unpaid); pending (a gap) while any of "
    "them is still in its grace period (renewals_in_grace in the CSV).",
    key="payments",
)

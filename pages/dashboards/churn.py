"""Churn and retention: churn rates and segments, cohorts, survival, the churn model and who is at risk."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from backend.analytics import churn_metrics
from ui import dashboards as dash
from ui.dashboards import show
from ui.session import engine, through_app
from ui.text import chart_label

through_app()
acting = dash.guard("Churn & retention")
period, filters = dash.filter_bar(acting)

data = churn_metrics.page_data(
    engine(), period, filters, survival_group=st.session_state.get("survival_group", "plan"), acting_user_id=acting
)
rates = data["churn_by_month"]
fig = go.Figure()
for column, name in (
    ("churn_rate", "All churn"),
    ("churn_rate_voluntary", "Voluntary"),
    ("churn_rate_involuntary", "Involuntary"),
):
    fig.add_scatter(x=dash.month_axis(rates), y=rates[column] * 100, name=name, mode="lines+markers")
fig.update_layout(title="Subscriber (logo) churn rate per month", yaxis_title="% of subscribers active at start")
show(
    fig,
    rates,
    "subscribers whose MRR went to 0 in the month / subscribers with MRR > 0 at its start (trials "
    "excluded); voluntary = cancelled at period end, involuntary = grace period ended unpaid; plan "
    "= plan at the start of the month.",
    key="churn_month",
)

st.subheader("Churn by segment")
st.caption("Pooled over the months of the range: churned / active at the start of each month, summed.")
for tab, by, label in zip(
    st.tabs(["By plan", "By country", "By tenure"]),
    ("plan", "country", "tenure"),
    (
        "plan at the start of the month",
        "the account's country",
        "months since the first paid day, at the start of the month",
    ),
    strict=True,
):
    with tab:
        frame = data[f"churn_by_{by}"]
        axis = frame[by].map(dash.country_label) if by == "country" else frame[by].astype(str)
        fig = go.Figure()
        fig.add_bar(x=axis, y=frame["churn_rate_voluntary"] * 100, name="Voluntary")
        fig.add_bar(x=axis, y=frame["churn_rate_involuntary"] * 100, name="Involuntary")
        fig.update_layout(barmode="stack", title=f"Churn rate by {by}", yaxis_title="% per month")
        show(
            fig,
            frame,
            f"churned / active at the start of the month, summed over the range's months, by "
            f"{label}; n/a where no one was active.",
            key=f"churn_{by}",
        )

st.subheader("Cohort retention")
cohorts = data["cohorts"]
logo, money = st.tabs(["Logo retention", "Net MRR retention"])
for tab, column, how in (
    (
        logo,
        "logo_retention",
        "cohort = subscribers whose first paid day is in the month (plan filter: first "
        "paid plan); members with MRR > 0 at the end of month k / cohort size; reactivated "
        "members count again in their first cohort; complete months only.",
    ),
    (
        money,
        "net_mrr_retention",
        "the cohort's MRR at the end of month k / the cohort's New MRR (each member's "
        "MRR on the first paid day); upgrades can take it above 100%.",
    ),
):
    with tab:
        grid = cohorts.pivot(index="cohort_month", columns="month_index", values=column)
        labels = [m.strftime("%Y-%m") for m in grid.index]
        values = grid.to_numpy(dtype=float) * 100
        text = [["" if v != v else f"{v:.0f}%" for v in row] for row in values]
        fig = go.Figure(
            go.Heatmap(
                z=values,
                x=[f"M{k}" for k in grid.columns],
                y=labels,
                text=text,
                colorscale="RdYlGn",
                zmin=0,
                zmax=100 if column == "logo_retention" else 120,
                texttemplate="%{text}",
                hovertemplate="%{y} %{x}: %{z:.1f}%<extra></extra>",
            )
        )
        fig.update_layout(
            title=column.replace("_", " ").capitalize() + " by cohort",
            yaxis={"autorange": "reversed", "type": "category"},
            hovermode="closest",
        )
        show(fig, cohorts, how, key=f"cohort_{column}")

st.subheader("Survival")
st.radio(
    "Curves",
    ["plan", "cohort", "all"],
    horizontal=True,
    key="survival_group",
    format_func={"plan": "By first plan", "cohort": "By cohort", "all": "Everyone"}.get,
)
curves = data["survival"]
fig = go.Figure()
for key, curve in curves.groupby("group_key"):
    fig.add_scatter(x=curve["t_days"], y=curve["survival"] * 100, name=chart_label(key), mode="lines", line_shape="hv")
fig.update_layout(
    title="Share still subscribed, by days since the first paid day",
    xaxis_title="days",
    yaxis_title="% surviving",
    yaxis_range=[0, 101],
)
show(
    fig,
    curves,
    "Kaplan-Meier estimate (statsmodels) of the time from the first paid day to the first "
    "churn, censored today for subscribers still paying; 95% log-log bounds in the CSV; not "
    "filtered by the range, plan or country above.",
    key="survival",
)

st.subheader("Churn risk")
run = data["model"]
if run is None:
    st.info("No churn model yet: run `python -m backend.analytics refresh`.")
else:
    details = run["details"]
    columns = st.columns(4)
    columns[0].metric("ROC-AUC (test month)", dash.format_value(run["roc_auc"], "ratio"), border=True)
    columns[1].metric("PR-AUC (test month)", dash.format_value(run["pr_auc"], "ratio"), border=True)
    columns[2].metric("Churn base rate (test)", dash.format_value(details.get("base_rate"), "rate"), border=True)
    columns[3].metric("Test snapshot", f"{run['test_cutoff']:%b %Y}" if run["test_cutoff"] else "n/a", border=True)
    st.caption(
        f"How this is computed: {run['model']} on features known at each month start (tenure, MRR, annual "
        "plan, watch hours and active days in the 30 days before, days since the last play, failed payments "
        "in 90 days, grace period, profiles, reactivated); label = churned within the next 30 days. Trained "
        f"on {run['train_cutoffs']} earlier snapshots whose 30 days ended by the test snapshot, tested on "
        f"{run['test_rows']:,} subscribers ({run['test_positives']:,} churned); pending cancellations are "
        f"left out and never a feature ({run['train_rows']:,} training rows). Scores below: refitted on all "
        f"snapshots, as of {run['as_of']:%Y-%m-%d}."
    )
    calibration = pd.DataFrame(details.get("calibration") or [], columns=["predicted", "observed"])
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], name="Perfect", mode="lines", line={"dash": "dot"})
    fig.add_scatter(x=calibration["predicted"], y=calibration["observed"], name="Model", mode="lines+markers")
    top_p = max([0.05, *calibration["predicted"], *calibration["observed"]]) * 1.1
    fig.update_layout(
        title="Calibration on the test month",
        xaxis_title="predicted probability",
        yaxis_title="observed churn share",
        hovermode="closest",
        xaxis_range=[0, top_p],
        yaxis_range=[0, top_p],
    )
    show(
        fig,
        calibration,
        "test subscribers in equal-sized bins by predicted probability: mean prediction vs "
        "the share that churned within 30 days.",
        key="calibration",
    )

    top, totals = data["at_risk"], data["at_risk_totals"]
    columns = st.columns(3)
    columns[0].metric("MRR at risk", dash.format_value(totals["mrr_at_risk"], "money"), border=True)
    columns[1].metric("Expected churners (30 days)", f"{float(totals['expected_churners']):,.1f}", border=True)
    columns[2].metric("Subscribers scored", f"{totals['scored']:,}", border=True)
    st.markdown("**At-risk subscribers** (highest MRR at risk first)")
    st.dataframe(top, hide_index=True, width="stretch")
    st.caption(
        "How this is computed: MRR at risk = probability of churning within 30 days x MRR, summed over the "
        "paying subscribers scored (plan and country filters apply; pending cancellations listed apart)."
    )
    dash.download(top, "at_risk")

    pending = data["pending"]
    st.markdown(f"**Pending cancellations** ({len(pending):,}): they keep access until the date shown, then churn.")
    st.dataframe(pending, hide_index=True, width="stretch")
    st.caption(
        "How this is computed: paying subscribers with a cancellation scheduled at period end, as of the "
        "last refresh, soonest first."
    )
    dash.download(pending, "pending_cancellations")

"""Engagement: active members and stickiness, watch time, completion, weekly Top 10, genres, peak hours,
time to first play."""

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from backend.analytics import engagement_metrics as em
from ui import dashboards as dash
from ui.dashboards import show
from ui.session import engine, through_app
from ui.text import chart_text

through_app()
acting = dash.guard("Engagement")
period, filters = dash.filter_bar(acting)

unit = st.radio(
    "Count active",
    ["account", "profile"],
    horizontal=True,
    key="engagement_unit",
    format_func={"account": "Accounts", "profile": "Viewing profiles"}.get,
)
data = em.engagement_page(
    engine(), period, filters, unit=unit, week=st.session_state.get("top10_week"), acting_user_id=acting
)
daily = data["daily"]
fig = make_subplots(specs=[[{"secondary_y": True}]])
fig.add_scatter(x=daily["day"], y=daily["dau"], name="DAU", mode="lines")
fig.add_scatter(x=daily["day"], y=daily["mau"], name="MAU (30 days)", mode="lines")
fig.add_scatter(x=daily["day"], y=daily["dau_mau"] * 100, name="DAU/MAU %", mode="lines", secondary_y=True)
fig.update_layout(title=f"Daily and monthly active {unit}s")
fig.update_yaxes(title_text=f"{unit}s", secondary_y=False)
fig.update_yaxes(title_text="DAU/MAU %", secondary_y=True, showgrid=False)
show(
    fig,
    daily,
    f"unit = {unit}; active = at least one qualified play (120 s, or the end of a shorter item); "
    "DAU = active that UTC day, MAU = active in the 30 days ending that day; plan = plan on the "
    "day (MAU over several plans counts a member who switched plan in the 30 days once per plan).",
    key="dau_mau",
)

sticky = data["stickiness"]
fig = go.Figure(go.Bar(x=dash.month_axis(sticky), y=sticky["stickiness"] * 100, name="Stickiness"))
fig.update_layout(title="Stickiness per month", yaxis_title="mean DAU/MAU %")
show(fig, sticky, f"the mean over the month's days of DAU/MAU ({unit}s); the current month to date.", key="stickiness")

hours = data["watch_hours"]
fig = make_subplots(specs=[[{"secondary_y": True}]])
fig.add_bar(x=dash.month_axis(hours), y=hours["hours"], name="Hours watched (everyone, trials included)")
fig.add_scatter(
    x=dash.month_axis(hours),
    y=hours["hours_per_subscriber"],
    name="Hours per subscriber",
    mode="lines+markers",
    secondary_y=True,
)
fig.update_layout(title="Watch hours")
fig.update_yaxes(title_text="hours", secondary_y=False)
fig.update_yaxes(title_text="hours per subscriber", secondary_y=True, showgrid=False)
show(
    fig,
    hours,
    "hours per subscriber = what the subscribers paying (MRR > 0) at the start of the month watched "
    "during it / those subscribers: one population above and below the line (trial viewing is in "
    "neither; n/a when none). The bars are all hours watched, trials and past-due members included.",
    key="watch_hours",
)

done = data["completion"]
fig = go.Figure()
for kind, part in done.groupby("kind"):
    fig.add_scatter(
        x=dash.month_axis(part), y=part["completion_rate"] * 100, name=f"Completion ({kind}s)", mode="lines+markers"
    )
    fig.add_scatter(
        x=dash.month_axis(part),
        y=part["average_share_watched"] * 100,
        name=f"Share watched ({kind}s)",
        mode="lines",
        line={"dash": "dot"},
    )
fig.update_layout(title="Completion rate", yaxis_title="%")
show(
    fig,
    done,
    "per profile and item (a film, or each episode), by the month of its first qualified play: "
    "furthest position >= 90% of the runtime / qualified starts; share watched = watched seconds "
    "/ runtime, capped at 1; not filtered by plan or country.",
    key="completion",
)

st.subheader("Weekly Top 10")
mondays = data["weeks"]
if not mondays:
    st.info("No complete Monday-Sunday week in the range.")
else:
    st.selectbox("Week starting", mondays, format_func=lambda d: f"{d:%a %d %b %Y}", key="top10_week")
    top = data["top10"]
    for column, kind, label in zip(st.columns(2), ("movie", "tv_show"), ("Films", "Series"), strict=True):
        with column:
            part = top[top["kind"] == kind]
            fig = go.Figure(
                go.Bar(
                    x=part["views"],
                    y=chart_text(part["title"]),
                    orientation="h",
                    customdata=part["hours"],
                    hovertemplate="%{y}: %{x:.1f} views, %{customdata:.1f} h<extra></extra>",
                )
            )
            fig.update_layout(
                title=f"{label}", yaxis={"autorange": "reversed"}, xaxis_title="views", hovermode="closest"
            )
            show(
                fig,
                part,
                "views = hours viewed in the Monday-Sunday week (UTC) / runtime (a series: all its "
                "episodes); ties broken by hours; all plans and countries.",
                key=f"top10_{kind}",
            )

genres = data["genres"]
fig = go.Figure(go.Bar(x=genres["share"] * 100, y=chart_text(genres["genre"]), orientation="h"))
fig.update_layout(
    title="Genre share of hours watched",
    xaxis_title="% of hours",
    yaxis={"autorange": "reversed"},
    height=max(400, 18 * len(genres)),
    hovermode="closest",
)
show(
    fig,
    genres,
    "hours in the genre / all hours; a title with several genres has its hours split equally "
    "among them, so shares sum to 100%; all plans and countries.",
    key="genres",
)

st.subheader("When members watch")
heat = data["peak_hours"]
grid = heat.pivot(index="weekday", columns="hour", values="hours").reindex(index=range(1, 8), columns=range(24))
fig = go.Figure(
    go.Heatmap(
        z=grid.to_numpy(),
        x=[f"{h:02d}" for h in range(24)],
        y=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        colorscale="Inferno",
        hovertemplate="%{y} %{x}:00 UTC: %{z:.0f} h<extra></extra>",
    )
)
fig.update_layout(title="Hours viewed by weekday and hour (UTC)", yaxis={"autorange": "reversed"}, hovermode="closest")
show(fig, heat, "a session's watched hours counted in the weekday and hour (UTC) it started.", key="peak_hours")

peaks = data["peak_concurrency"]
fig = go.Figure(go.Scatter(x=peaks["day"], y=peaks["peak_sessions"], mode="lines", name="Peak sessions"))
fig.update_layout(title="Peak concurrent sessions per day", yaxis_title="sessions")
show(
    fig,
    peaks,
    "the most playback sessions overlapping in any one minute of the UTC day; all plans and countries.",
    key="peak_concurrency",
)

first = data["first_play"]
fig = make_subplots(specs=[[{"secondary_y": True}]])
fig.add_bar(x=dash.month_axis(first), y=first["median_hours"], name="Median hours to first play")
fig.add_scatter(
    x=dash.month_axis(first),
    y=first["played"] / first["subscribers"].where(first["subscribers"] > 0) * 100,
    name="% who have played",
    mode="lines+markers",
    secondary_y=True,
)
fig.update_layout(title="Time to first play, by signup month")
fig.update_yaxes(title_text="hours", secondary_y=False)
fig.update_yaxes(title_text="%", secondary_y=True, showgrid=False, range=[0, 101])
show(
    fig,
    first,
    "first qualified play - start of the first subscription (trial or paid), median over the "
    "members who signed up that month and have played; country filter only.",
    key="first_play",
)

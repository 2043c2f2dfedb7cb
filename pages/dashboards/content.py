"""Content: the catalogue by type, genre, country, release year and maturity; additions; what is watched."""

import plotly.graph_objects as go
import streamlit as st

from backend.analytics import content_metrics
from ui import dashboards as dash
from ui.dashboards import show
from ui.session import engine, through_app
from ui.text import chart_text

through_app()
acting = dash.guard("Content")
period, filters = dash.filter_bar(acting)
data = content_metrics.content_page(engine(), period, filters, acting_user_id=acting)
st.caption(
    "The catalogue charts show the active catalogue today; viewing charts use the month range. Plan and "
    "country filters do not apply to this page (titles are the same for every member)."
)

st.subheader("The catalogue")
labels = {
    "type": "Type",
    "genre": "Genre",
    "country": "Production country",
    "release_year": "Release year",
    "maturity": "Maturity rating",
}
for tab, dimension in zip(st.tabs(list(labels.values())), labels, strict=True):
    with tab:
        frame = data[f"catalogue_{dimension}"]
        shown = frame.head(30) if dimension in ("genre", "country") else frame
        if dimension == "release_year":
            fig = go.Figure(go.Bar(x=shown["value"], y=shown["titles"]))
        else:
            fig = go.Figure(
                go.Bar(
                    x=shown["titles"], y=shown["value"].astype(str), orientation="h", hovertext=shown.get("audience")
                )
            )
            fig.update_layout(yaxis={"autorange": "reversed", "type": "category"}, height=max(360, 20 * len(shown)))
        fig.update_layout(title=f"Active titles by {labels[dimension].lower()}", hovermode="closest")
        show(
            fig,
            frame,
            "active titles counted once per value; a title with several genres or countries "
            "counts in each (top 30 drawn, all in the CSV).",
            key=f"catalogue_{dimension}",
        )

st.subheader("Additions over time")
added = data["additions"]
fig = go.Figure()
for kind, part in added.groupby("kind"):
    fig.add_bar(x=part["year"], y=part["titles"], name={"movie": "Films", "tv_show": "Series"}.get(kind, kind))
fig.update_layout(barmode="stack", title="Titles added per year", yaxis_title="titles")
show(
    fig,
    added,
    "titles counted by the year of their date added to the catalogue (the CSV's date_added), "
    "by type; titles without a date are left out.",
    key="additions",
)

st.subheader("What is watched")
top = data["top_titles"]
fig = go.Figure(
    go.Bar(
        x=top["views"],
        y=chart_text(top["title"]),
        orientation="h",
        customdata=top["hours"],
        hovertemplate="%{y}: %{x:.1f} views, %{customdata:.1f} h<extra></extra>",
    )
)
fig.update_layout(
    title="Top 20 titles by views in the range",
    yaxis={"autorange": "reversed"},
    xaxis_title="views",
    height=600,
    hovermode="closest",
)
show(
    fig,
    top,
    "views = hours viewed in the range / runtime (a series: all its episodes), films and series "
    "together; ties broken by hours.",
    key="top_titles",
)

never = data["never_watched"]
counts = never.groupby("kind").size()
st.metric(
    "Titles never watched in the range",
    f"{len(never):,}",
    help=f"{counts.get('movie', 0):,} films, {counts.get('tv_show', 0):,} series",
    border=True,
)
st.dataframe(never.head(200), hide_index=True, width="stretch")
st.caption(
    "How this is computed: active titles without a single qualified play (120 s) in the range, newest "
    "additions first (200 shown, all in the CSV)."
)
dash.download(never, "never_watched")

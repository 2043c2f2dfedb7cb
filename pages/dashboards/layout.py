"""7B's dashboards: room for axis labels around the figures, then 7A's `chart` (caption and CSV download)."""

import pandas as pd
import plotly.graph_objects as go

from pages.dashboards import common as dash

MARGIN = {"l": 72, "r": 64, "t": 56, "b": 48}


def show(fig: go.Figure, data: pd.DataFrame, how: str, *, key: str) -> None:
    """`dash.chart` with margins wide enough for tick labels and category names (they grow as needed)."""
    fig.update_layout(margin=MARGIN)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    dash.chart(fig, data, how, key=key)

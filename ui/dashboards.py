"""What every analytics dashboard page shares.

A dashboard page looks like this:

    from ui import dashboards as dash
    from ui.session import engine, through_app

    through_app()
    acting = dash.guard("Revenue")            # title + server-side role check (admin or analyst)
    period, filters = dash.filter_bar(acting) # months range, plans, countries (session + URL)
    data = revenue_pages.revenue_page(engine(), period, filters, acting_user_id=acting)  # one call per page
    dash.chart(fig, data["frame"], "how this is computed, in one line", key="frame")

Conventions (be consistent):
- Every backend function a dashboard calls takes `acting_user_id` (keyword) and starts with
  `backend.analytics.reading.authorise(engine, acting_user_id)` (require_role(..., "admin", "analyst")),
  so the role is checked on the server on every run, whatever the menu shows. `guard()` checks it too,
  before anything is drawn, and stops the page with a message for anyone else.
- Backend functions take `period: backend.analytics.selection.Period` (calendar months first..last, UTC) and
  `filters: backend.analytics.selection.Filters` (plan_ids, countries: empty = all) and return DataFrames.
- Money stays Decimal in the frames (the CSV downloads are exact); charts convert for drawing only.
- `chart(fig, data, how)` draws the figure with the dark template, the one-line "How this is computed"
  caption, and a CSV download of exactly `data`.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from backend.analytics import reading, selection
from backend.core.money import format_amount
from ui.refusals import allowed
from ui.session import engine

# The app's dark theme (.streamlit/config.toml), for Plotly figures drawn with theme=None.
BACKGROUND, PANEL, TEXT, PRIMARY = "#141414", "#1f1f1f", "#f5f5f1", "#E50914"
COLORWAY = [PRIMARY, "#46d369", "#f5c518", "#54b9ff", "#b084f5", "#ff8a3d", "#9aa0a6", "#ff5fa2"]
pio.templates["reelhouse"] = go.layout.Template(
    pio.templates["plotly_dark"],
    layout=go.Layout(
        paper_bgcolor=BACKGROUND,
        plot_bgcolor=PANEL,
        colorway=COLORWAY,
        font={"color": TEXT, "family": "sans-serif"},
        title={"x": 0.01, "font": {"size": 18}},
        legend={"orientation": "h", "y": -0.18},
        margin={"t": 56, "l": 72, "r": 56, "b": 48},
        hovermode="x unified",
        xaxis={"gridcolor": "#2a2a2a"},
        yaxis={"gridcolor": "#2a2a2a", "automargin": True},
    ),
)
TEMPLATE = "reelhouse"
px.defaults.template = TEMPLATE  # Plotly Express picks its colours at creation

_STORE = "dashboard_filters"  # survives page switches (widget keys do not)


def guard(title: str) -> int:
    """Draw the page title and check the role on the server; returns the acting user's id."""
    st.title(title)
    acting = st.session_state.get("user_id")
    allowed(lambda: reading.authorise(engine(), acting))
    return acting


def _month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def _initial(options: selection.FilterOptions) -> dict:
    """The filters from the URL (?from=2026-01&to=2026-06&plan=2&plan=3&country=US), else the session's,
    else the last 12 months with data, all plans and countries. Values not offered are dropped."""
    stored = st.session_state.get(_STORE) or {}
    default = options.default_period()
    labels = [_month_label(m) for m in options.months]
    params = st.query_params
    first = params.get("from") or stored.get("first") or _month_label(default.first)
    last = params.get("to") or stored.get("last") or _month_label(default.last)
    if labels:
        first = first if first in labels else labels[0]
        last = last if last in labels else labels[-1]
        if labels.index(first) > labels.index(last):
            first, last = last, first
    plan_names = params.get_all("plan") and [options.plans.get(int(p)) for p in params.get_all("plan") if p.isdigit()]
    plans = [p for p in (plan_names or stored.get("plans") or []) if p in options.plans.values()]
    countries = [c for c in (params.get_all("country") or stored.get("countries") or []) if c in options.countries]
    return {"first": first, "last": last, "plans": plans, "countries": countries}


def _remember(options: selection.FilterOptions) -> None:
    first, last = st.session_state["_dash_from"], st.session_state["_dash_to"]
    if first > last:  # keep the range the right way round
        first, last = last, first
        st.session_state["_dash_from"], st.session_state["_dash_to"] = first, last
    plans = list(st.session_state["_dash_plans"])
    countries = list(st.session_state["_dash_countries"])
    st.session_state[_STORE] = {"first": first, "last": last, "plans": plans, "countries": countries}
    ids = {name: pid for pid, name in options.plans.items()}
    st.query_params.from_dict({"from": first, "to": last, "plan": [str(ids[p]) for p in plans], "country": countries})


def country_label(code: str) -> str:
    return code or "Unknown"


def filter_bar(acting_user_id: int) -> tuple[selection.Period, selection.Filters]:
    """Months range, plan and country filters, kept in the session and the URL; returns what is chosen."""
    options = selection.filter_options(engine(), acting_user_id=acting_user_id)
    if not options.months:
        st.info("No subscription data yet: seed the demo year (python -m seed.generate) or wait for members.")
        st.stop()
    chosen = _initial(options)
    # Set every run, before the widgets exist: widget state does not survive a page switch, this does.
    for key, value in (
        ("_dash_from", chosen["first"]),
        ("_dash_to", chosen["last"]),
        ("_dash_plans", chosen["plans"]),
        ("_dash_countries", chosen["countries"]),
    ):
        st.session_state[key] = value
    labels = [_month_label(m) for m in options.months]
    from_column, to_column, plans_column, countries_column = st.columns([1.3, 1.3, 2, 2])
    shown = {label: month_label(selection.parse_month(label)) for label in labels}
    from_column.selectbox("From", labels, key="_dash_from", format_func=shown.get, on_change=_remember, args=(options,))
    to_column.selectbox("To", labels, key="_dash_to", format_func=shown.get, on_change=_remember, args=(options,))
    plans_column.multiselect(
        "Plans",
        list(options.plans.values()),
        key="_dash_plans",
        placeholder="All plans",
        on_change=_remember,
        args=(options,),
    )
    countries_column.multiselect(
        "Countries",
        options.countries,
        key="_dash_countries",
        format_func=country_label,
        placeholder="All countries",
        on_change=_remember,
        args=(options,),
    )
    first, last = sorted((st.session_state["_dash_from"], st.session_state["_dash_to"]))
    ids = {name: pid for pid, name in options.plans.items()}
    period = selection.Period(selection.parse_month(first), selection.parse_month(last))
    filters = selection.Filters(
        tuple(ids[p] for p in st.session_state["_dash_plans"]), tuple(st.session_state["_dash_countries"])
    )
    return period, filters


def chart(fig: go.Figure, data: pd.DataFrame, how: str, *, key: str) -> None:
    """The figure (dark template, the month to date shaded), a one-line "How this is computed" caption and a
    CSV of `data`."""
    fig.update_layout(template=TEMPLATE)
    mark_month_to_date(fig, data)
    st.plotly_chart(fig, theme=None, key=f"chart_{key}", config={"displaylogo": False})
    st.caption(f"How this is computed: {how}")
    download(data, key)


def mark_month_to_date(fig: go.Figure, data: pd.DataFrame) -> None:
    """Shade the month to date on a chart over months (its points cover the days so far, not a month)."""
    if "month" not in data.columns or data.empty:
        return
    fig.update_xaxes(type="category")  # months are categories (a 'YYYY-MM' label would become a date axis)
    labels = list(dict.fromkeys(month_axis(data)))
    for position, label in enumerate(labels):
        if label.endswith(TO_DATE):
            fig.add_vrect(
                x0=position - 0.5,
                x1=position + 0.5,
                fillcolor="#9aa0a6",
                opacity=0.15,
                line_width=0,
                annotation_text="month to date",
                annotation_position="top left",
            )


def download(data: pd.DataFrame, key: str, label: str = "Download CSV") -> None:
    """A CSV download of `data` exactly as computed (Decimal money keeps its cents)."""
    csv = data.assign(**{c: data[c].map(_cell) for c in data.columns}).to_csv(index=False)
    st.download_button(label, csv, file_name=f"{key}.csv", mime="text/csv", key=f"csv_{key}", on_click="ignore")


def _cell(value):
    if isinstance(value, date):
        return value.isoformat()[:7] if value.day == 1 else value.isoformat()
    return value


def as_float(series: pd.Series) -> pd.Series:
    """For drawing only: Decimal -> float, n/a (None) -> NaN (a gap in the line)."""
    return pd.to_numeric(series.map(lambda v: None if v is None else float(v)), errors="coerce")


TO_DATE = " (to date)"


def month_label(month: date) -> str:
    """'2026-11', or '2026-12 (to date)' for the month to date."""
    return f"{month:%Y-%m}" + (TO_DATE if selection.is_month_to_date(month) else "")


def month_axis(frame: pd.DataFrame) -> list[str]:
    return [month_label(m) for m in frame["month"]]


def _fixed(value, places: int, sign: bool = False) -> str:
    """A Decimal with `places` decimals, rounded half-up (formatting alone would round half-even)."""
    exact = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{exact:+.{places}f}" if sign else f"{exact:.{places}f}"


def format_value(value, kind: str) -> str:
    """A tile's value: money '$1,234.56', count '1,234', rate '3.45%', ratio '2.50'; None: 'n/a'."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if kind == "money":
        return f"${format_amount(value)}"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{_fixed(Decimal(value) * 100, 2)}%"
    return _fixed(value, 2)


def format_change(change, kind: str, basis: str | None = "MoM") -> str | None:
    """The change since `basis` ('MoM', 'since 30 Nov'): relative for money and counts, percentage points for
    rates; None when not compared."""
    if change is None or basis is None or (isinstance(change, float) and change != change):
        return None
    if kind in ("money", "count"):
        return f"{_fixed(Decimal(change) * 100, 1, sign=True)}% {basis}"
    if kind == "rate":
        return f"{_fixed(Decimal(change) * 100, 2, sign=True)} pp {basis}"
    return f"{_fixed(change, 2, sign=True)} {basis}"


def tiles(kpis: pd.DataFrame, *, per_row: int = 4, worse_when_up: tuple[str, ...] = ()) -> None:
    """KPI tiles (label, value, change). Columns: metric, kind, value, change, compared_with, pending, open
    (backend.analytics.revenue_pages.kpis). A pending figure shows 'pending' and what is still open; a
    flow of the month to date is not compared with a full month."""
    rows = list(kpis.itertuples())
    for start in range(0, len(rows), per_row):
        for column, tile in zip(st.columns(per_row), rows[start : start + per_row], strict=False):
            if tile.pending:
                column.metric(
                    tile.metric,
                    "pending",
                    tile.open,
                    delta_color="off",
                    delta_arrow="off",
                    border=True,
                    help="The outcome is still open: the figure is final once it has resolved.",
                )
                continue
            not_compared = tile.month_to_date and tile.compared_with is None
            column.metric(
                tile.metric,
                format_value(tile.value, tile.kind),
                format_change(tile.change, tile.kind, tile.compared_with),
                delta_color="inverse" if tile.metric in worse_when_up else "normal",
                border=True,
                help="Month to date: not compared with a full month." if not_compared else None,
            )


MARGIN = {"l": 72, "r": 64, "t": 56, "b": 48}


def show(fig: go.Figure, data: pd.DataFrame, how: str, *, key: str) -> None:
    """`chart` with margins wide enough for tick labels and category names (they grow as needed)."""
    fig.update_layout(margin=MARGIN)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    chart(fig, data, how, key=key)

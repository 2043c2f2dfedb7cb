"""Data operations (admins and analysts): preview and apply catalogue loads, run the seeder, with live progress
and the CLIs' summaries, the history of runs, and CSV exports of the main tables."""

from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from backend.admin import data_exports
from backend.admin.data_exports import DataOpsError
from backend.core.errors import Refusal
from ops import data_operations
from ui.admin import acting_user_id
from ui.refusals import allowed, show_refusal
from ui.session import engine, through_app

through_app()

st.title("Data operations")
allowed(lambda: data_exports.require_data_role(engine(), acting_user_id()))


def live_progress(label: str):
    """A status box and a progress bar updated by the job's (name, done, total) callback."""
    status = st.status(label, expanded=True)
    bar = status.progress(0.0, text="Starting…")

    def on_step(name: str, done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{name}: {done}/{total}")

    return status, on_step


def show_lines(lines: list[str]) -> None:
    st.code("\n".join(lines), language=None)


PREVIEW_KEY = "etl_preview"  # the last preview: what to apply if the admin or analyst goes ahead
APPLY_KEY = "etl_apply"


def catalogue_file(source: str, upload) -> tuple[Path, str]:
    """The chosen CSV as a file (an upload is saved to a temporary file the caller deletes) and its name."""
    if source == "upload":
        if upload is None:
            raise DataOpsError("Choose a CSV file to upload first.")
        return data_operations.save_upload(upload.getvalue()), upload.name
    path = data_operations.configured_csv()
    return path, str(path)


def preview_etl(source: str, upload, options: data_operations.LoadOptions) -> None:
    st.session_state.pop(PREVIEW_KEY, None)
    try:
        path, name = catalogue_file(source, upload)
    except DataOpsError as error:
        show_refusal(error)
        return
    status, on_step = live_progress(f"Previewing the load of {name}…")
    try:
        preview = data_operations.preview_catalogue_load(
            engine(), path, acting_user_id=acting_user_id(), source_name=name, options=options, on_step=on_step
        )
    except DataOpsError as error:
        status.update(label="Not previewed", state="error")
        show_refusal(error)
        return
    finally:
        if source == "upload":
            path.unlink(missing_ok=True)
    status.update(label="Previewed: nothing was changed", state="complete")
    st.session_state[PREVIEW_KEY] = {"preview": preview, "source": source, "name": name, "options": options}


def show_preview(state: dict) -> None:
    preview = state["preview"]
    st.subheader("Preview")
    show_lines(preview.lines)
    if preview.rejections:
        with st.expander(f"{len(preview.rejections):,} rows would be rejected"):
            show_lines([f"rejected {r}" for r in preview.rejections])
    if preview.why_not:
        st.warning(preview.why_not)
    else:
        st.button(
            "Apply this load", key=APPLY_KEY, type="primary", help="Loads the file previewed above, as previewed."
        )


def apply_etl(state: dict, upload) -> None:
    preview, name = state["preview"], state["name"]
    try:
        path, name = catalogue_file(state["source"], upload)
    except DataOpsError as error:
        show_refusal(error)
        return
    status, on_step = live_progress(f"Loading the catalogue from {name}…")
    try:
        result = data_operations.run_catalogue_etl(
            engine(),
            path,
            acting_user_id=acting_user_id(),
            source_name=name,
            options=state["options"],
            expected_sha256=preview.sha256,
            on_step=on_step,
        )
    except Refusal as error:
        status.update(label="Catalogue not loaded", state="error")
        show_refusal(error)
        return
    finally:
        if state["source"] == "upload":
            path.unlink(missing_ok=True)
    status.update(label="Catalogue loaded", state="complete")
    st.success(result.lines[0])
    show_lines(result.lines)
    if result.rejections:
        st.warning(f"{len(result.rejections):,} rows were rejected (the rest loaded):")
        show_lines([f"rejected {r}" for r in result.rejections])


def run_seed(subscribers: int, months: int, seed: int, reset: bool) -> None:
    status, on_step = live_progress(f"Seeding {subscribers:,} subscribers over {months} months…")
    try:
        result = data_operations.run_seeder(
            engine(),
            acting_user_id=acting_user_id(),
            subscribers=subscribers,
            months=months,
            seed=seed,
            reset=reset,
            on_progress=on_step,
        )
    except DataOpsError as error:
        status.update(label="Not seeded", state="error")
        show_refusal(error)
        return
    status.update(label="Seeded", state="complete")
    st.success(result.lines[0])
    show_lines(result.lines)


etl_tab, seed_tab, history_tab, export_tab = st.tabs(["Catalogue ETL", "Seeder", "History of runs", "Exports"])
with etl_tab:
    with st.form("etl"):
        source = st.radio(
            "Catalogue CSV",
            ("configured", "upload"),
            horizontal=True,
            format_func={
                "configured": "The configured file ($NETFLIX_CSV or data/netflix_titles.csv)",
                "upload": "Upload a CSV",
            }.get,
        )
        upload = st.file_uploader("CSV in the Kaggle netflix_titles.csv format", type=["csv"])
        st.caption("Every load is previewed first; nothing changes until you apply it. Admins only:")
        overwrite = st.checkbox(
            "Overwrite admin edits",
            help="Titles edited or (de)activated in the app take the CSV's values again (--overwrite-edits).",
        )
        mass = st.checkbox(
            "Allow mass deactivation",
            help="Accept a CSV that lacks over half of the active titles (--allow-mass-deactivation).",
        )
        renumbering = st.checkbox(
            "Accept re-numbered ids",
            help="Accept a CSV whose show ids mostly name other titles than now; titles are matched by what they "
            "are, so members' ratings and progress stay with them (--allow-renumbering).",
        )
        submitted = st.form_submit_button("Preview the catalogue load", type="primary")
    if submitted:
        options = data_operations.LoadOptions(
            overwrite_edits=overwrite, allow_mass_deactivation=mass, allow_renumbering=renumbering
        )
        preview_etl(source, upload, options)
    previewed = st.session_state.get(PREVIEW_KEY)
    if previewed and st.session_state.get(APPLY_KEY):
        st.session_state.pop(PREVIEW_KEY)
        apply_etl(previewed, upload)
    elif previewed:
        show_preview(previewed)

with seed_tab:
    with st.form("seed"):
        st.caption(
            "Generates a believable history of subscriptions, billing and viewing for demo accounts. "
            "A second run needs “Replace the seeded data”, which replaces exactly the seeded accounts."
        )
        left, middle, right = st.columns(3)
        subscribers = left.number_input("Subscribers", value=500, step=100)
        months = middle.number_input("Months", value=12, step=1)
        seed = right.number_input("Seed", value=20_240_601, step=1, help="Same seed and options, same data.")
        reset = st.checkbox("Replace the seeded data (--reset)")
        submitted = st.form_submit_button("Run the seeder", type="primary")
    if submitted:
        run_seed(int(subscribers), int(months), int(seed), reset)

with history_tab:
    job = st.selectbox("Job", ("", "catalogue_etl", "seed", "billing"), format_func=lambda j: j or "every job")
    runs = data_exports.run_history(engine(), acting_user_id=acting_user_id(), job=job or None)
    if runs.empty:
        st.info("No runs yet.")
    else:
        st.dataframe(
            runs,
            hide_index=True,
            width="stretch",
            column_config={"summary": st.column_config.JsonColumn("summary", width="large")},
        )

with export_tab:
    st.caption(
        f"CSV with a header row, newest first, at most {data_exports.EXPORT_ROW_LIMIT:,} rows per file. "
        "Users are exported without password hashes. Full dumps: see docs/operations.md."
    )
    estimates = data_exports.export_row_counts(engine(), acting_user_id=acting_user_id())
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    app_engine, user_id = engine(), acting_user_id()  # the download runs in another thread, later
    for table in data_exports.EXPORTS:
        st.download_button(
            f"{table} (about {estimates[table]:,} rows)",
            key=f"export_{table}",
            data=lambda table=table: data_exports.export_csv(app_engine, table, acting_user_id=user_id),
            file_name=f"reelhouse-{table}-{stamp}.csv",
            mime="text/csv",
            on_click="ignore",
            icon=":material/download:",
        )

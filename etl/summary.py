"""What a catalogue load did, or would do (a dry run), as the CLI and the Data operations page report it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from etl.cleaning import Rejection
from etl.plan import LoadPlan
from etl.refusals import with_hint

StepCallback = Callable[[str, int, int], None]

CATEGORY_LABELS = {
    "inserted": "inserted",
    "updated": "updated",
    "reidentified": "re-identified",
    "renamed": "renamed",
    "deactivated": "deactivated",
    "rejected": "rejected",
}
CATEGORY_NOTES = {
    "reidentified": "same title, the file gives it another show_id",
    "renamed": "same show_id and title, its name changed",
    "deactivated": "no longer in the file: hidden, members' rows kept",
    "rejected": "rows not loaded; the titles they name stay as they are",
}


@dataclass
class LoadSummary:
    titles: int = 0
    movies: int = 0
    tv_shows: int = 0
    genres: int = 0
    countries: int = 0
    people: int = 0
    episodes: int = 0
    inserted: int = 0
    updated: int = 0
    reidentified: int = 0
    renamed: int = 0
    unchanged: int = 0
    deactivated: int = 0
    rejected: int = 0
    kept_edits: int = 0
    kept_rejected: int = 0
    ids_changing_meaning: int = 0
    shared_ids: int = 0
    file_rows: int = 0
    sha256: str = ""  # the file's, which identifies its release
    date_formats: str = ""
    dry_run: bool = False
    refusal: str | None = None  # a dry run: why a real run would refuse
    refusal_override: str | None = None  # ... and the option that would let it go ahead (etl.refusals.OVERRIDES)
    examples: dict[str, list[str]] = field(default_factory=dict)
    member_rows: dict[str, dict[str, int]] = field(default_factory=dict)  # dry run: per category and kind
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)

    @classmethod
    def of_plan(cls, plan: LoadPlan, date_formats: str, sha256: str) -> LoadSummary:
        return cls(
            sha256=sha256,
            inserted=plan.count("inserted"),
            updated=plan.count("updated"),
            reidentified=plan.count("reidentified"),
            renamed=plan.count("renamed"),
            unchanged=plan.count("unchanged"),
            deactivated=plan.count("deactivated"),
            rejected=len(plan.rejected),
            kept_edits=plan.kept_edits,
            kept_rejected=plan.kept_rejected,
            ids_changing_meaning=plan.meaning_changes,
            shared_ids=plan.shared_ids,
            file_rows=plan.file_rows,
            date_formats=date_formats,
            examples={key: list(values) for key, values in plan.examples.items() if values},
            rejections=plan.rejected,
        )

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("rejections")
        return data


def summary_lines(summary: LoadSummary, csv_path: Path | str) -> list[str]:
    """The summary the CLI prints after a load (the data-operations page shows the same lines)."""
    lines = [
        f"Catalogue loaded from {csv_path} in {summary.seconds:.2f} s",
        f"  titles     {summary.titles:>7,}  ({summary.movies:,} movies, {summary.tv_shows:,} TV shows)",
        f"  genres     {summary.genres:>7,}",
        f"  countries  {summary.countries:>7,}",
        f"  people     {summary.people:>7,}",
        f"  episodes   {summary.episodes:>7,}  (generated)",
        f"  changes    {summary.inserted:,} inserted, {summary.updated:,} updated, "
        f"{summary.reidentified:,} re-identified, {summary.renamed:,} renamed, "
        f"{summary.deactivated:,} deactivated, {summary.rejected:,} rejected",
    ]
    if summary.kept_edits:
        lines.append(f"  kept       {summary.kept_edits:>7,}  admin-edited titles (--overwrite-edits replaces them)")
    if summary.kept_rejected:
        lines.append(f"  kept       {summary.kept_rejected:>7,}  titles whose rows were rejected, as they were")
    return lines


def refusal_line(summary: LoadSummary, *, page: bool = False) -> str:
    """Why a real run would refuse, with how to accept it (a CLI flag, or the page's checkbox for admins)."""
    if not summary.refusal:
        return "A real run would go ahead."
    return f"A real run would be refused: {with_hint(summary.refusal, summary.refusal_override, page=page)}."


def preview_lines(summary: LoadSummary, csv_path: Path | str, *, page: bool = False) -> list[str]:
    """A dry run's report: what each kind of change would do, and to how many members' rows."""
    lines = [
        f"Dry run of {csv_path} ({summary.file_rows:,} rows, in {summary.seconds:.2f} s): nothing was changed",
        f"  date_added formats: {summary.date_formats}",
        "",
        f"  {'change':<15}{'titles':>8}   members' rows: {'ratings':>8} {'progress':>9} {'lists':>7} {'viewing':>9}",
    ]
    for category, label in CATEGORY_LABELS.items():
        count = getattr(summary, category)
        rows = summary.member_rows.get(category)
        touched = (
            f"{'':15}{rows['ratings']:>8,} {rows['progress']:>9,} {rows['lists']:>7,} {rows['viewing']:>9,}"
            if rows and category != "inserted"
            else ""
        )
        lines.append(f"  {label:<15}{count:>8,}   {touched}".rstrip())
    lines.append(f"  {'unchanged':<15}{summary.unchanged:>8,}")
    if summary.kept_edits:
        lines.append(f"  {'kept edits':<15}{summary.kept_edits:>8,}   admin-edited titles stay as the admin left them")
    lines.append("")
    for category, note in CATEGORY_NOTES.items():
        if getattr(summary, category):
            lines.append(f"  {CATEGORY_LABELS[category]}: {note}")
    for key, label in (("reidentified", "re-identified"), ("renamed", "renamed"), ("meaning", "ids changing meaning")):
        for example in summary.examples.get(key, []):
            lines.append(f"    e.g. {label}: {example}")
    if summary.shared_ids:
        share = summary.ids_changing_meaning / summary.shared_ids
        lines.append(
            f"  show_ids naming another title than now: {summary.ids_changing_meaning:,} of {summary.shared_ids:,} "
            f"({share:.0%})"
        )
    lines.append("  " + refusal_line(summary, page=page))
    return lines

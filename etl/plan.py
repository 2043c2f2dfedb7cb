"""What a load would do, decided before anything is written: the same plan is the dry run's report and the
real run's work.

Each valid row is matched to the title it is (etl.identity) and gets one action: insert (a new title), update
(its values changed), rekey (only the source's id for it changed) or nothing. Titles the file no longer has
are deactivated, unless a rejected row names them (a bad row never takes a title away) or an admin edited them.
A title whose show id the file gives to another title keeps a retired id, `<show_id>~<title_id>`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from backend.catalogue.rules import EpisodePlan, episode_plan
from etl.cleaning import CleanCatalogue, CleanTitle, Rejection
from etl.identity import DetailsOf, KnownTitle, match_titles
from etl.refusals import CatalogueRefused, MassDeactivation, Renumbered, TooManyRejected

# Refused above these shares, unless the option that accepts it is given (rejections: never).
MAX_REJECTED_SHARE = 0.5  # of the file's rows
MAX_RENUMBERED_SHARE = 0.1  # of the show ids the file shares with the catalogue
MAX_DEACTIVATION_SHARE = 0.5  # of the active titles the CSV owns
EXAMPLES = 3
LIST_SEPARATOR = "\x1f"  # joins a title's list values in the stage (never part of a cleaned name)

CATEGORIES = ("inserted", "updated", "reidentified", "renamed", "deactivated", "rejected")


@dataclass(slots=True)
class Existing:
    """A title of the catalogue with what the plan needs of it."""

    title_id: int
    show_id: str
    title: str
    identity: str
    episode_seed: str
    source_hash: str | None
    is_active: bool
    origin: str
    edited: bool


@dataclass(slots=True)
class Planned:
    row: CleanTitle
    title_id: int | None  # None: a new title, its id drawn when the load runs
    action: str  # "insert", "update", "rekey" or "none"
    category: str  # "inserted", "updated", "reidentified", "renamed" or "unchanged"
    episode_seed: str
    source_hash: str
    values: tuple  # the staged values (etl.staging.STAGE_COLUMNS after title_id and action); () if not staged


@dataclass
class LoadPlan:
    rows: list[Planned]
    rejected: list[Rejection]
    deactivate: list[int] = field(default_factory=list)
    retire: list[int] = field(default_factory=list)  # titles whose show id is freed first
    kept_edits: int = 0
    kept_rejected: int = 0  # titles left as they were because their rows were rejected
    shared_ids: int = 0  # show ids of the file the catalogue has too
    meaning_changes: int = 0  # ... that now name another title
    active_owned: int = 0  # active titles the CSV may deactivate
    file_rows: int = 0
    titles_by_category: dict[str, list[int]] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def count(self, category: str) -> int:
        if category == "rejected":
            return len(self.rejected)
        if category == "deactivated":
            return len(self.deactivate)
        return sum(1 for p in self.rows if p.category == category)

    def refusal(self, *, allow_renumbering: bool, allow_mass_deactivation: bool) -> CatalogueRefused | None:
        """Why a real run would refuse this plan (the first reason), or None."""
        rejected = len(self.rejected)
        if rejected and (not self.rows or rejected > MAX_REJECTED_SHARE * self.file_rows):
            cause, alike = Counter(r.cause for r in self.rejected).most_common(1)[0]
            first = next(r for r in self.rejected if r.cause == cause)
            where = f"row {first.row_number}" + (f", {first.show_id}" if first.show_id else "")
            more = f"; and {alike - 1:,} more rows like it" if alike > 1 else ""
            return TooManyRejected(f"{rejected:,} of {self.file_rows:,} rows rejected: {first.reason} ({where}{more})")
        if self.meaning_changes > MAX_RENUMBERED_SHARE * self.shared_ids and not allow_renumbering:
            examples = "; ".join(self.examples.get("meaning", []))
            return Renumbered(
                f"{self.meaning_changes:,} of the {self.shared_ids:,} show ids this file shares with the catalogue "
                f"({self.meaning_changes / self.shared_ids:.0%}) name other titles than they do now, e.g. {examples}. "
                "Titles are matched by what they are, so members' ratings, progress, lists and viewing stay with them"
            )
        missing = len(self.deactivate)
        if missing > MAX_DEACTIVATION_SHARE * self.active_owned and not allow_mass_deactivation:
            rows = f"{rejected:,} row{'s were' if rejected != 1 else ' was'}"
            why = f"; {rows} rejected, the first {self.rejected[0]}" if rejected else ""
            return MassDeactivation(
                f"this CSV lacks {missing:,} of the {self.active_owned:,} active titles "
                f"({missing / self.active_owned:.0%}), which would be deactivated{why}"
            )
        return None


def stage_values(row: CleanTitle, plan: EpisodePlan | None) -> tuple:
    join = LIST_SEPARATOR.join
    return (
        row.show_id,
        row.kind,
        row.title,
        row.description,
        row.release_year,
        row.date_added,
        row.maturity_rating,
        row.audience,
        row.duration_minutes,
        row.seasons,
        row.access_level,
        join(row.genres),
        join(row.countries),
        join(row.directors),
        join(row.cast),
        ",".join(map(str, plan.episodes_per_season)) if plan else None,
        plan.minutes if plan else None,
    )


def content_hash(values: tuple) -> str:
    """A fingerprint of everything a load writes for a title except its show id (None and '' differ)."""
    text = "\x1e".join([v if type(v) is str else str(v) for v in values[1:]])
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _planned(row: CleanTitle, title: Existing | None, how: str | None, overwrite: bool) -> Planned:
    seed = title.episode_seed if title else row.show_id
    plan = episode_plan(seed, row.seasons) if row.kind == "tv_show" and row.seasons else None
    values = stage_values(row, plan)
    digest = content_hash(values)
    if title is None:
        return Planned(row, None, "insert", "inserted", seed, digest, values)
    kept = title.edited and not overwrite
    changed = digest != title.source_hash or not title.is_active or (overwrite and title.edited)
    rekeyed = title.show_id != row.show_id
    if changed and not kept:
        action = "update"
    elif rekeyed or title.identity != row.identity:
        action = "rekey"
    else:
        action, values = "none", ()  # nothing to stage
    if rekeyed:
        category = "reidentified"
    elif how == "renamed":
        category = "renamed"
    else:
        category = "updated" if action == "update" else "unchanged"
    return Planned(row, title.title_id, action, category, seed, digest, values)


def _protected(rejected: Iterable[Rejection], free: dict[int, Existing]) -> set[int]:
    """Titles not matched by any valid row that a rejected row names: by what it is when that is readable,
    else by its show id."""
    by_identity: dict[str, int] = {}
    by_show_id: dict[str, int] = {}
    for title in free.values():
        by_identity.setdefault(title.identity, title.title_id)
        by_show_id[title.show_id] = title.title_id
    found = set()
    for rejection in rejected:
        if rejection.identity:
            title_id = by_identity.get(rejection.identity)
        else:
            title_id = by_show_id.get(rejection.show_id or "")
        if title_id:
            found.add(title_id)
    return found


def build_plan(
    catalogue: CleanCatalogue,
    existing: list[Existing],
    details_of: DetailsOf,
    *,
    overwrite_edits: bool = False,
) -> LoadPlan:
    """The plan for loading `catalogue` into a catalogue that holds `existing`."""
    by_show_id = {t.show_id: t for t in existing}
    rows, rejected = [], list(catalogue.rejected)
    for row in catalogue.titles:
        taken = by_show_id.get(row.show_id)
        if taken is not None and taken.origin != "csv":
            reason = f"show_id {row.show_id!r} is the id of a title added in the app"
            rejected.append(Rejection(row.row_number, row.show_id, reason, "show_id", row.identity))
        else:
            rows.append(row)
    rejected.sort(key=lambda r: r.row_number)
    csv_titles = {t.title_id: t for t in existing if t.origin == "csv"}
    known = [KnownTitle(t.title_id, t.show_id, t.identity, t.is_active) for t in csv_titles.values()]
    matches = match_titles(rows, known, details_of)
    planned = []
    for index, row in enumerate(rows):
        match = matches.get(index)
        title = csv_titles[match.title_id] if match else None
        planned.append(_planned(row, title, match.how if match else None, overwrite_edits))
    plan = LoadPlan(planned, rejected, file_rows=catalogue.rows)
    _settle_titles(plan, csv_titles, by_show_id, overwrite_edits)
    return plan


def _settle_titles(plan: LoadPlan, csv_titles: dict[int, Existing], by_show_id: dict[str, Existing], overwrite: bool):
    """Deactivations, retired ids, kept titles, id meaning changes, and examples of each."""
    matched = {p.title_id for p in plan.rows if p.title_id is not None}
    free = {i: t for i, t in csv_titles.items() if i not in matched}
    protected = _protected(plan.rejected, free)
    owned = [t for t in csv_titles.values() if t.is_active and (not t.edited or overwrite)]
    plan.active_owned = len(owned)
    plan.deactivate = sorted(t.title_id for t in owned if t.title_id not in matched and t.title_id not in protected)
    plan.kept_rejected = len(protected)
    if not overwrite:
        plan.kept_edits = sum(1 for p in plan.rows if p.title_id is not None and csv_titles[p.title_id].edited)
    examples: dict[str, list[str]] = {key: [] for key in ("reidentified", "renamed", "meaning")}
    retire = set()
    for p in plan.rows:
        before = by_show_id.get(p.row.show_id)  # what this id names now
        if p.title_id is not None and csv_titles[p.title_id].show_id != p.row.show_id:
            retire.add(p.title_id)
            _example(examples, "reidentified", f"{p.row.title!r} {csv_titles[p.title_id].show_id} -> {p.row.show_id}")
        if p.category == "renamed" and before is not None:
            _example(examples, "renamed", f"{p.row.show_id} {before.title!r} -> {p.row.title!r}")
        if before is None:
            continue
        plan.shared_ids += 1
        if before.title_id != p.title_id:
            plan.meaning_changes += 1
            retire.add(before.title_id)
            _example(examples, "meaning", f"{p.row.show_id} was {before.title!r}, now {p.row.title!r}")
    plan.retire = sorted(retire)
    plan.examples = examples
    by_category: dict[str, list[int]] = {c: [] for c in CATEGORIES}
    for p in plan.rows:
        if p.title_id is not None and p.category in by_category:
            by_category[p.category].append(p.title_id)
    by_category["deactivated"] = list(plan.deactivate)
    by_category["rejected"] = sorted(protected)
    plan.titles_by_category = by_category


def _example(examples: dict[str, list[str]], key: str, text: str) -> None:
    if len(examples[key]) < EXAMPLES:
        examples[key].append(text)

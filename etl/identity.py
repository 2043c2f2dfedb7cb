"""A title's identity is what it is, not the source's `show_id`: its type, normalised title and release year,
with its directors and cast (then its exact title, date added and description) as tie-breakers.

`match_titles` pairs the rows of a file with the titles already in the catalogue, in three passes:

1. Same identity. Where several rows or titles share one, they pair by the tie-breakers; a pair whose people
   are known on both sides and have no one in common is not the same work and does not pair.
2. Same show_id, different title ("renamed"): only with evidence that it is the same work (a director or cast
   member in common, or the same description). Without it, the id now names another title: the row is a new
   title and the old one is left for deactivation, so nothing of a member moves to a different title.
3. Same type and normalised title, release years at most one apart, with the same evidence (a corrected year).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

_NOT_A_WORD = re.compile(r"[\W_]+")


def normalised_title(title: str) -> str:
    """'Pokémon: The Movie & More!' -> 'pokemon the movie and more' (accents, case and punctuation dropped)."""
    if title.isascii():
        folded = title.lower()
    else:
        folded = unicodedata.normalize("NFKD", title)
        folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    words = _NOT_A_WORD.sub(" ", folded.replace("&", " and ")).split()
    return " ".join(words) or " ".join(title.casefold().split())  # a title of symbols only keeps them


def identity_key(kind: str, title: str, release_year: int | None) -> str:
    return f"{kind}|{normalised_title(title)}|{release_year if release_year is not None else ''}"


class TitleRow(Protocol):
    """A cleaned row of the file (etl.cleaning.CleanTitle)."""

    show_id: str
    title: str
    description: str
    release_year: int | None
    date_added: date | None
    directors: list[str]
    cast: list[str]

    @property
    def identity(self) -> str: ...


def _kind(key: str) -> str:
    return key.split("|", 1)[0]


def _kind_and_title(key: str) -> str:
    return key.rsplit("|", 1)[0]


def _year(key: str) -> int | None:
    year = key.rsplit("|", 1)[1]
    return int(year) if year else None


@dataclass(slots=True)
class KnownTitle:
    """A title of the catalogue as the matcher sees it (its identity as the source last described it)."""

    title_id: int
    show_id: str
    identity: str
    is_active: bool


@dataclass(frozen=True)
class Details:
    """What breaks ties between titles of one identity."""

    people: frozenset[str]
    title: str
    date_added: date | None
    description: str


DetailsOf = Callable[[Iterable[int]], dict[int, Details]]


@dataclass(slots=True)
class Match:
    title_id: int
    how: str  # "identity", "renamed" (pass 2) or "corrected" (pass 3)


def row_details(row: TitleRow) -> Details:
    return Details(frozenset(row.directors) | frozenset(row.cast), row.title, row.date_added, row.description)


def _same_work_evidence(row: Details, known: Details) -> bool:
    return bool(row.people & known.people) or bool(row.description and row.description == known.description)


def _contradicted(row: Details, known: Details) -> bool:
    return bool(row.people and known.people and not row.people & known.people)


def _score(row: Details, known: Details, row_show_id: str, title: KnownTitle) -> tuple:
    return (
        len(row.people & known.people),
        row.title == known.title,
        row.date_added == known.date_added,
        row.description == known.description,
        title.is_active,
        row_show_id == title.show_id,
    )


class _Matcher:
    def __init__(self, rows: Sequence[TitleRow], known: Sequence[KnownTitle], details_of: DetailsOf) -> None:
        self.rows, self.known, self.details_of = rows, known, details_of
        self.matches: dict[int, Match] = {}
        self.taken: set[int] = set()
        self._details: dict[int, Details] = {}

    def details(self, title_ids: Iterable[int]) -> dict[int, Details]:
        missing = {i for i in title_ids if i not in self._details}
        if missing:
            self._details.update(self.details_of(missing))
        return self._details

    def pair(self, pairs: list[tuple[tuple, int, KnownTitle]], how: str) -> None:
        """Greedy, best score first (ties: the earlier row, the older title)."""
        for _, index, title in sorted(pairs, key=lambda p: (tuple(-int(x) for x in p[0]), p[1], p[2].title_id)):
            if index not in self.matches and title.title_id not in self.taken:
                self.matches[index] = Match(title.title_id, how)
                self.taken.add(title.title_id)

    def same_identity(self) -> None:
        known_by_key: dict[str, list[KnownTitle]] = defaultdict(list)
        for title in self.known:
            known_by_key[title.identity].append(title)
        rows_by_key: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(self.rows):
            rows_by_key[row.identity].append(index)
        groups = []
        for key, indexes in rows_by_key.items():
            candidates = known_by_key.get(key)
            if not candidates:
                continue
            if len(indexes) == len(candidates) == 1 and self.rows[indexes[0]].show_id == candidates[0].show_id:
                self.matches[indexes[0]] = Match(candidates[0].title_id, "identity")  # the usual re-run
                self.taken.add(candidates[0].title_id)
            else:
                groups.append((indexes, candidates))
        details = self.details(t.title_id for _, candidates in groups for t in candidates)
        for indexes, candidates in groups:
            pairs = []
            for index in indexes:
                mine, show_id = row_details(self.rows[index]), self.rows[index].show_id
                for title in candidates:
                    theirs = details[title.title_id]
                    if not _contradicted(mine, theirs):
                        pairs.append((_score(mine, theirs, show_id, title), index, title))
            self.pair(pairs, "identity")

    def renamed(self) -> None:
        free = {t.show_id: t for t in self.known if t.title_id not in self.taken}
        if not free or len(self.matches) == len(self.rows):
            return
        found = [
            (index, free[row.show_id])
            for index, row in enumerate(self.rows)
            if index not in self.matches
            and row.show_id in free
            and _kind(row.identity) == _kind(free[row.show_id].identity)
        ]
        details = self.details(t.title_id for _, t in found)
        for index, title in found:
            if _same_work_evidence(row_details(self.rows[index]), details[title.title_id]):
                self.matches[index] = Match(title.title_id, "renamed")
                self.taken.add(title.title_id)

    def corrected(self) -> None:
        free: dict[str, list[KnownTitle]] = defaultdict(list)
        for title in self.known:
            if title.title_id not in self.taken:
                free[_kind_and_title(title.identity)].append(title)
        if not free or len(self.matches) == len(self.rows):
            return
        found = []
        for index, row in enumerate(self.rows):
            if index in self.matches:
                continue
            year = row.release_year
            for title in free.get(_kind_and_title(row.identity), ()):
                other = _year(title.identity)
                if year is not None and other is not None and abs(year - other) <= 1:
                    found.append((index, title))
        details = self.details(t.title_id for _, t in found)
        pairs = []
        for index, title in found:
            mine = row_details(self.rows[index])
            if _same_work_evidence(mine, details[title.title_id]):
                pairs.append((_score(mine, details[title.title_id], self.rows[index].show_id, title), index, title))
        self.pair(pairs, "corrected")


def match_titles(rows: Sequence[TitleRow], known: Sequence[KnownTitle], details_of: DetailsOf) -> dict[int, Match]:
    """Row index -> the catalogue title it is; rows without a match are new titles."""
    if not known:
        return {}
    matcher = _Matcher(rows, known, details_of)
    matcher.same_identity()
    matcher.renamed()
    matcher.corrected()
    return matcher.matches

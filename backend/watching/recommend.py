"""Recommendations: content similarity (TF-IDF) blended with co-viewing, each with a reason to show.

- Content: scikit-learn's TfidfVectorizer over each title's description, genres, cast and directors (people
  and genres become single tokens, genres and directors count twice). Fitted once per process and kept
  until the catalogue changes (`catalogue_titles.catalogue_version`).
- Co-viewing: a profiles x titles matrix P of who has watched what (`viewing_progress`); the item-item
  cosine co(x, y) / sqrt(viewers(x) viewers(y)) is "members who watched X also watched Y", counted only when
  at least MIN_COVIEWERS members watched both. Built in memory per process (a few sparse products per
  request) and rebuilt in the background after COVIEW_MAX_AGE seconds; the stale one serves meanwhile.
- Blend: each signal scaled to [0, 1], then CONTENT_WEIGHT * content + (1 - CONTENT_WEIGHT) * co-viewing.
  Candidates exclude what the profile may not see (maturity), has watched or started, or turned down.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import Engine, text

from backend.catalogue import titles as catalogue_titles

CONTENT_WEIGHT = 0.7
COVIEW_MAX_AGE = 900  # seconds
VERSION_CHECK_EVERY = 60  # seconds between catalogue-version checks
MAX_CAST = 8
MIN_COVIEWERS = 2  # members who watched both titles, for a co-viewing signal


@dataclass
class ContentModel:
    """TF-IDF rows (L2-normalised) of the active titles, and what filtering needs."""

    title_ids: np.ndarray
    index: dict[int, int]
    matrix: sparse.csr_matrix
    audience: np.ndarray
    kind: np.ndarray
    genres: dict[str, np.ndarray]  # genre -> row indexes
    names: list[str]


@dataclass
class CoviewModel:
    watched: sparse.csc_matrix  # profiles x titles (the content model's columns), 1 = has watched
    viewers: np.ndarray  # profiles who watched each title
    scale: np.ndarray  # 1 / sqrt(viewers), 0 for unwatched titles
    built_at: float = field(default_factory=time.monotonic)


@dataclass
class Models:
    content: ContentModel
    coview: CoviewModel


_lock = threading.Lock()
_content: dict[str, tuple[tuple, float, ContentModel]] = {}  # url -> (catalogue version, checked at, model)
_coview: dict[str, CoviewModel] = {}
_rebuilding: set[str] = set()


def _token(prefix: str, name: str) -> str:
    return prefix + re.sub(r"\W+", "_", name.lower()).strip("_")


def _document(row) -> str:
    genres = " ".join(_token("genre_", g) for g in row.genres)
    directors = " ".join(_token("person_", p) for p in row.directors)
    cast = " ".join(_token("person_", p) for p in row.cast_names[:MAX_CAST])
    return f"{row.description} {genres} {genres} {directors} {directors} {cast}"


def build_content_model(engine: Engine) -> ContentModel:
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT t.title_id, t.title, t.description, t.audience, t.kind,
                   ARRAY(SELECT g.name FROM title_genres tg JOIN genres g USING (genre_id)
                         WHERE tg.title_id = t.title_id ORDER BY tg.position) AS genres,
                   ARRAY(SELECT p.name FROM title_people tp JOIN people p USING (person_id)
                         WHERE tp.title_id = t.title_id AND tp.role = 'director' ORDER BY tp.position) AS directors,
                   ARRAY(SELECT p.name FROM title_people tp JOIN people p USING (person_id)
                         WHERE tp.title_id = t.title_id AND tp.role = 'cast' ORDER BY tp.position) AS cast_names
            FROM titles t WHERE t.is_active ORDER BY t.title_id""")
        ).all()
    docs = [_document(r) for r in rows] or [""]
    vectorizer = TfidfVectorizer(
        stop_words="english",
        sublinear_tf=True,
        min_df=2 if len(rows) > 50 else 1,
        max_df=0.5 if len(rows) > 50 else 1.0,
        dtype=np.float32,
    )
    try:
        matrix = vectorizer.fit_transform(docs).tocsr()
    except ValueError:  # an empty or tiny catalogue with no usable words
        matrix = sparse.csr_matrix((len(rows), 1), dtype=np.float32)
    genres: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        for genre in row.genres:
            genres.setdefault(genre, []).append(i)
    ids = np.array([r.title_id for r in rows], dtype=np.int64)
    return ContentModel(
        ids,
        {int(t): i for i, t in enumerate(ids)},
        matrix[: len(rows)],
        np.array([r.audience for r in rows], dtype=object),
        np.array([r.kind for r in rows], dtype=object),
        {g: np.array(ix, dtype=np.int64) for g, ix in genres.items()},
        [r.title for r in rows],
    )


def build_coview_model(engine: Engine, content: ContentModel) -> CoviewModel:
    """Who watched what, from viewing_progress (one row per profile and title)."""
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        cursor.execute("SELECT user_id, profile_id, title_id FROM viewing_progress")
        data = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
        cursor.close()
    columns = (
        np.array([content.index.get(int(t), -1) for t in data[:, 2]], dtype=np.int64)
        if len(data)
        else np.zeros(0, np.int64)
    )
    keep = columns >= 0
    profiles = data[keep, :2]
    _, profile_rows = np.unique(profiles, axis=0, return_inverse=True) if len(profiles) else (None, np.zeros(0))
    n_titles = len(content.title_ids)
    watched = sparse.csr_matrix(
        (np.ones(keep.sum(), np.float32), (profile_rows.ravel(), columns[keep])),
        shape=(int(profile_rows.max()) + 1 if len(profile_rows) else 0, n_titles),
    )
    watched.data[:] = 1.0  # duplicates (none expected) still count once
    viewers = np.asarray(watched.sum(axis=0)).ravel()
    scale = np.divide(1.0, np.sqrt(viewers), out=np.zeros_like(viewers), where=viewers > 0)
    return CoviewModel(watched.tocsc(), viewers, scale.astype(np.float32))


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def content_model(engine: Engine) -> ContentModel:
    """The fitted content model for the current catalogue (refitted when the catalogue changes)."""
    url, now = _url(engine), time.monotonic()
    cached = _content.get(url)
    if cached and now - cached[1] < VERSION_CHECK_EVERY:
        return cached[2]
    version = catalogue_titles.catalogue_version(engine)
    with _lock:
        cached = _content.get(url)
        if cached and cached[0] == version:
            _content[url] = (version, now, cached[2])
            return cached[2]
        model = build_content_model(engine)
        _content[url] = (version, now, model)
        _coview.pop(url, None)  # its columns follow the content model's
        return model


def coview_model(engine: Engine, content: ContentModel) -> CoviewModel:
    url = _url(engine)
    model = _coview.get(url)
    if model is None:
        with _lock:
            model = _coview.get(url)
            if model is None:
                model = _coview[url] = build_coview_model(engine, content)
        return model
    if time.monotonic() - model.built_at > COVIEW_MAX_AGE and url not in _rebuilding:
        _rebuilding.add(url)
        threading.Thread(target=_rebuild_coview, args=(engine, content, url), daemon=True).start()
    return model


def _rebuild_coview(engine: Engine, content: ContentModel, url: str) -> None:
    try:
        fresh = build_coview_model(engine, content)
        if _content.get(url, (None, 0, None))[2] is content:
            _coview[url] = fresh
    finally:
        _rebuilding.discard(url)


def models(engine: Engine) -> Models:
    content = content_model(engine)
    return Models(content, coview_model(engine, content))


def forget_models() -> None:
    """Drop the cached models (tests; after bulk changes)."""
    with _lock:
        _content.clear()
        _coview.clear()


# --- scoring ------------------------------------------------------------------------------------


def _rows(content: ContentModel, title_ids) -> np.ndarray:
    return np.array([content.index[t] for t in title_ids if t in content.index], dtype=np.int64)


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = scores.max() if scores.size else 0
    return scores / top if top > 0 else scores


def content_scores(m: Models, seed_rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    if not seed_rows.size:
        return np.zeros(len(m.content.title_ids), np.float32)
    seeds = m.content.matrix[seed_rows]
    if weights is not None:
        seeds = sparse.diags(weights.astype(np.float32)) @ seeds
    return np.asarray(m.content.matrix @ seeds.sum(axis=0).T).ravel()


def coview_scores(m: Models, seed_rows: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    n = len(m.content.title_ids)
    watched = m.coview.watched
    if not seed_rows.size or watched.shape[0] == 0:
        return np.zeros(n, np.float32)
    weights = weights if weights is not None else np.ones(len(seed_rows), np.float32)
    seeds = watched[:, seed_rows]
    cosine = np.asarray(watched.T @ (seeds @ (weights * m.coview.scale[seed_rows]))).ravel() * m.coview.scale
    together = np.asarray(watched.T @ (seeds @ np.ones(len(seed_rows), np.float32))).ravel()
    cosine[together < MIN_COVIEWERS] = 0  # one member watching both is chance, not a signal
    return cosine


def _pick(m: Models, scores: np.ndarray, *, allowed, exclude, limit: int, kind: str | None = None) -> list[int]:
    """The best `limit` title ids by score, among titles the profile may see and has not excluded."""
    mask = scores > 0
    if allowed is not None:
        mask &= np.isin(m.content.audience, list(allowed))
    if kind is not None:
        mask &= m.content.kind == kind
    excluded = _rows(m.content, exclude)
    mask[excluded] = False
    candidates = np.flatnonzero(mask)
    if not candidates.size:
        return []
    best = candidates[np.argsort(-scores[candidates], kind="stable")[:limit]]
    return [int(t) for t in m.content.title_ids[best]]


def blend(m: Models, seed_ids: list[int], weights: list[float] | None = None) -> np.ndarray:
    rows = _rows(m.content, seed_ids)
    w = np.array(weights[: len(rows)], np.float32) if weights else None
    return CONTENT_WEIGHT * _scaled(content_scores(m, rows, w)) + (1 - CONTENT_WEIGHT) * _scaled(
        coview_scores(m, rows, w)
    )


def similar_titles(m: Models, title_id: int, *, allowed=None, exclude=(), limit: int = 12) -> list[int]:
    """Titles like `title_id`: similar content blended with what its viewers also watched."""
    return _pick(m, blend(m, [title_id]), allowed=allowed, exclude={title_id, *exclude}, limit=limit)


def top_picks(m: Models, history: list[int], *, allowed=None, exclude=(), limit: int = 12) -> list[int]:
    """For a profile whose recent titles (most recent first) are `history`: recent ones weigh more."""
    history = history[:20]
    weights = [1.0 / (1 + i / 4) for i in range(len(history))]
    return _pick(m, blend(m, history, weights), allowed=allowed, exclude={*history, *exclude}, limit=limit)


def popular_in_genre(m: Models, genre: str, *, allowed=None, exclude=(), limit: int = 12) -> list[int]:
    """The genre's titles most watched by members (by how many profiles watched them)."""
    rows = m.content.genres.get(genre)
    scores = np.zeros(len(m.content.title_ids), np.float32)
    if rows is not None:
        scores[rows] = m.coview.viewers[rows] + 1e-3  # unwatched ones last, still shown
    return _pick(m, scores, allowed=allowed, exclude=exclude, limit=limit)


def title_name(m: Models, title_id: int) -> str:
    row = m.content.index.get(title_id)
    return m.content.names[row] if row is not None else ""


def popular(m: Models, *, allowed=None, exclude=(), limit: int = 12) -> list[int]:
    """The titles most members have watched."""
    return _pick(m, m.coview.viewers.astype(np.float32), allowed=allowed, exclude=exclude, limit=limit)


def warm(engine: Engine) -> threading.Thread:
    """Fit the models in a background thread (the app calls this once per process, so the first home page
    does not wait for the fit)."""
    thread = threading.Thread(target=models, args=(engine,), name="recommend-warm", daemon=True)
    thread.start()
    return thread

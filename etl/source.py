"""Where the Kaggle catalogue CSV comes from."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from backend.catalogue.rules import CATALOGUE_CSV_NAME, KAGGLE_DATASET, how_to_load_the_catalogue
from backend.core.settings import get_settings

log = logging.getLogger(__name__)


class CatalogueCsvNotFound(FileNotFoundError):
    pass


def how_to_get_the_csv() -> str:
    return how_to_load_the_catalogue()


def find_catalogue_csv(explicit: str | os.PathLike | None = None, *, allow_download: bool = True) -> Path:
    """The argument, then $NETFLIX_CSV, then data/netflix_titles.csv, then a kagglehub download."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise CatalogueCsvNotFound(f"--csv {path}: no such file.")
        return path
    settings = get_settings()
    if settings.netflix_csv:
        path = settings.netflix_csv
        if not path.is_file():
            raise CatalogueCsvNotFound(f"NETFLIX_CSV={path}: no such file.")
        return path
    local = settings.data_dir / CATALOGUE_CSV_NAME
    if local.is_file():
        return local
    if allow_download and not settings.netflix_no_download:
        downloaded = _download_from_kaggle()
        if downloaded:
            return downloaded
    raise CatalogueCsvNotFound(how_to_get_the_csv())


def _download_from_kaggle() -> Path | None:
    try:
        import kagglehub

        folder = Path(kagglehub.dataset_download(KAGGLE_DATASET))
    except Exception as error:  # no internet, no kagglehub, Kaggle refused: fall through to the message
        log.info("kagglehub download failed: %s", error)
        return None
    path = folder / CATALOGUE_CSV_NAME
    return path if path.is_file() else None

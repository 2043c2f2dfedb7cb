"""Where the Kaggle catalogue CSV comes from."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from database import DATA_DIR

KAGGLE_DATASET = "shivamb/netflix-shows"
CSV_NAME = "netflix_titles.csv"
log = logging.getLogger(__name__)


class CatalogueCsvNotFound(FileNotFoundError):
    pass


def how_to_get_the_csv() -> str:
    return (
        f"No catalogue CSV found. Download '{CSV_NAME}' from the Kaggle dataset {KAGGLE_DATASET} "
        f"(https://www.kaggle.com/datasets/{KAGGLE_DATASET}) and either put it at {DATA_DIR / CSV_NAME}, "
        "set NETFLIX_CSV=/path/to/netflix_titles.csv, or pass --csv PATH."
    )


def find_catalogue_csv(explicit: str | os.PathLike | None = None, *, allow_download: bool = True) -> Path:
    """The argument, then $NETFLIX_CSV, then data/netflix_titles.csv, then a kagglehub download."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise CatalogueCsvNotFound(f"--csv {path}: no such file.")
        return path
    from_env = os.environ.get("NETFLIX_CSV")
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise CatalogueCsvNotFound(f"NETFLIX_CSV={path}: no such file.")
        return path
    local = DATA_DIR / CSV_NAME
    if local.is_file():
        return local
    if allow_download and not os.environ.get("NETFLIX_NO_DOWNLOAD"):
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
    path = folder / CSV_NAME
    return path if path.is_file() else None

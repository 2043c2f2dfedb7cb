"""Reading a catalogue file into CSV records, or one clear line on why it cannot be read.

Accepted: UTF-8 with or without a BOM, Unix or Windows line endings, newlines inside quoted fields, and a comma,
semicolon or tab between columns (found from the header). Refused with a `BadFile`/`BadHeader`/`NoValidRows`
before anything is written: an empty file, NUL bytes or other binary content, UTF-16 or another 8-bit
encoding, a ZIP archive or workbook, broken quoting, a header without the catalogue's columns, no rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from etl.refusals import BadFile, BadHeader, NoValidRows

REQUIRED_COLUMNS = (
    "show_id",
    "type",
    "title",
    "director",
    "cast",
    "country",
    "date_added",
    "release_year",
    "rating",
    "duration",
    "listed_in",
    "description",
)
DELIMITERS = (",", ";", "\t")
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive (or an Excel workbook), not a CSV: extract or export netflix_titles.csv first",
    b"\x1f\x8b": "a gzip archive, not a CSV: decompress it first",
    b"%PDF": "a PDF document, not a CSV",
    b"\xff\xfe": "UTF-16 text: save it as UTF-8 CSV",
    b"\xfe\xff": "UTF-16 text: save it as UTF-8 CSV",
}


@dataclass(frozen=True)
class SourceFile:
    text: str
    sha256: str  # what identifies a release of the source file
    size: int


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_source(path: Path) -> SourceFile:
    """The file's text, checked: a BadFile naming what is wrong otherwise."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise BadFile(f"cannot be read: {error.strerror or error}") from None
    for signature, what in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise BadFile(f"is {what}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise BadFile(f"contains a NUL byte (line {_line_of(data, nul):,}): it is binary or damaged, not CSV text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = _line_of(data, error.start)
        raise BadFile(
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line:,}): save it as UTF-8 CSV"
        ) from None
    if not text.strip():
        raise BadFile("is empty")
    return SourceFile(text, hashlib.sha256(data).hexdigest(), len(data))


def _delimiter(first_line: str) -> str:
    """The column separator: the one of DELIMITERS that splits the header into the most known columns."""
    known = set(REQUIRED_COLUMNS)

    def score(delimiter: str) -> int:
        return len(known & {name.strip() for name in first_line.split(delimiter)})

    return max(DELIMITERS, key=score)


class CsvRows:
    """The data rows of a catalogue CSV as (row number, fields); row 1 is the first row after the header.

    `positions` are where the REQUIRED_COLUMNS are in each row (the file may order them as it likes and have
    more), `width` how many fields a row has. Blank lines are skipped; broken quoting is a BadFile and a file
    without rows NoValidRows, both raised while iterating."""

    def __init__(self, reader, positions: tuple[int, ...], width: int) -> None:
        self._reader, self.positions, self.width = reader, positions, width

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for fields in self._reader:
                if fields:
                    number += 1
                    yield number, fields
        except csv.Error as error:
            raise _unreadable(self._reader, error) from None
        if number == 0:
            raise NoValidRows("has a header but no title rows")


def _unreadable(reader, error: csv.Error) -> BadFile:
    return BadFile(f"is not a readable CSV (line {reader.line_num:,}: {error}; an unclosed quote?)")


def read_records(text: str) -> CsvRows:
    """The file's rows, once its header is checked (a BadHeader naming what is missing otherwise)."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = [name.strip().lstrip("\ufeff") for name in next(reader, [])]
    except csv.Error as error:
        raise _unreadable(reader, error) from None
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if len(missing) == len(REQUIRED_COLUMNS):
        shown = first_line[:80].strip()
        raise BadHeader(f"the first line is not the catalogue's header ({','.join(REQUIRED_COLUMNS)}): {shown!r}")
    if missing:
        raise BadHeader(f"the CSV header lacks column(s) {', '.join(missing)}; expected {', '.join(REQUIRED_COLUMNS)}")
    return CsvRows(reader, tuple(header.index(column) for column in REQUIRED_COLUMNS), len(header))

"""Why a catalogue load was refused: one line that names the real cause, with nothing changed.

Every refusal is a `backend.core.errors.Refusal` (its message is written for the analyst). A refusal that an
option can override names that option by its key in `OVERRIDES`; the CLI and the Data operations page each
say how to give it (a flag, a checkbox only admins may tick).
"""

from __future__ import annotations

from backend.core.errors import Refusal

# Option key -> (CLI flag, label on the Data operations page).
OVERRIDES = {
    "allow_renumbering": ("--allow-renumbering", "Accept re-numbered ids"),
    "allow_mass_deactivation": ("--allow-mass-deactivation", "Allow mass deactivation"),
    "overwrite_edits": ("--overwrite-edits", "Overwrite admin edits"),
}


class CatalogueRefused(Refusal):
    """The file cannot be loaded as it is; the catalogue was left as it was."""

    code = "catalogue_refused"
    override: str | None = None  # the option that would let the load go ahead, if any


class BadFile(CatalogueRefused):
    """Not a readable UTF-8 CSV: empty, binary, NUL bytes, another encoding, an archive, broken quoting."""

    code = "catalogue_bad_file"


class BadHeader(CatalogueRefused):
    code = "catalogue_bad_header"


class NoValidRows(CatalogueRefused):
    code = "catalogue_no_rows"


class TooManyRejected(CatalogueRefused):
    """Most rows were rejected: the file is not in a form this loader reads (the reason is named)."""

    code = "catalogue_rejected"


class FileChanged(CatalogueRefused):
    """The file is not the one that was previewed."""

    kind = "conflict"
    code = "catalogue_file_changed"


class Renumbered(CatalogueRefused):
    """Many show_ids would name other titles than they do now (the source re-numbered its ids)."""

    kind = "conflict"
    code = "catalogue_renumbered"
    override = "allow_renumbering"


class MassDeactivation(CatalogueRefused):
    kind = "conflict"
    code = "catalogue_mass_deactivation"
    override = "allow_mass_deactivation"


def with_hint(message: str, override: str | None, *, page: bool = False) -> str:
    """`message` and how to accept what it refuses: the CLI's flag, or the page's checkbox (admins only)."""
    if override is None:
        return message
    flag, label = OVERRIDES[override]
    return message + (
        f"; if that is intended, an admin can tick “{label}”"
        if page
        else f"; if that is intended, run again with {flag}"
    )


def cli_message(error: CatalogueRefused) -> str:
    """The refusal as the CLI prints it: with the flag that overrides it, when one does."""
    return with_hint(str(error), error.override)

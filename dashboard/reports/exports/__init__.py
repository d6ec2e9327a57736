"""Exports of one session: csv, feed, actions, pdf, fhir, hl7. The review page and `app.py export` share this.

    export_session(store, config, session_id, "pdf") -> Export(filename, media_type, content)

The feed is dashboard/reports/exports/feed_file.py's (the devices' side wrote it first); the rest is here.
File names carry the session id only, never the patient label; a test session's also its mark
(session-12-REPLAY-report.pdf), as every export's content does.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .selection import DEFAULT_EVERY_S

HL7_VERSIONS = ("2.5", "2.6")  # the HL7 v2 versions the export writes (MSH-12) and follows; the last is the default

if TYPE_CHECKING:
    from ...engine import Config
    from ...store import Store
    from ..record import SessionNotFound, SessionRecord


@dataclass(frozen=True, slots=True)
class Export:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    suffix: str  # file name ending
    media_type: str
    what: str  # for --help and the page


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("csv", "readings.csv", "text/csv", "every reading, event and alarm transition"),
    Format("feed", "feed.csv", "text/csv", "the feed CSV of docs/feed-format.md (readings and session events)"),
    Format("actions", "actions.csv", "text/csv", "people's actions for `check --actions` (acknowledge, ...)"),
    Format("pdf", "report.pdf", "application/pdf", "the session report: chart, alarms, log, REMS, sign-off"),
    Format("fhir", "fhir.json", "application/fhir+json", "FHIR R4 Bundle: Encounter, vital-signs Observations, "
           "MedicationAdministration, the REMS form as a QuestionnaireResponse"),
    Format("hl7", "oru.hl7", "x-application/hl7-v2+er7", "HL7 v2.6 (or --hl7-version 2.5) ORU^R01 message"),
    Format("rems", "rems-form.pdf", "application/pdf", "the REMS Patient Monitoring Form alone, one page to fax "
           "(esketamine)"),
)}


def _feed(store: Store, session_id: int) -> bytes:
    from .feed_file import ExportError, export_feed

    buffer = io.StringIO()
    try:
        export_feed(store, session_id, buffer)
    except ExportError as exc:
        from ..record import SessionNotFound

        raise SessionNotFound(str(exc)) from None
    return buffer.getvalue().encode("utf-8")


def _content(fmt: str, record: SessionRecord, config: Config, every_s: float, hl7_version: str) -> bytes:
    # Imported here: the PDF pulls in the chart code (plotly, the ui package); the others need none of it.
    if fmt == "csv":
        from .csv_file import session_csv
        return session_csv(record)
    if fmt == "actions":
        from .actions_file import session_actions
        return session_actions(record)
    if fmt == "pdf":
        from .pdf_report import session_pdf
        return session_pdf(record, config)
    if fmt == "fhir":
        from .fhir_bundle import session_fhir
        return session_fhir(record, config, every_s)
    if fmt == "rems":
        from .form_pdf import form_pdf
        return form_pdf(record, config)
    if fmt == "hl7":
        from .hl7_message import session_hl7
        return session_hl7(record, every_s, version=hl7_version)
    raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")


def export_session(store: Store, config: Config, session_id: int, fmt: str,
                   every_s: float = DEFAULT_EVERY_S, hl7_version: str = HL7_VERSIONS[-1]) -> Export:
    """The session in format `fmt`. Raises SessionNotFound, or ValueError for an unknown format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
    from ...store.test_data import mark
    from ..record import load_record

    spec = FORMATS[fmt]
    if fmt == "feed":
        content = _feed(store, session_id)
        row = store.session(session_id)
    else:
        record = load_record(store, session_id)
        content, row = _content(fmt, record, config, every_s, hl7_version), record.row
    return Export(file_name(session_id, mark(row) if row is not None else "", spec), spec.media_type, content)


def file_name(session_id: int, test_mark: str, spec: Format) -> str:
    """session-12-report.pdf; a test session's says so before anyone opens it: session-12-REPLAY-report.pdf."""
    return f"session-{session_id}-{test_mark + '-' if test_mark else ''}{spec.suffix}"


__all__ = ["Export", "FORMATS", "Format", "SessionNotFound", "export_session"]


def __getattr__(name: str) -> Any:
    """SessionNotFound loads with the record on first use: FORMATS alone (the command line's --help) needs no
    database library."""
    if name == "SessionNotFound":
        from ..record import SessionNotFound

        return SessionNotFound
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

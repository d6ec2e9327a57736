"""The session report as a PDF (fpdf2): details, chart, alarm table, REMS summary, log and sign-off.

Text is real text in an embedded Unicode font (DejaVu Sans when the system has it,
else the PDF core Helvetica with the few characters Latin-1 lacks replaced), so
the report is searchable and copyable. Each page carries the session and the
patient label, as a printed clinical record should.
"""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ...engine import Config
from ...store.test_data import mark
from ..charts import review as review_chart
from ..course import course_session
from ..format import PHASE_LABELS, PRIORITY_LABELS, alarm_label, clock, clock_and_session, session_clock, zone_note
from ..record import SessionRecord, log_entries
from ..rems import MEDICINES, MEDICINES_QUESTION
from .chart_image import ChartImage, chart_png

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/local/share/fonts"))
_LATIN1_SWAPS = {"–": "-", "—": "-", "·": "|", "×": "x", "✔": "+", "✘": "-", "→": "->", "…": "..."}


class ReportPDF(FPDF):
    def __init__(self, record: SessionRecord) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.record = record
        self.face = _unicode_font(self)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(14, 16, 14)
        self.set_title(f"Session {record.id} report")
        self.set_creator("session monitor")

    def header(self) -> None:
        self.set_font(self.face, "", 8)
        self.set_text_color(90)
        test = f"TEST DATA ({mark(self.record.row)}): no real patient · " if mark(self.record.row) else ""
        self.cell(0, 5, self.safe(f"{test}Session {self.record.id} · {self.record.row.patient_label} · "
                                  f"{self.record.row.chair}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.face, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self.safe(f"Printed {_local(time.time())} · page {self.page_no()} of {{nb}}"), align="R")
        self.set_text_color(0)

    def safe(self, value: str) -> str:
        """Text the chosen font can draw."""
        if self.face != "Helvetica":
            return value
        for char, swap in _LATIN1_SWAPS.items():
            value = value.replace(char, swap)
        return value.encode("latin-1", "replace").decode("latin-1")

    def heading(self, title: str) -> None:
        self.ln(3)
        self.set_font(self.face, "B", 12)
        self.cell(0, 7, self.safe(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.face, "", 9)

    def paragraph(self, body: str) -> None:
        self.set_font(self.face, "", 9)
        self.multi_cell(0, 5, self.safe(body), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, head: Sequence[str] | None, rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        self.set_font(self.face, "", 8)
        with self.table(col_widths=tuple(widths), text_align="LEFT", first_row_as_headings=head is not None,
                        line_height=4.2, padding=0.8) as table:
            for values in ([head] if head else []) + list(rows):
                row = table.row()
                for value in values:
                    row.cell(self.safe(value))


def _unicode_font(pdf: FPDF) -> str:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu"
    return "Helvetica"


def session_pdf(record: SessionRecord, config: Config, chart: ChartImage | None = None) -> bytes:
    """The report; `chart` is rendered here when not given (tests pass their own to skip the browser)."""
    pdf = ReportPDF(record)
    pdf.add_page()
    pdf.set_font(pdf.face, "B", 15)
    protocol = record.status.get("protocol_label") or record.row.protocol
    pdf.cell(0, 9, pdf.safe(f"Session {record.id}: {protocol}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.grid(None, details(record, config), (55, 127))
    _chart(pdf, record, chart)
    _alarms(pdf, record)
    _rems(pdf, record, config)
    _log(pdf, record)
    _signoff(pdf, record)
    return bytes(pdf.output())


def details(record: SessionRecord, config: Config) -> list[tuple[str, str]]:
    row, status = record.row, record.status
    course = course_session(1, row, record.bp_readings, record.transitions, config)
    peak = status.get("peak")
    return [
        ("Patient", row.patient_label), ("Chair", row.chair),
        ("Protocol", status.get("protocol_label") or row.protocol), ("Dose", row.dose or "–"),
        ("Started", _local(record.wall_time(0.0))),
        ("Ended", _local(record.ended_wall) if record.ended_wall is not None else "still open"),
        ("Phase", PHASE_LABELS.get(row.phase, row.phase)),
        ("Baseline BP", _bp(status.get("baseline"))),
        ("Peak BP", f"{_bp(peak)} at {clock_and_session(record.wall_time(peak['offset_s']), peak['offset_s'])}" if peak else "–"),
        ("Largest rise over baseline", f"+{course.rise[0]:.0f}/+{course.rise[1]:.0f} mmHg" if course.rise else "–"),
        ("Ready for discharge", f"{course.ready_minutes:.0f} min after the dose" if course.ready_minutes is not None
         else "not reached"),
        ("Sign-off", _signed(record)),
    ]


def _chart(pdf: ReportPDF, record: SessionRecord, chart: ChartImage | None) -> None:
    pdf.heading("Chart")
    if chart is None:
        fig = review_chart.figure(record.row, record.bp_readings, review_chart.continuous_from(record.readings),
                                  record.transitions, record.events, record.episodes, record.end_s, for_print=True)
        chart = chart_png(fig)
    if chart.png is None:
        pdf.paragraph(f"No chart: {chart.problem}. The readings are in the log below and in the CSV export.")
        return
    pdf.image(io.BytesIO(chart.png), w=pdf.epw, alt_text=f"Chart of session {record.id}: BP, HR, SpO2")


def _alarms(pdf: ReportPDF, record: SessionRecord) -> None:
    pdf.heading("Alarms")
    if not record.episodes:
        pdf.paragraph("No alarm was raised.")
        return
    rows = []
    for ep in record.episodes:
        acks = "; ".join(f"{who} at {_clock(record, at)}" for who, at in ep.acks) or "–"
        took = ep.time_to_acknowledge
        rows.append((f"{alarm_label(ep.code)} ({ep.code}{' ' + ep.source if ep.source else ''})",
                     PRIORITY_LABELS.get(ep.priority, ep.priority),
                     f"{_clock(record, ep.raised_at)} ({session_clock(ep.raised_at)})", ep.value, acks,
                     "–" if took is None else f"{took:.0f} s",
                     "–" if ep.cleared_at is None else _clock(record, ep.cleared_at), ep.notes()))
    pdf.paragraph(_zone_note(record))
    pdf.grid(("Alarm", "Priority", "Raised (session)", "Value", "Acknowledged", "To ack.", "Cleared", "Notes"), rows,
             (40, 15, 19, 16, 32, 12, 15, 33))


def _rems(pdf: ReportPDF, record: SessionRecord, config: Config) -> None:
    """The REMS Patient Monitoring Form, section by section in the form's order, to copy or attach."""
    form = record.rems(config)
    if form is None:
        return
    pdf.heading("SPRAVATO REMS Patient Monitoring Form")
    pdf.paragraph("Filled from the session record, in the form's order. The patient's name, birth date and sex, "
                  "the provider's telephone and e-mail and the setting's address are the nurse's to add.")
    for section, rows in form.sections():
        pdf.set_font(pdf.face, "B", 9)
        pdf.cell(0, 6, pdf.safe(section), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if section == MEDICINES:
            pdf.paragraph(MEDICINES_QUESTION)
        pdf.grid(None, rows, (120, 62))


def _log(pdf: ReportPDF, record: SessionRecord) -> None:
    pdf.heading("Session log")
    continuous = [r for r in record.readings if r["sbp"] is None]
    hr = [r["hr"] for r in continuous if r["hr"] is not None]
    spo2 = [r["spo2"] for r in continuous if r["spo2"] is not None]
    summary = f"Continuous readings: {len(continuous):,}"
    if hr:
        summary += f" · HR {min(hr):.0f}–{max(hr):.0f}/min"
    if spo2:
        summary += f" · SpO2 {min(spo2):.0f}–{max(spo2):.0f} %"
    pdf.paragraph(summary)
    pdf.paragraph(_zone_note(record))
    rows = [(_clock(record, t), session_clock(t), kind, text, who) for t, kind, text, who in
            log_entries(record.bp_readings, record.transitions, record.events)]
    pdf.grid(("Time", "Session", "What", "Detail", "Who"), rows, (15, 14, 34, 99, 20))


def _signoff(pdf: ReportPDF, record: SessionRecord) -> None:
    pdf.heading("Sign-off")
    pdf.paragraph(_signed(record) + (f"\nComment: {record.signoff.comment}" if record.signoff and
                                     record.signoff.comment else ""))


def _signed(record: SessionRecord) -> str:
    s = record.signoff
    return "Not signed off." if s is None else f"Signed off by {s.clinician} on {_local(s.signed_at)}."


def _clock(record: SessionRecord, offset_s: float) -> str:
    """A session time as the clock read then (to the second), by the session's own clock."""
    return clock(record.wall_time(offset_s), seconds=True)


def _zone_note(record: SessionRecord) -> str:
    return zone_note(record.wall_time(0.0))


def _bp(bp: dict[str, Any] | None) -> str:
    return "–" if not bp else f"{bp['sbp']:.0f}/{bp['dbp']:.0f} mmHg"


def _local(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(epoch))

"""The session report as a PDF (fpdf2): details, chart (pdf_chart.py: drawn, no browser), alarm table, REMS
summary, log and sign-off.

Text is real text in an embedded Unicode font (DejaVu Sans when the system has it,
else the PDF core Helvetica with the few characters Latin-1 lacks replaced), so
the report is searchable and copyable. Each page carries the session and the
patient label, as a printed clinical record should.
"""
from __future__ import annotations

import math
import time
from typing import Any, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ...engine import Config
from ...store.test_data import kind, mark
from ..charts.marks import limit_lines
from ..charts.review_data import continuous_from, review_data
from ..course import course_session
from ..format import PHASE_LABELS, PRIORITY_LABELS, alarm_label, clock, clock_and_session, session_clock, zone_note
from ..predose import checklist_entries
from ..record import SessionRecord, log_entries
from ..rems import MEDICINES, dose_given
from .pdf_chart import draw_chart
from .pdf_fonts import drawable, unicode_font

CHART_HEIGHT_MM = 112
TEST_COLOUR = (107, 63, 160)  # the screens' test-data colour (ui/assets/style.css --test: #6b3fa0)
WATERMARK_OPACITY, WATERMARK_MAX_PT = 0.18, 54


class ReportPDF(FPDF):
    def __init__(self, record: SessionRecord) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.record = record
        self.face = unicode_font(self)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(14, 16, 14)
        self.set_title(f"Session {record.id} report")
        self.set_creator("session monitor")

    def header(self) -> None:
        if self.test_words:  # a banner as plain as the screen's, before anything else on every page
            self.set_font(self.face, "B", 11)
            self.set_fill_color(*TEST_COLOUR)
            self.set_text_color(255)
            self.cell(0, 7, self.safe(self.test_words), align="C", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(1)
        self.set_font(self.face, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self.safe(f"Session {self.record.id} · {self.record.row.patient_label} · "
                                  f"{self.record.row.chair}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        if self.test_words:
            self._watermark()
        self.set_y(-12)
        self.set_font(self.face, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self.safe(f"Printed {_local(time.time())} · page {self.page_no()} of {{nb}}"), align="R")
        self.set_text_color(0)

    @property
    def test_words(self) -> str:
        """"TEST DATA - REPLAY, NOT A PATIENT" for a test session's report; empty for a real patient's."""
        test = mark(self.record.row)
        return f"TEST DATA - {test}, NOT A PATIENT" if test else ""

    def _watermark(self) -> None:
        """The test words across the page's diagonal, translucent and over everything (the chart's fills too):
        a page torn from the report still says it."""
        self.set_font(self.face, "B", 10)
        size = min(WATERMARK_MAX_PT, 10 * 0.8 * math.hypot(self.w, self.h) / self.get_string_width(self.test_words))
        self.set_font(self.face, "B", size)
        width = self.get_string_width(self.test_words)
        angle = math.degrees(math.atan2(self.h, self.w))
        x, y = self.w / 2, self.h / 2
        with self.local_context(fill_opacity=WATERMARK_OPACITY, text_color=TEST_COLOUR), self.rotation(angle, x, y):
            self.text(x - width / 2, y + size * 0.35 / 2.835, self.safe(self.test_words))

    def safe(self, value: str) -> str:
        """Text the chosen font can draw."""
        return drawable(self.face, value)

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


def session_pdf(record: SessionRecord, config: Config) -> bytes:
    """The report, chart included: drawn by fpdf2 itself, no browser."""
    pdf = ReportPDF(record)
    pdf.add_page()
    pdf.set_font(pdf.face, "B", 15)
    protocol = record.status.get("protocol_label") or record.row.protocol
    pdf.cell(0, 9, pdf.safe(f"Session {record.id}: {protocol}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.grid(None, details(record, config), (55, 127))
    _chart(pdf, record, config)
    _alarms(pdf, record)
    _checklist(pdf, record, config)
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
        ("Protocol", status.get("protocol_label") or row.protocol), ("Dose", dose_given(row, record.events) or "–"),
        *_times(record),
        ("Phase", PHASE_LABELS.get(row.phase, row.phase)),
        ("Baseline BP", _bp(status.get("baseline"))),
        ("Peak BP", f"{_bp(peak)} at {_when(record, peak['offset_s'])}" if peak else "–"),
        ("Largest rise over baseline", f"+{course.rise[0]:.0f}/+{course.rise[1]:.0f} mmHg" if course.rise else "–"),
        ("Ready for discharge", f"{course.ready_minutes:.0f} min after the dose" if course.ready_minutes is not None
         else "not reached"),
        ("Sign-off", _signed(record)),
    ]


def _times(record: SessionRecord) -> list[tuple[str, str]]:
    """Started and Ended. A replay's own times: when it was replayed, and how long its feed runs (its record's
    clock, the replay's start plus feed seconds, would end after the report was printed)."""
    row = record.row
    if kind(row) != "replay":
        return [("Started", _local(record.wall_time(0.0))),
                ("Ended", _local(record.ended_wall) if record.ended_wall is not None else "still open")]
    speed = f" at {row.speed:g}x" if row.speed and row.speed != 1 else ""
    return [("Started", f"{_local(row.started_at)} (replay of a feed{speed})"),
            ("Ended", f"{session_clock(record.end_s)} into the feed; the replay ended {_local(row.ended_at)}"
             if row.ended_at is not None else "still open")]


def _chart(pdf: ReportPDF, record: SessionRecord, config: Config) -> None:
    """The review page's chart, drawn as vectors (pdf_chart.py) from the same chart data."""
    pdf.heading("Chart")
    if pdf.will_page_break(CHART_HEIGHT_MM):
        pdf.add_page()
    data = review_data(record.row, record.bp_readings, continuous_from(record.readings), record.events,
                       record.episodes, record.end_s, limit_lines(config, record.row.protocol))
    top = pdf.get_y()
    wall = None if kind(record.row) == "replay" else record.wall_time  # a replay: time into its feed
    draw_chart(pdf, data, wall, pdf.l_margin, top, pdf.epw, CHART_HEIGHT_MM, pdf.face, pdf.safe)
    pdf.set_xy(pdf.l_margin, top + CHART_HEIGHT_MM)
    pdf.set_font(pdf.face, "", 9)


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
                     _clock(record, ep.raised_at) + _and_session(record, ep.raised_at), ep.value, acks,
                     "–" if took is None else f"{took:.0f} s",
                     "–" if ep.cleared_at is None else _clock(record, ep.cleared_at), ep.notes()))
    pdf.paragraph(_zone_note(record))
    pdf.grid(("Alarm", "Priority", "Raised (session)", "Value", "Acknowledged", "To ack.", "Cleared", "Notes"), rows,
             (40, 15, 19, 16, 32, 12, 15, 33))


def _checklist(pdf: ReportPDF, record: SessionRecord, config: Config) -> None:
    """The pre-dose checklist: each item, done or overridden (with the reason), by whom and when."""
    entries = checklist_entries(record.row.protocol, record.events, config)
    if not entries:
        return
    pdf.heading("Pre-dose checklist")
    if all(entry.state == "not answered" for entry in entries):
        pdf.paragraph("No answer was recorded before the dose (a replayed feed, or a session dosed before the "
                      "checklist was asked).")
    rows = [(entry.text, entry.answer, entry.who or "–", session_clock(entry.offset_s)) for entry in entries]
    pdf.grid(("Item", "Answer", "Who", "When"), rows, (92, 56, 20, 14))


def _rems(pdf: ReportPDF, record: SessionRecord, config: Config) -> None:
    """The REMS Patient Monitoring Form, section by section in the form's order, to copy or attach."""
    form = record.rems(config)
    if form is None:
        return
    pdf.heading(form.title)
    pdf.paragraph(f"Filled from the session record, in the order and wording of the form's revision "
                  f"{form.revision.date} (the revision this session was filled under). The patient's name, birth "
                  "date and sex, the provider's telephone and e-mail and the setting's address are the nurse's to add.")
    for section, rows in form.sections():
        pdf.set_font(pdf.face, "B", 9)
        pdf.cell(0, 6, pdf.safe(section), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if section == MEDICINES:
            pdf.paragraph(form.medicines_question)
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
    entries = log_entries(record.bp_readings + record.spot_checks, record.transitions, record.events)
    if kind(record.row) == "replay":  # the feed's times only: one time column
        pdf.grid(("Session", "What", "Detail", "Who"), [(session_clock(t), *rest) for t, *rest in entries],
                 (16, 36, 110, 20))
        return
    rows = [(_clock(record, t), session_clock(t), what, text, who) for t, what, text, who in entries]
    pdf.grid(("Time", "Session", "What", "Detail", "Who"), rows, (15, 14, 34, 99, 20))


def _signoff(pdf: ReportPDF, record: SessionRecord) -> None:
    pdf.heading("Sign-off")
    pdf.paragraph(_signed(record) + (f"\nComment: {record.signoff.comment}" if record.signoff and
                                     record.signoff.comment else ""))


def _signed(record: SessionRecord) -> str:
    s = record.signoff
    return "Not signed off." if s is None else f"Signed off by {s.clinician} on {_local(s.signed_at)}."


def _clock(record: SessionRecord, offset_s: float) -> str:
    """A session time as the clock read then (to the second), by the session's own clock; a replay's as its time
    into the feed (the feed's times are not the clock's: a replay at 60x would print times still to come)."""
    return session_clock(offset_s) if kind(record.row) == "replay" else clock(record.wall_time(offset_s), seconds=True)


def _and_session(record: SessionRecord, offset_s: float) -> str:
    return "" if kind(record.row) == "replay" else f" ({session_clock(offset_s)})"


def _when(record: SessionRecord, offset_s: float) -> str:
    if kind(record.row) == "replay":
        return f"{session_clock(offset_s)} into the feed"
    return clock_and_session(record.wall_time(offset_s), offset_s)


def _zone_note(record: SessionRecord) -> str:
    if kind(record.row) == "replay":
        return "A replay: its times are the feed's, from the session start, not the clock's."
    return zone_note(record.wall_time(0.0))


def _bp(bp: dict[str, Any] | None) -> str:
    return "–" if not bp else f"{bp['sbp']:.0f}/{bp['dbp']:.0f} mmHg"


def _local(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(epoch))

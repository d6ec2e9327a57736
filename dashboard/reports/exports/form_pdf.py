"""The REMS Patient Monitoring Form alone, ready to fax or to copy into the REMS portal: one page per form.

Each page holds the form's title with its revision, and its sections in the form's own order
(RemsForm.sections(): the patient's identifier is its first answer); nothing else of the record. The type is
set as large as lets the whole form fit one US Letter page (the REMS is a US programme; its fax takes Letter).
A day's forms are one file, a page each. A test session's form never enters the queue; printed directly, every
page carries a TEST watermark and says it is no real patient's.
"""
from __future__ import annotations

from typing import Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ...engine import Config
from ...store.test_data import mark
from ..record import SessionNotFound, SessionRecord
from ..rems import MEDICINES, RemsForm
from .pdf_fonts import drawable, unicode_font

TITLE = "SPRAVATO REMS Patient Monitoring Form"
SIZES = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0)  # points, largest first: the first that fits one page
MARGIN = 14.0  # mm
QUESTION_SHARE = 0.62  # of the text width: the question column; the answer takes the rest


class NoForm(SessionNotFound):
    """The session has no REMS form (IV ketamine): nothing to print."""


class FormPDF(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.face = unicode_font(self)
        self.set_auto_page_break(auto=True, margin=MARGIN)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_title(TITLE)
        self.set_creator("session monitor")
        self.test_mark = ""  # REPLAY or SIMULATED for the page being drawn: its watermark

    def header(self) -> None:
        if not self.test_mark:
            return
        self.set_font(self.face, "B", 110)
        self.set_text_color(225)
        with self.rotation(55, x=self.w / 2, y=self.h / 2):
            self.text(self.w / 2 - self.get_string_width("TEST") / 2, self.h / 2 + 15, "TEST")
        self.set_font(self.face, "B", 9)
        self.set_text_color(150, 0, 0)
        self.cell(0, 5, self.safe(f"TEST DATA ({self.test_mark}): no real patient. Never send this form to the REMS."),
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)

    def safe(self, value: str) -> str:
        return drawable(self.face, value)

    def discard(self) -> None:
        """Close the font files of a trial never written out (writing it out is what closes them)."""
        for font in self.fonts.values():
            getattr(font, "close", lambda: None)()


def rems_form_of(record: SessionRecord, config: Config) -> RemsForm:
    form = record.rems(config)
    if form is None:
        raise NoForm(f"session {record.id} is {record.row.protocol}: only esketamine sessions have a REMS form")
    return form


def form_pdf(record: SessionRecord, config: Config) -> bytes:
    """One session's form on one page; NoForm for an IV session."""
    return forms_pdf([record], config)


def forms_pdf(records: Sequence[SessionRecord], config: Config) -> bytes:
    """The forms of `records`, a page each, in the order given."""
    if not records:
        raise ValueError("no form to print")
    pdf = FormPDF()
    for record in records:
        form, test = rems_form_of(record, config), mark(record.row)
        draw_page(pdf, form, test, fitting_size(form, test))
    return bytes(pdf.output())


def fitting_size(form: RemsForm, test: str = "") -> float:
    """The largest type size (SIZES) at which the form fits one page."""
    for size in SIZES:
        trial = FormPDF()
        draw_page(trial, form, test, size)
        fits = trial.pages_count == 1
        trial.discard()
        if fits:
            return size
    return SIZES[-1]


def draw_page(pdf: FormPDF, form: RemsForm, test: str, size: float) -> None:
    pdf.test_mark = test
    pdf.add_page()
    line = size * 0.45  # mm per line: 1.27 x the type size
    pdf.set_font(pdf.face, "B", size + 5)
    pdf.cell(0, line * 1.8, pdf.safe(form.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # with its revision
    width = pdf.w - 2 * MARGIN
    for section, rows in form.sections():
        pdf.ln(line * 0.5)
        pdf.set_font(pdf.face, "B", size + 1)
        pdf.multi_cell(0, line * 1.1, pdf.safe(section), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(pdf.face, "", size)
        if section == MEDICINES:
            pdf.multi_cell(0, line, pdf.safe(form.medicines_question), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        with pdf.table(col_widths=(width * QUESTION_SHARE, width * (1 - QUESTION_SHARE)), text_align="LEFT",
                       first_row_as_headings=False, line_height=line, padding=0.7) as table:
            for question, answer in rows:
                cells = table.row()
                cells.cell(pdf.safe(question))
                cells.cell(pdf.safe(answer))
    pdf.test_mark = ""  # a later page of another form is drawn with its own

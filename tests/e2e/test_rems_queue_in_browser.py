"""The REMS forms to send, on a clinician's review page, in a real browser against the real server: the board (the
clinician's home) says how many are overdue or due today and links there; the overdue form first, then the one due today, then the rest; a wrong entry refused in the page's notice; a submission
recorded (as the signed-in clinician, audited) moves the form to the sent; the form's one-page PDF downloads."""
from __future__ import annotations

import time
from pathlib import Path

from pypdf import PdfReader

from dashboard.auth.audit import AuditFilter, audit_log
from dashboard.store import Store

from tests.waits import wait_until
from ..reports.form_sessions import esketamine_session
from .browser import click, login, text_of, type_into, wait_for_text

DAY = 86400.0


def _forms(db: Path) -> dict[str, int]:
    """Dosed whole days before now; the server runs in UTC, so the days left do not depend on the hour."""
    store = Store.open(db)
    now = time.time()
    ids = {"later": esketamine_session(store, now - 2 * DAY, chair="Chair 1"),
           "today": esketamine_session(store, now - 7 * DAY, chair="Chair 2"),
           "overdue": esketamine_session(store, now - 10 * DAY, chair="Chair 3"),
           "simulated": esketamine_session(store, now - 9 * DAY, chair="Chair 4", scenario="demo", seed=1)}
    store.close()
    return ids


def _row_ids(dash_br) -> list[int]:
    return [int(row.get_attribute("id").rsplit("-", 1)[1]) for row in dash_br.find_elements(".rq-forms tbody tr")]


def test_the_overdue_form_comes_first_and_a_submission_is_recorded(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    ids = _forms(db)
    server = start_server("serve", "--no-simulator", "--database", str(db), env={"TZ": "UTC"})
    login(dash_br, server.url, "clinician", then="/")  # the clinician's home: the board says what is due
    wait_for_text(dash_br, ".rq-reminder", "REMS forms to send: 1 overdue, 1 due today")
    click(dash_br, ".rq-reminder a")
    wait_for_text(dash_br, "#rq-summary", "3 to send: 1 overdue, 1 due today")
    assert _row_ids(dash_br) == [ids["overdue"], ids["today"], ids["later"]]  # never the simulated session
    overdue = f"#rq-row-{ids['overdue']}"
    assert text_of(dash_br, f"{overdue} .rq-days") == "overdue 3 days"
    assert "overdue" in dash_br.find_element(f"{overdue} .rq-days").get_attribute("class")
    assert text_of(dash_br, f"#rq-row-{ids['today']} .rq-days") == "due today"
    assert dash_br.find_element(f"{overdue} a").get_attribute("href").endswith(f"/review/{ids['overdue']}")

    # A submission without its confirmation is refused in the error notice; what was chosen stays.
    click(dash_br, f"{overdue} .rq-channel input[value='fax']")
    click(dash_br, f"{overdue} .rq-record button")
    wait_for_text(dash_br, "#rq-message .notice.error", "Enter the confirmation the REMS gave")
    assert dash_br.find_element(f"{overdue} .rq-channel input[value='fax']").is_selected()

    type_into(dash_br, f"{overdue} input[placeholder='confirmation']", "FAX-0042")
    click(dash_br, f"{overdue} .rq-record button")
    wait_for_text(dash_br, "#rq-message .notice.ok", f"Session {ids['overdue']}: form recorded as sent "
                                                     "(fax, confirmation FAX-0042)")
    wait_for_text(dash_br, "#rq-summary", "2 to send: 0 overdue, 1 due today")
    assert _row_ids(dash_br) == [ids["today"], ids["later"], ids["overdue"]]  # the sent after the rest
    assert "by clinician1: fax, confirmation FAX-0042" in text_of(dash_br, f"{overdue} .rq-sent")
    store = Store.open(db)
    try:
        (row,) = audit_log(store, where=AuditFilter(action="rems_submitted"))
    finally:
        store.close()
    assert (row["who"], row["role"], row["session_id"], row["detail"]) == (
        "clinician1", "clinician", ids["overdue"], "fax, confirmation FAX-0042")

    # The form due today, alone on one page, as a download.
    folder = Path(dash_br.download_path)
    click(dash_br, f"#rq-row-{ids['today']} button.act")
    name = f"session-{ids['today']}-rems-form.pdf"
    pdf = wait_until(lambda: next(folder.glob(name), None), "the form's PDF download")
    wait_until(lambda: not list(folder.glob("*.crdownload")) and pdf.stat().st_size > 1000, "the whole PDF")
    (page,) = PdfReader(pdf).pages
    assert "SPRAVATO REMS Patient Monitoring Form" in page.extract_text()

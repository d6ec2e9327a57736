"""`python app.py rems ...` end to end: a real SQLite file, the real command in a subprocess. The list (most
urgent first, test and IV sessions never in it), a submission recorded and audited as the command line, the
refusals with exit 2, the one-page form and a day's forms read back with pypdf."""
from __future__ import annotations

import datetime as dt
import io
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from dashboard.auth.audit import AuditFilter, audit_log
from dashboard.store import Store

from ..reports.form_sessions import esketamine_session, iv_session
from .test_cli import app

DAY = 86400.0


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """Sessions dosed whole days before now, so the days left (in UTC: no daylight saving) do not depend on the
    hour the test runs at."""
    db = tmp_path / "clinic.db"
    store = Store.open(db)
    now = time.time()
    ids = {"overdue": esketamine_session(store, now - 10 * DAY, chair="Chair 1"),
           "draft": esketamine_session(store, now - 2 * DAY, chair="Chair 2", complete=False),
           "iv": iv_session(store, now - DAY),
           "simulated": esketamine_session(store, now - 3 * DAY, chair="Chair 4", scenario="demo", seed=2)}
    store.close()
    return db, ids


def rems(db: Path, *args: str):
    return app("rems", *args, "--database", str(db), "--time-zone", "UTC")


def test_list_record_a_submission_and_the_refusals(clinic, tmp_path: Path):
    db, ids = clinic
    listed = rems(db, "list")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0].split()[:3] == ["Session", "Chair", "Treated"]
    assert [int(r.split()[0]) for r in rows[1:]] == [ids["overdue"], ids["draft"]]  # no IV, no test session
    assert rows[1].split()[-4:] == ["complete", "overdue", "3", "days"] and rows[2].split()[-4:] == [
        "draft", "5", "days", "left"]

    done = rems(db, "submitted", str(ids["overdue"]), "--channel", "portal", "--confirmation", "PMF-20261207-9",
                "--by", "RN Lee")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (f"Session {ids['overdue']}: form recorded as sent by RN Lee "
                                   "(portal, confirmation PMF-20261207-9)")
    store = Store.open(db)
    try:
        (row,) = audit_log(store, where=AuditFilter(action="rems_submitted"))
    finally:
        store.close()
    assert (row["who"], row["session_id"], row["detail"]) == (
        "command line", ids["overdue"], "portal, confirmation PMF-20261207-9, sent by RN Lee")

    refusals = {
        ids["overdue"]: "already recorded as submitted by RN Lee",
        ids["iv"]: "iv-ketamine: only esketamine sessions",
        ids["simulated"]: "test data (SIMULATED)",
        ids["draft"]: "a draft: 1 answer is not in the record (Lot Number)",
        999: "There is no session 999",
    }
    for sid, why in refusals.items():
        refused = rems(db, "submitted", str(sid), "--channel", "fax", "--confirmation", "F-1")
        assert refused.returncode == 2 and why in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    bad = rems(db, "submitted", str(ids["draft"]), "--channel", "email", "--confirmation", "F-1")
    assert bad.returncode == 2 and "invalid choice: 'email'" in bad.stderr

    due = rems(db, "list", "--due")
    assert [int(r.split()[0]) for r in due.stdout.splitlines()[1:]] == [ids["draft"]]
    hand = rems(db, "submitted", str(ids["draft"]), "--channel", "fax", "--confirmation", "F-2", "--hand-filled",
                "--by", "RN Lee")
    assert hand.returncode == 0 and "added by hand" in hand.stdout
    assert rems(db, "list", "--due").stdout.splitlines()[1:] == ["(no form to send)"]


def test_the_form_and_a_days_forms_as_pdf(clinic, tmp_path: Path):
    db, ids = clinic
    form = tmp_path / "form.pdf"
    done = rems(db, "form", str(ids["overdue"]), "--out", str(form))
    assert done.returncode == 0 and "ResourceWarning" not in done.stderr, done.stderr  # font files closed
    (page,) = PdfReader(io.BytesIO(form.read_bytes())).pages
    assert "SPRAVATO REMS Patient Monitoring Form" in page.extract_text() and "MRN-0042" in page.extract_text()
    test_form = tmp_path / "test.pdf"
    assert rems(db, "form", str(ids["simulated"]), "--out", str(test_form)).returncode == 0
    assert "TEST DATA (SIMULATED)" in PdfReader(io.BytesIO(test_form.read_bytes())).pages[0].extract_text()
    iv = rems(db, "form", str(ids["iv"]), "--out", str(tmp_path / "iv.pdf"))
    assert iv.returncode == 2 and "only esketamine sessions have a REMS form" in iv.stderr

    treated = dt.datetime.fromtimestamp(time.time() - 10 * DAY, dt.timezone.utc).date()
    day = tmp_path / "day.pdf"
    assert rems(db, "day", treated.isoformat(), "--out", str(day)).returncode == 0
    assert len(PdfReader(io.BytesIO(day.read_bytes())).pages) == 1
    empty = rems(db, "day", "2020-01-01", "--out", str(tmp_path / "none.pdf"))
    assert empty.returncode == 2 and "no esketamine session of site main was treated on 2020-01-01" in empty.stderr
    assert not (tmp_path / "none.pdf").exists()
    exported = app("export", str(ids["overdue"]), "--format", "rems", "--out", str(tmp_path / "x.pdf"),
                   "--database", str(db))
    assert exported.returncode == 0 and len(PdfReader(tmp_path / "x.pdf").pages) == 1
    store = Store.open(db)
    try:
        reads = audit_log(store, where=AuditFilter(action="export"))
    finally:
        store.close()
    assert {r["session_id"] for r in reads} == {ids["overdue"], ids["simulated"]} and all(
        r["who"] == "command line" for r in reads)

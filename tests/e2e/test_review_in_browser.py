"""A clinician's review in the browser: filter the sessions, open one, zoom in, export, sign off."""
from __future__ import annotations

import time
from pathlib import Path

from pypdf import PdfReader
from selenium.webdriver.common.keys import Keys

from dashboard.store import Store

from tests.waits import wait_until
from ..review_sessions import SAMPLES, recorded_session
from .browser import click, follow, idle, login, script_until, type_into


def _sessions(db: Path) -> dict[str, int]:  # and the severe session's start
    store = Store.open(db)
    now = float(int(time.time()))
    ids = {"quiet": recorded_session(store, feed=SAMPLES / "feeds" / "iv-quiet.csv", actions=None, patient="P-11",
                                     chair="Chair 1", started=now - 5 * 86400),
           "other": recorded_session(store, patient="P-22", chair="Chair 2", started=now - 4 * 86400),
           "severe": recorded_session(store, patient="P-11", chair="Chair 3", started=now - 2 * 86400)}
    store.close()
    return {**ids, "severe_start": int(now - 2 * 86400)}


def _table_links(dash_br) -> list[str]:
    return [a.get_attribute("href").rsplit("/", 1)[1] for a in
            dash_br.find_elements(".sessions-table a[href^='/review/']")]


def test_filter_open_zoom_export_and_sign_off(dash_br, start_server, tmp_path):
    db = tmp_path / "clinic.db"
    ids = _sessions(db)
    server = start_server("serve", "--no-simulator", "--database", str(db))
    login(dash_br, server.url, "clinician", then="/review")
    dash_br.wait_for_contains_text("#rv-count", "3 sessions")

    # Filter: the patient's sessions that had alarms. The URL keeps no filter (no part of a label in it).
    type_into(dash_br, "#rv-patient", "p-11" + Keys.ENTER)
    dash_br.wait_for_contains_text("#rv-count", "2 sessions")
    click(dash_br, "#rv-alarms input[value='yes']")
    dash_br.wait_for_contains_text("#rv-count", "1 sessions")
    assert _table_links(dash_br) == [str(ids["severe"])]
    assert "p-11" not in dash_br.driver.current_url.lower()

    # Open it: the chart with every NIBP reading, its alarms and the log.
    follow(dash_br, f".sessions-table a[href='/review/{ids['severe']}']", f"/review/{ids['severe']}")
    dash_br.wait_for_element("#review-chart .js-plotly-plot")
    # Times are the clock's (the server's zone is this process's): the acknowledgement 42:30 into the session.
    start = ids["severe_start"]
    dash_br.wait_for_contains_text("#review-alarms", f"RN-AB at {time.strftime('%H:%M:%S', time.localtime(start + 2550))}")
    graph = "document.querySelector('#review-chart .js-plotly-plot')"
    assert dash_br.driver.execute_script(f"return {graph}._fullLayout.xaxis.type") == "date"
    # the minute from 30:00 into the session, on the chart's clock axis: local time in ms, and as plotly names it
    lo = (start + 1800 + time.localtime(start + 1800).tm_gmtoff) * 1000
    minute = f"x => x >= {lo} && x <= {lo + 60_000}"
    coarse = dash_br.driver.execute_script(f"return {graph}.data[3].x.filter({minute}).length")

    # Zoom to one minute: the server sends that minute's every sample. Wait until Dash has no callback in flight
    # first: a relayout made while the graph's first draw settles can be swallowed by that draw.
    idle(dash_br)
    bounds = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start + at)) for at in (1800, 1860)]
    zoom = f"Plotly.relayout({graph}, {{'xaxis.range[0]': '{bounds[0]}', 'xaxis.range[1]': '{bounds[1]}'}})"
    in_minute = f"const n = {graph}.data[3].x.filter({minute}).length; return n >= 60 ? n : 0"
    dash_br.driver.execute_script(zoom)
    fine = script_until(dash_br, in_minute, "the zoomed minute's every sample")
    assert fine > coarse

    # Export: the CSV and the PDF report arrive as downloads.
    folder = Path(dash_br.download_path)
    click(dash_br, "#export-csv")
    csv_file = wait_until(lambda: next(folder.glob(f"session-{ids['severe']}-readings.csv"), None), "the CSV download")
    wait_until(lambda: csv_file.stat().st_size > 100_000, "the whole CSV")
    click(dash_br, "#export-pdf")
    pdf_file = wait_until(lambda: next(folder.glob(f"session-{ids['severe']}-report.pdf"), None), "the PDF download")
    wait_until(lambda: not list(folder.glob("*.crdownload")) and pdf_file.stat().st_size > 10_000, "the whole PDF")
    text = "".join(page.extract_text() for page in PdfReader(pdf_file).pages)
    assert "P-11" in text and "190/111" in text and "bp.severe" in text

    # Sign-off by the signed-in clinician; then the record reads as read-only, also after a reload.
    type_into(dash_br, "#signoff-comment", "reviewed")
    click(dash_br, "#signoff-button")
    dash_br.wait_for_contains_text("#review-signoff", "Signed off by clinician1")
    dash_br.driver.refresh()
    dash_br.wait_for_contains_text("#review-signoff", "read-only")
    assert not dash_br.find_elements("#signoff-button")

"""Every alarm in the record: a high BP taken before the session opened, adopted by the new session, leaves its alarms
in the alarm history at their own times (with when the reading came), as the board showed them; the session's
exported feed gives `check` the same alarms. Through a real Ingest into a real store (SQLite and PostgreSQL)."""
from __future__ import annotations

from dashboard.cli.check import run_check
from dashboard.engine import load_config
from dashboard.reports.exports.feed_file import export_feed
from dashboard.service.ingest import Ingest
from devices.readings import Reading

from .test_ingest import START, Clock, store  # noqa: F401  (the store fixture, on SQLite and PostgreSQL)
from .test_placement import settle

BP_CODES = ("bp.predose_high", "bp.severe")


def test_a_pre_session_bp_adopted_by_a_new_session_leaves_its_alarms_in_the_history(store, tmp_path):
    taken = START - 10 * 60  # the nurse took the BP ten minutes before she opened the session
    clock = Clock(taken)
    ingest = Ingest(store, load_config(), clock)
    ingest.submit("Chair 5", [Reading("nibp", sbp=192, dbp=121, hr=88, received_time=taken, device_id="NIBP-5")])
    settle(ingest, clock)  # no session yet: kept for the chair

    clock.t = START + 5
    sid = store.create_session(chair="Chair 5", patient_label="P-5", protocol="esketamine-84", started_at=START)
    store.submit_action(sid, "session_start", "nurse1", detail="esketamine-84", at=START)
    settle(ingest, clock)

    status = store.session(sid).status
    shown = {alarm["code"] for alarm in status["alarms"]} & set(BP_CODES)
    assert shown == set(BP_CODES)  # what the board shows...
    stored = [a for a in store.alarms_of(sid) if a["code"] in BP_CODES]
    raised = [a for a in stored if a["state"] == "raised"]
    assert sorted(a["code"] for a in raised) == sorted(BP_CODES)  # ...is in the record
    for alarm in raised:
        assert alarm["offset_s"] == -600.0  # at the reading's own session time, before the start
        assert alarm["received_at"] == taken and alarm["stored_at"] >= START  # when it came; stored once it opened
        assert "192" in alarm["value"] + alarm["message"]

    settle(ingest, clock)  # folding on, and a rebuild after a restart, write none of them twice
    Ingest(store, load_config(), clock).step()
    assert [a["id"] for a in store.alarms_of(sid) if a["code"] in BP_CODES] == [a["id"] for a in stored]

    feed = tmp_path / "session.csv"
    export_feed(store, sid, feed)
    checked = [(t.offset_s, t.code, t.state) for t in run_check(feed).transitions if t.code in BP_CODES]
    assert checked == [(a["offset_s"], a["code"], a["state"]) for a in stored]  # check on the feed: the same

"""The sessions list filters, sorts and pages in SQL: checked against the same rows filtered in Python,
on 10,000 generated sessions (bench/bench_review.py times it)."""
from __future__ import annotations

import pytest

from dashboard.store import Store
from dashboard.store.review_queries import (SessionFilter, bp_readings_of, continuous_between, course_of,
                                            filter_choices, list_sessions)
from dashboard.store.signoff import sign_off

from ..review_sessions import many_sessions, recorded_session

N = 10_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    store = Store.open(tmp_path_factory.mktemp("big") / "clinic.db")
    rows = many_sessions(store, N)
    yield store, rows
    store.close()


def _expected(rows, keep, key, descending=True, page=0, size=50):
    chosen = [r for r in rows if keep(r)]
    chosen.sort(key=lambda r: (key(r), r["id"]), reverse=descending)
    return [r["id"] for r in chosen[page * size:(page + 1) * size]], len(chosen)


def test_the_default_page_is_the_newest_fifty_of_all(big):
    store, rows = big
    page = list_sessions(store, SessionFilter())
    assert page.total == N and page.pages == N // 50
    assert [r.id for r in page.rows] == _expected(rows, lambda r: True, lambda r: r["started_at"])[0]
    assert page.rows[0].peak_sbp == rows[-1]["status"]["peak"]["sbp"]


@pytest.mark.parametrize("f, keep", [
    (SessionFilter(chair="Chair 7"), lambda r: r["chair"] == "Chair 7"),
    (SessionFilter(protocol="esketamine-56"), lambda r: r["protocol"] == "esketamine-56"),
    (SessionFilter(patient="p-0004"), lambda r: "p-0004" in r["patient_label"].lower()),
    (SessionFilter(had_alarms=True), lambda r: r["alarms"] > 0),
    (SessionFilter(had_alarms=False), lambda r: r["alarms"] == 0),
    (SessionFilter(state="open"), lambda r: r["ended_at"] is None),
    (SessionFilter(state="finished", had_alarms=True, protocol="iv-ketamine"),
     lambda r: r["ended_at"] is not None and r["alarms"] > 0 and r["protocol"] == "iv-ketamine"),
    (SessionFilter(started_from=1.7e9 + 3600 * 100, started_before=1.7e9 + 3600 * 400),
     lambda r: 1.7e9 + 3600 * 100 <= r["started_at"] < 1.7e9 + 3600 * 400),
])
def test_each_filter_matches_python(big, f, keep):
    store, rows = big
    page = list_sessions(store, f)
    ids, total = _expected(rows, keep, lambda r: r["started_at"])
    assert page.total == total and [r.id for r in page.rows] == ids


@pytest.mark.parametrize("sort, key", [
    ("peak", lambda r: r["status"]["peak"]["sbp"]), ("alarms", lambda r: r["alarms"]),
    ("chair", lambda r: r["chair"]), ("patient", lambda r: r["patient_label"]), ("id", lambda r: r["id"]),
])
@pytest.mark.parametrize("descending", [True, False])
def test_sorting_and_paging_match_python(big, sort, key, descending):
    store, rows = big
    for page_no in (0, 7, N // 50 - 1):
        page = list_sessions(store, SessionFilter(sort=sort, descending=descending, page=page_no))
        assert [r.id for r in page.rows] == _expected(rows, lambda r: True, key, descending, page_no)[0]


def test_alarm_counts_and_a_page_past_the_end(big):
    store, rows = big
    page = list_sessions(store, SessionFilter(sort="alarms", page_size=25))
    assert [r.alarms for r in page.rows] == [rows[r.id - 1]["alarms"] for r in page.rows] and page.rows[0].alarms == 6
    assert list_sessions(store, SessionFilter(page=10_000)).rows == ()


def test_a_patient_filter_escapes_like_wildcards(big):
    store, _ = big
    assert list_sessions(store, SessionFilter(patient="%")).total == 0
    assert list_sessions(store, SessionFilter(patient="_")).total == 0


def test_choices_and_signed_flag(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = recorded_session(store)
    other = store.create_session(chair="Chair 9", patient_label="Demo 03", protocol="iv-ketamine", started_at=1.0)
    sign_off(store, sid, "dr-who", "fine")
    rows = {r.id: r for r in list_sessions(store, SessionFilter()).rows}
    assert rows[sid].signed and not rows[other].signed
    assert rows[sid].alarms == 4 and rows[sid].peak_sbp == 190
    assert filter_choices(store) == {"site": ["main"], "chair": ["Chair 3", "Chair 9"],
                                     "protocol": ["esketamine-84", "iv-ketamine"]}
    assert [r.id for r in course_of(store, sid)] == [other, sid]  # oldest first, by the label of either
    assert course_of(store, 999) == []
    bps = bp_readings_of(store, [sid, other])
    assert other not in bps and all(r["sbp"] is not None for r in bps[sid])
    window = continuous_between(store, sid, 600, 660)
    assert window.offset_s.min() >= 600 and window.offset_s.max() <= 660 and len(window.hr) >= 60

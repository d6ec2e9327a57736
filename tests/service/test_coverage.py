"""Which chairs no live, sounding screen covers (dashboard/service/coverage.py), over a real store: screens live,
sounding, silent and gone; the viewer's scope (role, site, test data, a demo); the grace before it is an alarm; and
the screens' rows as the shell writes them (dashboard/store/screens.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.auth.roles import ROLES
from dashboard.engine import load_config
from dashboard.service.coverage import CoverageSettings, Uncovered, hears, on_clinical_board, uncovered
from dashboard.store import Batch, Store
from dashboard.store.screens import FORGET_AFTER_S, report, screens_of, sounding_by_role, valid_id
from dashboard.store.test_data import kind
from dashboard.ui.scope import board_for, on_board

NOW = 1_800_000_000.0
SETTINGS = CoverageSettings.from_config(load_config())
LIVE, AFTER = SETTINGS.live_within_s, SETTINGS.uncovered_after_s
SCREEN = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def store(tmp_path: Path):
    opened = Store.open(tmp_path / "clinic.db")
    yield opened
    opened.close()


def _session(store: Store, chair: str, started: float = NOW - 3600, **kind: object) -> int:
    return store.create_session(chair=chair, patient_label="P-1", protocol="esketamine-84", started_at=started, **kind)


def _screen(store: Store, at: float, audio: str = "running", role: str = "nurse", screen: str = SCREEN) -> None:
    report(store, screen, f"{role}1", role, "/", audio, at)


def test_the_defaults_come_from_the_settings_with_their_sources():
    config = load_config()
    assert SETTINGS == CoverageSettings(config.value("screen.live_within"), config.value("screen.uncovered_after"))
    assert all(config.settings[f"screen.{key}"].source for key in ("stale_after", "live_within", "uncovered_after"))


def test_a_live_sounding_screen_covers_the_chairs_and_nothing_is_listed(store: Store):
    _session(store, "Chair 1")
    _session(store, "Chair 2")
    _screen(store, NOW - LIVE + 1)
    assert uncovered(store, NOW) == []


def test_no_screen_at_all_lists_every_chair_since_its_session_started(store: Store):
    first = _session(store, "Chair 1", started=NOW - 3600)
    second = _session(store, "Chair 2", started=NOW - 600)
    assert uncovered(store, NOW) == [Uncovered("Chair 1", first, NOW - 3600), Uncovered("Chair 2", second, NOW - 600)]


def test_a_new_session_gets_its_grace_before_it_is_listed(store: Store):
    sid = _session(store, "Chair 1", started=NOW)
    assert uncovered(store, NOW + AFTER - 1) == []
    assert uncovered(store, NOW + AFTER) == [Uncovered("Chair 1", sid, NOW)]


def test_a_screen_whose_sound_went_off_leaves_the_chairs_uncovered_from_its_last_sound(store: Store):
    sid = _session(store, "Chair 1")
    _screen(store, NOW - 100)  # sounding then
    _screen(store, NOW - 50, audio="suspended")  # live, but it cannot sound (a reload, the system suspended it)
    _screen(store, NOW - 2, audio="suspended")
    assert uncovered(store, NOW) == [Uncovered("Chair 1", sid, NOW - 100)]


def test_a_sounding_screen_that_stopped_reporting_is_gone_after_the_live_window_and_listed_after_the_grace(
        store: Store):
    sid = _session(store, "Chair 1")
    _screen(store, NOW)
    assert uncovered(store, NOW + LIVE) == []  # still live
    assert uncovered(store, NOW + AFTER - 1) == []  # gone, but inside the grace
    assert uncovered(store, NOW + AFTER) == [Uncovered("Chair 1", sid, NOW)]


def test_one_sounding_screen_among_silent_ones_is_enough(store: Store):
    _session(store, "Chair 1")
    _screen(store, NOW - 1, audio="none", screen="a" * 32)
    _screen(store, NOW - 1, audio="suspended", role="clinician", screen="b" * 32)
    _screen(store, NOW - 1, screen="c" * 32)
    assert uncovered(store, NOW) == []


@pytest.mark.parametrize("role", ["tester", "admin"])
def test_a_tester_or_an_admin_screen_never_covers_a_real_patient(store: Store, role: str):
    sid = _session(store, "Chair 1")
    _screen(store, NOW - 1, role=role)
    assert uncovered(store, NOW) == [Uncovered("Chair 1", sid, NOW - 3600)]


def test_a_screen_of_another_site_covers_nothing_here(tmp_path: Path):
    here, there = Store.open(tmp_path / "clinic.db"), Store.open(tmp_path / "clinic.db", site="north")
    try:
        sid = _session(here, "Chair 1")
        _screen(there, NOW - 1)
        assert uncovered(there, NOW) == []  # north has no chair in session
        assert uncovered(here, NOW) == [Uncovered("Chair 1", sid, NOW - 3600)]
    finally:
        here.close()
        there.close()


def test_test_data_is_never_listed_and_a_demo_lists_its_simulated_chairs(store: Store):
    _session(store, "Replay 1", clock="feed")
    simulated = _session(store, "Chair S", scenario="calm", seed=1)
    assert uncovered(store, NOW) == []  # no demo: both are the test board's
    store.write_batch(Batch(heartbeat=(store.site, NOW, 0, True)))  # an ingest running the simulated clinic
    assert uncovered(store, NOW) == [Uncovered("Chair S", simulated, NOW - 3600)]
    _screen(store, NOW - 1, role="tester")  # on a demo the tester's board holds the simulated chairs too
    assert uncovered(store, NOW) == []


def test_a_clinics_own_settings_change_the_grace(store: Store):
    sid = _session(store, "Chair 1", started=NOW)
    longer = CoverageSettings(live_within_s=LIVE, uncovered_after_s=AFTER * 4)
    assert uncovered(store, NOW + AFTER, longer) == []
    assert uncovered(store, NOW + AFTER * 4, longer) == [Uncovered("Chair 1", sid, NOW)]


def test_who_hears_a_chair_is_the_shells_rule(store: Store):
    """coverage.hears says what the shell plays (ui/scope.py: the role's board, the sessions the role's board
    watches: those it may open live, a ward display's every session of its site)."""
    from dashboard.auth.records import Viewer, may_watch

    rows = [store.session(_session(store, "Chair 1")), store.session(_session(store, "Replay 1", clock="feed")),
            store.session(_session(store, "Chair S", scenario="calm", seed=1))]
    for demo in (False, True):
        for row in rows:
            for role in ROLES:
                shell = may_watch(Viewer("x", role, store.site), row) and on_board(row, board_for(role), demo)
                assert hears(role, store.site, row, demo) == shell, (role, kind(row), demo)
            assert on_clinical_board(row, demo) == on_board(row, "clinical", demo)


def test_a_screens_row_is_made_updated_and_keeps_when_it_last_sounded(store: Store):
    _screen(store, NOW - 10)
    _screen(store, NOW - 5, audio="suspended")
    [screen] = screens_of(store, 0)
    assert (screen.id, screen.username, screen.role, screen.page) == (SCREEN, "nurse1", "nurse", "/")
    assert (screen.audio, screen.seen_at, screen.sounding_at, screen.sounding) == ("suspended", NOW - 5, NOW - 10, False)
    assert sounding_by_role(store)["nurse"].running_at is None
    assert sounding_by_role(store)["nurse"].sounded_at == NOW - 10


def test_screens_gone_for_a_day_are_dropped_when_a_new_one_reports(store: Store):
    _screen(store, NOW - FORGET_AFTER_S - 1, screen="a" * 32)
    _screen(store, NOW - 60, screen="b" * 32)
    _screen(store, NOW, screen="c" * 32)
    assert sorted(s.id for s in screens_of(store, 0)) == ["b" * 32, "c" * 32]


@pytest.mark.parametrize("value", [None, 7, "", "short", "x" * 41, "../../etc", "a b c d e f g h", "abc'; drop--"])
def test_a_screen_id_that_a_page_could_not_have_made_is_refused(value: object):
    assert not valid_id(value)


def test_a_sounding_ward_display_covers_its_sites_chairs(store: Store):
    """A wall screen signed in as a ward display hears every chair of its site: it covers them."""
    _session(store, "Chair 1")
    _screen(store, NOW - 1, role="display")
    assert uncovered(store, NOW) == []

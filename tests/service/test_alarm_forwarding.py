"""Alarm forwarding (IHE PCD-04) end to end: the real ingest writes the alarm history into a real SQLite store, the
real forwarder thread sends it over a real socket to an alarm manager built on python-hl7's own MLLP server
(devices/emulators/alarm_manager.py), and every message is checked by hl7apy in STRICT mode for HL7 v2.6.

hl7apy 1.3.5 ships no ORU_R40 structure: IHE PCD TF-2 defines PCD-04's ORU_R40 with the segment grammar of
ORU_R01 (MSH, [PID, [PV1]], {OBR, {OBX}}), so the check registers it as that grammar (`_strict`).
"""
from __future__ import annotations

import threading
import time
import tomllib
from pathlib import Path

import hl7
import hl7apy.v2_6.messages as hl7apy_messages
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from dashboard.engine import load_config
from dashboard.service.coverage import CoverageSettings
from dashboard.service.forward import CoverageAlarms, Forwarder, SystemAlarm, step_of
from dashboard.service.forward.forwarder import FORWARDED
from dashboard.service.ingest import Ingest
from dashboard.store import Store, forwarding, screens
from dashboard.ui.shell import forwarding_warning, shell_state
from devices.config import AlarmForwardSettings, parse_device_config
from devices.emulators.alarm_manager import AlarmManager
from devices.errors import DeviceConfigError
from devices.hl7.alarm_link import LinkSettings
from devices.readings import Reading, SessionEvent
from tests.waits import wait_until

CONFIG = load_config()
LINK_BASE = "https://monitor.clinic.example"
CHAIR = "Chair 3"


class Clinic:
    """A real session on the real ingest, its clock held still so no timer (escalation) runs unless asked."""

    def __init__(self, db: Path) -> None:
        self.store = Store.open(db)
        self.started = time.time() - 400
        self.ingest = Ingest(self.store, CONFIG, clock=lambda: self.started + 395)

    def session(self, chair: str = CHAIR, **kind) -> int:
        sid = self.store.create_session(chair=chair, patient_label="P-31", protocol="esketamine-84",
                                        started_at=self.started, patient_identifier="MRN-0042", **kind)
        self.ingest.refresh()
        return sid

    def feed(self, chair: str, *items) -> None:
        self.ingest.submit(chair, list(items))
        self.ingest.step()

    def severe_after_dose(self, chair: str = CHAIR) -> None:
        """Baseline 128/82, the dose, then BP 192/121: bp.severe (high) and bp.rise are raised."""
        self.feed(chair, SessionEvent("session_start", "esketamine-84", offset_s=0),
                  Reading("nibp", sbp=128, dbp=82, hr=70, offset_s=60), SessionEvent("dose_start", "84 mg", offset_s=300),
                  Reading("nibp", sbp=192, dbp=121, hr=88, offset_s=390))

    def acknowledge(self, sid: int, code: str = "bp.severe") -> None:
        self.store.submit_action(sid, "acknowledge", "nurse.kim", detail=code, at=self.started + 392)
        self.ingest.step()

    def normal_bp(self, chair: str = CHAIR) -> None:
        self.feed(chair, Reading("nibp", sbp=130, dbp=84, hr=72, offset_s=394))


@pytest.fixture
def clinic(tmp_path):
    clinic = Clinic(tmp_path / "clinic.db")
    yield clinic
    clinic.store.close()


@pytest.fixture
def manager():
    with AlarmManager() as running:
        yield running


class Running:
    """The forwarder on its own thread, as the main job runs it."""

    def __init__(self, store: Store, port: int) -> None:
        settings = AlarmForwardSettings(link=LinkSettings("127.0.0.1", port, connect_timeout_s=2, ack_timeout_s=5),
                                        link_base=LINK_BASE, retry_initial_s=0.05, retry_max_s=0.2, poll_s=0.05)
        self.forwarder = Forwarder(store, settings)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.forwarder.run, args=(self.stop,), daemon=True)
        self.thread.start()
        wait_until(lambda: forwarding.health(store) is not None, "the forwarder's first start")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()


@pytest.fixture
def forward(clinic, manager):
    running = Running(clinic.store, manager.port)
    yield running
    running.close()


def expected(store: Store) -> list[str]:
    """The control ids the forwarder owes for what the store holds: real sessions' alarm transitions, in order."""
    out = []
    for row in forwarding.after(store, 0, 10_000):
        history = forwarding.key_history(store, row["session_id"], row["code"], row["source"])
        if row["real"] and row["code"] in FORWARDED and step_of(history, row["id"]) is not None:
            out.append(f"R40-{row['id']}")
    return out


def _strict(text: str):
    hl7apy_messages.MESSAGES.setdefault("ORU_R40", hl7apy_messages.MESSAGES["ORU_R01"])
    message = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert message.validate()
    return message


def _obx(text: str) -> dict[str, list[str]]:
    """OBX rows by the facet (last part of OBX-4): their fields, split by python-hl7."""
    parsed = hl7.parse(text)
    return {str(obx(4)).rsplit(".", 1)[1] + ("d" if "150022" in str(obx(4)) else ""): obx
            for obx in parsed.segments("OBX")}


def test_a_severe_bp_goes_out_as_raise_acknowledge_clear_each_valid_pcd04(clinic, manager, forward):
    sid = clinic.session()
    clinic.severe_after_dose()
    wait_until(lambda: any("bp.severe" in m.text for m in manager.messages()), "the severe BP at the manager")
    clinic.acknowledge(sid)
    clinic.normal_bp()
    want = expected(clinic.store)
    got = wait_until(lambda: manager.messages() if len(manager.messages()) >= len(want) else None, "every transition")
    assert [m.control_id for m in got] == want  # in order, once each
    severe = [m.text for m in got if "196652" in m.text and "bp.severe" in m.text]
    assert len(severe) == 3
    alarm_ids = set()
    for text, (phase, state, inactivation) in zip(severe, [("start", "active", "enabled"),
                                                           ("update", "active", "alert-acknowledged"),
                                                           ("end", "inactive", "alert-acknowledged")]):
        message = _strict(text)
        assert message.msh.msh_9.to_er7() == "ORU^R40^ORU_R40" and message.msh.msh_12.to_er7() == "2.6"
        parsed = hl7.parse(text)
        assert str(parsed.segment("PV1")(3)) == CHAIR
        assert "MRN-0042^^^DASH^MR" in str(parsed.segment("PID")(3))
        obr = parsed.segment("OBR")
        assert str(obr(4)) == "196616^MDC_EVT_ALARM^MDC"
        assert str(obr(7)).startswith(time.strftime("%Y%m%d%H%M", time.gmtime(clinic.started + 390)))
        alarm_ids.add(str(obr(3)))
        rows = _obx(text)
        assert str(rows["1"](3)) == "196652^MDC_EVT_HI_VAL_GT_LIM^MDC"
        assert str(rows["1"](8)) == "H~PH~SP"  # above the limit, high priority, physiological
        assert (str(rows["2"](3)), str(rows["2"](5)), str(rows["2"](6))) == (
            "150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "192" if phase != "end" else "130", "266016^MDC_DIM_MMHG^MDC")
        assert str(rows["2d"](5)) == ("121" if phase != "end" else "84")
        assert str(rows["3"](3)) == "68481^MDC_ATTR_EVENT_PHASE^MDC" and str(rows["3"](5)) == phase
        assert str(rows["4"](3)) == "68482^MDC_ATTR_ALARM_STATE^MDC" and str(rows["4"](5)) == state
        assert str(rows["5"](3)) == "68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC" and str(rows["5"](5)) == inactivation
        assert str(rows["6"](5)) == f"{LINK_BASE}/session/{sid}"  # the session id: no patient identifier
    assert len(alarm_ids) == 1  # one alarm, one identifier over its life
    health = forwarding.health(clinic.store)
    assert health.failing_since is None and health.sent == len(want) and health.cursor == int(want[-1][4:])


def test_a_dead_manager_is_a_technical_alarm_and_its_backlog_arrives_once_in_order(clinic, manager, forward):
    sid = clinic.session()
    clinic.severe_after_dose()
    first = wait_until(lambda: manager.messages() if len(manager.messages()) == len(expected(clinic.store)) else None,
                       "the raises delivered")
    manager.stop()
    clinic.acknowledge(sid)
    clinic.normal_bp()
    owed = expected(clinic.store)[len(first):]
    health = wait_until(lambda: (h := forwarding.health(clinic.store)) and h.failing_since and h.waiting == len(owed)
                        and h, "the failure published")
    text = forwarding_warning(health, time.time())
    assert text.startswith("ALARM FORWARDING FAILED since ") and text.endswith(
        f": {len(owed)} alarms waiting; phones and pagers are not being reached.")
    banner, sound = shell_state([], None, forwarding_text=text)
    assert [div.id for div in banner] == ["forwarding-warning"] and sound["priority"] == "medium"
    assert manager.messages() == first  # nothing got through meanwhile
    back = AlarmManager(port=manager.port).start()
    try:
        got = wait_until(lambda: back.messages() if len(back.messages()) >= len(owed) else None, "the backlog")
        wait_until(lambda: forwarding.health(clinic.store).failing_since is None, "the failure cleared")
        assert [m.control_id for m in got] == owed  # once each, in order, after the ones delivered before
        assert forwarding_warning(forwarding.health(clinic.store), time.time()) == ""
    finally:
        back.stop()


def test_a_restarted_forwarder_sends_nothing_twice_and_loses_nothing(clinic, manager):
    sid = clinic.session()
    running = Running(clinic.store, manager.port)
    clinic.severe_after_dose()
    delivered = wait_until(lambda: manager.messages() if len(manager.messages()) == len(expected(clinic.store))
                           else None, "the raises delivered")
    running.close()
    clinic.acknowledge(sid)
    clinic.normal_bp()
    assert manager.messages() == delivered  # stopped: nothing sent
    running = Running(clinic.store, manager.port)
    try:
        want = expected(clinic.store)
        got = wait_until(lambda: manager.messages() if len(manager.messages()) >= len(want) else None, "the rest")
        assert [m.control_id for m in got] == want
    finally:
        running.close()
    assert len(manager.messages()) == len(want)


def test_replays_and_simulated_sessions_are_never_forwarded(clinic, manager, forward):
    clinic.session("Chair R9", clock="feed")
    clinic.session("Chair S1", scenario="severe-peak", seed=1)
    clinic.severe_after_dose("Chair R9")
    clinic.severe_after_dose("Chair S1")
    real = clinic.session(CHAIR)
    clinic.severe_after_dose(CHAIR)
    want = expected(clinic.store)
    got = wait_until(lambda: manager.messages() if len(manager.messages()) >= len(want) else None, "the real ones")
    assert want and [m.control_id for m in got] == want
    assert all(f"/session/{real}" in m.text and "Chair R9" not in m.text and "Chair S1" not in m.text for m in got)
    assert forwarding.health(clinic.store).cursor >= max(int(c[4:]) for c in want)


def test_a_message_the_manager_keeps_refusing_is_skipped_after_max_rejects_and_counted(clinic):
    answers: list[str] = []

    def refuse_the_first(message):
        answers.append("AE" if len(answers) < 3 else "AA")
        return answers[-1]

    with AlarmManager(answer=refuse_the_first) as manager:
        clinic.session()
        running = Running(clinic.store, manager.port)
        try:
            clinic.severe_after_dose()
            want = expected(clinic.store)
            wait_until(lambda: len(manager.messages()) >= len(want) + 2, "three refusals, then the rest")
            ids = [m.control_id for m in manager.messages()]
            assert ids == [want[0]] * 3 + want[1:]
            wait_until(lambda: forwarding.health(clinic.store).rejected == 1, "the refusal counted")
        finally:
            running.close()


def test_a_technical_alarm_outside_the_history_goes_out_with_the_chair_and_link(clinic, manager, forward):
    sid = clinic.session()
    now = time.time()
    forward.forwarder.report_technical(SystemAlarm("coverage|Chair 3", CHAIR, "no sounding screen covers this chair",
                                                   active=True, since=now, at=now, session_id=sid))
    got = wait_until(lambda: manager.messages(), "the technical alarm")
    message = _strict(got[0].text)
    parsed = hl7.parse(got[0].text)
    assert str(parsed.segment("PV1")(3)) == CHAIR and message.msh.msh_10.to_er7().startswith("SYS-")
    rows = _obx(got[0].text)
    assert str(rows["1"](3)) == "258047^MDC_EVT_NOS^MDC" and str(rows["1"](8)) == "PM~ST"
    assert str(rows["3"](5)) == "start" and str(rows["6"](5)) == f"{LINK_BASE}/session/{sid}"



def test_a_chair_no_sounding_screen_covers_is_raised_then_ended_at_the_manager(clinic, manager, forward):
    """The coverage alarm (service/coverage.py) reaches the manager: raised while no live screen with sound on
    covers the chair, ended once a nurse's screen reports sound running; a replay's chair is never sent."""
    sid = clinic.session()
    clinic.session(chair="Chair R2", clock="feed")  # a tester's replay: test data, never forwarded
    watch = CoverageAlarms(clinic.store, forward.forwarder, CoverageSettings(live_within_s=15, uncovered_after_s=0))
    watch.step()
    raised = wait_until(lambda: manager.messages(), "the coverage alarm raised")
    assert [str(hl7.parse(m.text).segment("PV1")(3)) for m in raised] == [CHAIR]
    assert str(_obx(raised[0].text)["3"](5)) == "start" and "Chair 3" in str(_obx(raised[0].text)["1"](5))
    watch.step()  # nothing changed: nothing more is sent
    screens.report(clinic.store, "a" * 32, "nurse.kim", "nurse", "/", "running", time.time())
    watch.step()
    ended = wait_until(lambda: manager.messages()[1:], "the coverage alarm ended")
    assert len(ended) == 1 and str(_obx(ended[0].text)["3"](5)) == "end"
    assert str(_obx(ended[0].text)["6"](5)) == str(_obx(raised[0].text)["6"](5)) == f"{LINK_BASE}/session/{sid}"


@pytest.mark.parametrize("history, row, step", [
    (["raised"], 1, ("start", "active", "enabled")),
    (["raised", "escalated"], 2, ("escalate", "active", "enabled")),
    (["raised", "acknowledged", "realarm"], 3, ("update", "active", "enabled")),
    (["raised", "cleared", "latched"], 2, None),  # one update, sent with the latched row
    (["raised", "cleared", "latched"], 3, ("update", "latched", "enabled")),
    (["raised", "cleared", "latched", "acknowledged"], 4, ("end", "inactive", "alert-acknowledged")),
    (["raised", "cleared", "raised"], 3, ("start", "active", "enabled")),  # a new alarm: a new identifier
])
def test_each_stored_transition_has_its_phase_and_states(history, row, step):
    rows = [{"id": n, "offset_s": float(n), "state": state} for n, state in enumerate(history, start=1)]
    got = step_of(rows, row)
    assert (got and (got.phase, got.state, got.inactivation)) == step
    if history == ["raised", "cleared", "raised"]:
        assert got.alarm_id == 3
    elif got is not None:
        assert got.alarm_id == 1


def test_the_alarm_forward_table_is_checked_like_the_rest_of_the_devices_file():
    good = parse_device_config({"alarm_forward": {"host": "acm.clinic", "port": 2576, "link_base": LINK_BASE + "/"}})
    assert good.alarm_forward.link_base == LINK_BASE and good.alarm_forward.link.port == 2576
    for table, error in [({"port": 2576, "link_base": LINK_BASE}, "alarm_forward.host: missing"),
                         ({"host": "a", "port": 0, "link_base": LINK_BASE}, "alarm_forward.port: must be 1-65535"),
                         ({"host": "a", "port": 1}, "alarm_forward.link_base: missing"),
                         ({"host": "a", "port": 1, "link_base": "monitor"}, "alarm_forward.link_base: must be"),
                         ({"host": "a", "port": 1, "link_base": LINK_BASE, "pagers": 3}, "alarm_forward.pagers: unknown"),
                         ({"host": "a", "port": 1, "link_base": LINK_BASE, "retry_initial_s": 9, "retry_max_s": 1},
                          "alarm_forward.retry_max_s: must be a number >= retry_initial_s (9)")]:
        with pytest.raises(DeviceConfigError, match=error.replace("(", r"\(").replace(")", r"\)")):
            parse_device_config({"alarm_forward": table})


def test_the_main_job_starts_a_forwarder_only_for_a_devices_file_with_alarm_forward(clinic, tmp_path):
    from argparse import Namespace

    from dashboard.cli.runner import start_forwarder

    with_it, without = tmp_path / "with.toml", tmp_path / "without.toml"
    with_it.write_text(f'[alarm_forward]\nhost = "127.0.0.1"\nport = 2576\nlink_base = "{LINK_BASE}"\n')
    without.write_text("[reconnect]\ninitial_s = 1\n")
    args = Namespace(devices=with_it, hl7_port=None, hl7_host=None, via_devices=False)
    forwarder = start_forwarder(args, clinic.store)
    assert isinstance(forwarder, Forwarder) and forwarder.settings.link.port == 2576
    assert forwarding.health(clinic.store) is None  # nothing runs until its thread is started
    forwarding.start_cursor(clinic.store, time.time() - 60)  # as a forwarder that died a minute ago left it
    assert forwarding_warning(forwarding.health(clinic.store), time.time()).startswith("ALARM FORWARDING FAILED")
    assert start_forwarder(Namespace(devices=without, hl7_port=None, hl7_host=None, via_devices=False),
                           clinic.store) is None
    assert forwarding_warning(forwarding.health(clinic.store), time.time()) == ""  # configured no more: no warning


def test_every_screen_s_shell_poll_carries_the_failure_and_sounds_it(clinic, tmp_path):
    """The real app's shell callback, as a signed-in nurse's browser calls it each second."""
    from dashboard.auth import add_user
    from dashboard.ui import create_app
    from tests import webclient

    add_user(clinic.store, "nurse.kim", "nurse", webclient.PASSWORD)
    app = create_app(clinic.store, CONFIG, secret_path=tmp_path / "key")
    client = webclient.sign_in(app, "nurse.kim")
    key, spec = next((k, s) for k, s in webclient.server_callbacks(app).items() if "escalation-banner" in k)

    def poll() -> dict:
        response = webclient.call(client, webclient.body(key, spec, {("shell-poll", "n_intervals"): 1}))
        assert response.status_code == 200
        return response.get_json()["response"]

    forwarding.start_cursor(clinic.store, time.time())
    assert "ALARM FORWARDING" not in str(poll())
    failing = time.time() - 120
    forwarding.publish(clinic.store, failing_since=failing, waiting=4, last_error="refused", running=True,
                       now=time.time())
    shown = poll()
    banner = str(shown["escalation-banner"]["children"])
    assert (f"ALARM FORWARDING FAILED since {time.strftime('%H:%M', time.localtime(failing))}: 4 alarms waiting; "
            "phones and pagers are not being reached.") in banner
    assert shown["alarm-sound"]["data"]["priority"] == "medium"


def test_the_example_devices_file_s_alarm_forward_block_reads_once_uncommented():
    example = (Path(__file__).resolve().parents[2] / "sample_data" / "devices.example.toml").read_text()
    block = example[example.index("# [alarm_forward]"):]
    uncommented = example.replace(block, "\n".join(line.removeprefix("# ") for line in block.splitlines()))
    settings = parse_device_config(tomllib.loads(uncommented)).alarm_forward
    assert settings is not None and settings.link.port == 2576 and settings.link_base.startswith("https://")

"""--via-devices: the simulated clinic through the emulators and the real adapters into ingest."""
from __future__ import annotations

import time

from dashboard.service.clinic import Clinic
from devices.readings import Reading
from devices.registry import NibpRegistry
from devices.emulators.rig import DeviceRig


def test_the_demo_clinic_runs_through_ptys_and_mllp(clinic, stop, wait_for):
    speed = 100.0
    registry = NibpRegistry()
    rig = DeviceRig(clinic.ingest.simulator(), speed, registry, hl7_chairs=("Chair 3", "Chair 4"))  # as the runner
    rig.start(["Chair 1", "Chair 2", "Chair 3", "Chair 4"], stop)
    try:
        demo = Clinic(clinic.store, clinic.ingest, speed=speed, seed=7, devices=rig)
        rows = {row.chair: row.id for row in demo.open()}
        clinic.ingest.refresh()
        demo.start(stop)
        assert registry.chairs() == ["Chair 1", "Chair 2"]

        def via_devices(chair: str, source: str, bp: bool) -> list[Reading]:
            items = clinic.store.session_items(rows[chair])
            # straight from the simulator a reading carries the simulator's device time; through a
            # serial adapter it has none, and through HL7 its source is "monitor nibp" or "monitor spo2"
            return [i for i in items if isinstance(i, Reading) and i.has_bp == bp and i.source == source
                    and (source.startswith("monitor") or i.device_time is None)]

        wait_for(lambda: via_devices("Chair 1", "oximeter", False) and via_devices("Chair 3", "monitor spo2", False))
        wait_for(lambda: via_devices("Chair 2", "nibp", True) and via_devices("Chair 3", "monitor nibp", True))

        def lost(state: str) -> set[tuple[int, str]]:
            return {(a["session_id"], a["source"]) for sid in rows.values() for a in clinic.store.alarms_of(sid)
                    if a["code"] == "device.disconnected" and a["state"] == state}

        # HL7's alarm follows the data, never the connection: none. A serial device's silence (3 s) is real time, and
        # a machine whose cores are saturated can starve the emulators' threads that long: then it clears again as
        # soon as the adapter hears its device.
        assert not [source for _, source in lost("raised") if source.startswith("hl7")], lost("raised")
        wait_for(lambda: lost("raised") <= lost("cleared"))
        assert rig.listener is not None and rig.listener.stats.errors == 0 and rig.listener.stats.accepted > 0
    finally:
        stop.set()
        time.sleep(0.3)
        rig.close()

"""The processes that run and write the store, above the engine and the store, below reports and the web:

    ingest.py         the one path from every adapter to the store: session time, the engine, one commit a step
    placement.py      its other half: items for chairs with no open session, unassociated devices, demo data
    live.py           one open session's engine, folded from the store; queued actions as items
    device_keeper.py  device data kept outside sessions, and each sender's traffic counts
    clinic.py         the simulated clinic (`python app.py`'s demo chairs)
    replay.py         a replay's pacing and its ticks; speeds.py the speeds a person may choose
    coverage.py       the chairs in session that no live, sounding screen covers (a technical alarm)

Nothing here starts a thread on import: dashboard/cli/runner.py starts them from main().
"""

"""Recording real devices: raw byte captures with their times (capture.py) and live readings written as a
feed CSV (recorder.py), for `app.py record` and `app.py emulate --replay`."""

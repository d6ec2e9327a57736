"""Serial devices, each a pure protocol module beside its adapter, over pyserial (port.py):

    suntech.py   SunTech NIBP module frames (Advantage/Tango protocol)     nibp.py      its adapter (cycles, STAT)
    nonin.py     Nonin oximeter data formats 7 and 8                       oximeter.py  its adapter
    port.py      the pyserial transport every serial adapter reads through

Their emulators, for tests and demos, are in devices/emulators/.
"""

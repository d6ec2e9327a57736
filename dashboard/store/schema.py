"""The database schema (SQLAlchemy Core). The store is the bus between ingest and web."""
from __future__ import annotations

import sqlalchemy as sa

from ..sites import DEFAULT_SITE  # the site of every session stored before sites existed (migration 0003)

metadata = sa.MetaData()
NAME_LENGTH = 80  # a person's user name, wherever it is stored (users, audit, actions, events, replays, sign-offs)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("chair", sa.String(40), nullable=False),
    sa.Column("patient_label", sa.String(80), nullable=False),  # pseudonymous label, never a name in logs
    sa.Column("protocol", sa.String(40), nullable=False),
    sa.Column("dose", sa.String(40), nullable=False, server_default=""),
    sa.Column("started_at", sa.Float, nullable=False),  # epoch seconds of session time 0
    sa.Column("speed", sa.Float, nullable=False, server_default="1"),  # session seconds per wall second
    sa.Column("ended_at", sa.Float),  # epoch seconds; NULL while open
    sa.Column("phase", sa.String(20), nullable=False, server_default="pre-dose"),
    sa.Column("status", sa.JSON, nullable=False, default=dict),  # engine snapshot for the board
    sa.Column("rev", sa.Integer, nullable=False, server_default="0"),  # bumped on every change
    sa.Column("scenario", sa.String(60)),  # simulated sessions: scenario and seed, to resume after restart
    sa.Column("seed", sa.Integer),
    sa.Column("clock", sa.String(10), nullable=False, server_default="wall"),  # "feed": a replay drives the time
    sa.Column("site", sa.String(40), nullable=False, server_default=DEFAULT_SITE),  # whose ingest folds it
    # the REMS form's answers asked at the start, and the patient's course as the start page showed it (0009)
    sa.Column("patient_identifier", sa.String(80), nullable=False, server_default=""),  # the site's, never logged
    sa.Column("first_treatment", sa.Boolean),  # the nurse's confirmed answer; NULL: started before 0009
    sa.Column("concomitant", sa.JSON),  # {medicine class: taking it}, asked at start; NULL: not asked
    sa.Column("lot", sa.String(40), nullable=False, server_default=""),
    sa.Column("course", sa.JSON),  # reports.course.CourseAtStart as a dict; NULL: no earlier session known
    # the REMS form's revision the session is filled under, and the start's enrolment answer (0015)
    sa.Column("rems_revision", sa.String(10)),  # e.g. "11/2021"; NULL: opened without one (test data): the current
    sa.Column("rems_enrolled", sa.Boolean),  # first treatment: enrolled in the REMS? NULL: not asked
    sa.Index("ix_sessions_open", "ended_at", "chair"),
    sa.Index("ix_sessions_site_open", "site", "ended_at", "chair"),
    sa.Index("ix_sessions_started", "started_at"),  # the sessions list, newest first (migration 0002)
    sa.Index("ix_sessions_patient", "patient_label", "started_at"),  # a patient's course
)

readings = sa.Table(
    "readings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # arrival order within the session, shared with events
    sa.Column("offset_s", sa.Float, nullable=False),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("provenance", sa.String(10), nullable=False),
    sa.Column("device_time", sa.Float),
    sa.Column("received_time", sa.Float),
    sa.Column("sbp", sa.Float), sa.Column("dbp", sa.Float), sa.Column("map", sa.Float),
    sa.Column("hr", sa.Float), sa.Column("spo2", sa.Float),
    sa.Column("device_id", sa.String(80), nullable=False, server_default=""),  # OBX-18 / MSH-3 (migration 0004)
    sa.Column("artifact", sa.Boolean, nullable=False, server_default=sa.false()),  # device-flagged (0011)
    sa.Index("ix_readings_session_offset", "session_id", "offset_s"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # arrival order within the session, shared with readings
    sa.Column("offset_s", sa.Float, nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.String(40), nullable=False, server_default=""),
    sa.Column("who", sa.String(NAME_LENGTH), nullable=False, server_default=""),
    sa.Column("device_time", sa.Float),
    sa.Column("received_time", sa.Float),
    sa.Column("device_id", sa.String(80), nullable=False, server_default=""),  # the device that reported it (0004)
    sa.Index("ix_events_session_offset", "session_id", "offset_s"),
)

alarms = sa.Table(  # every alarm transition the engine emitted, in order
    "alarms", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("offset_s", sa.Float, nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("source", sa.String(40), nullable=False, server_default=""),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # up to "acknowledged": PostgreSQL enforces the length
    sa.Column("value", sa.String(40), nullable=False, server_default=""),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("received_at", sa.Float),  # epoch seconds the triggering input reached ingest; NULL: a timer (0005)
    sa.Column("stored_at", sa.Float),  # epoch seconds of the commit: stored_at - received_at = signal delay to the store
    sa.Index("ix_alarms_session_offset", "session_id", "offset_s"),
)

actions = sa.Table(  # people's actions from the web, waiting for ingest to fold them into the session
    "actions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),  # an event kind, an action, manual_bp, reading or tick
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("who", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds when the person acted
    sa.Column("offset_s", sa.Float),  # set by a replay: the feed's own session time; else taken from `at`
    sa.Column("source", sa.String(40), nullable=False, server_default=""),
    sa.Column("sbp", sa.Float), sa.Column("dbp", sa.Float), sa.Column("map", sa.Float),  # manual BP, replayed readings
    sa.Column("hr", sa.Float), sa.Column("spo2", sa.Float),
    sa.Column("applied_at", sa.Float),  # NULL until ingest has folded it (same transaction as its event)
    sa.Column("error", sa.Text),  # why it could not be applied (session already ended)
    sa.Column("chain", sa.String(64)),  # HMAC of what the person did and of the row before (chain.py; 0017)
    sa.Index("ix_actions_pending", "applied_at"),
)

refused_messages = sa.Table(  # device input that could not be used, kept whole for review
    "refused_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("received_at", sa.Float, nullable=False),  # epoch seconds
    sa.Column("source", sa.String(80), nullable=False),  # adapter and peer, e.g. "hl7 127.0.0.1:50122"
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
)

replays = sa.Table(  # a tester's replay of a feed onto a chair, driven by the main process
    "replays", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False),
    sa.Column("feed", sa.Text, nullable=False),  # path of the feed file
    sa.Column("speed", sa.Float),  # session seconds per wall second; NULL = as fast as possible
    sa.Column("state", sa.String(10), nullable=False),  # running | paused | stopped | done
    sa.Column("position_s", sa.Float, nullable=False, server_default="0"),  # session time reached
    sa.Column("sent", sa.Integer, nullable=False, server_default="0"),  # readings and events sent
    sa.Column("who", sa.String(NAME_LENGTH), nullable=False, server_default=""),
)

ingest_heartbeat = sa.Table(  # each ingest node says here, every few seconds, that it can write
    "ingest_heartbeat", metadata,
    sa.Column("node", sa.String(80), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds of its last successful commit
    sa.Column("buffered", sa.Integer, nullable=False, server_default="0"),  # readings it held while it could not
    # it runs the simulated clinic: the site's screens are a bannered demo, its simulated chairs on the board
    sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()),
)

received_messages = sa.Table(  # the ids of the messages ingest stored (HL7 resend keys), for an hour
    "received_messages", metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("message", sa.String(250), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds it was stored; rows older than an hour are pruned
    sa.Index("ix_received_messages_at", "at"),
)


MAX_SIGNOFF_COMMENT = 2000
signoffs = sa.Table(  # a clinician's sign-off of a finished session: after it the record is read-only (signoff.py)
    "signoffs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False, unique=True),  # once per session
    sa.Column("clinician", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("signed_at", sa.Float, nullable=False),  # epoch seconds
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
)

alarm_forwarding = sa.Table(  # each site's alarm forwarder (IHE PCD-04): where it has got to, and its health (0013)
    "alarm_forwarding", metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("cursor", sa.Integer, nullable=False, server_default="0"),  # the last alarms.id acknowledged or passed
    sa.Column("sent", sa.Integer, nullable=False, server_default="0"),  # transitions the manager acknowledged
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),  # given up after repeated AE/AR
    sa.Column("waiting", sa.Integer, nullable=False, server_default="0"),  # transitions not yet delivered
    sa.Column("failing_since", sa.Float),  # epoch seconds of the first failed send of the current outage
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("running", sa.Boolean, nullable=False, server_default=sa.false()),  # false after a clean stop
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds the forwarder last said so
)

screens = sa.Table(  # every page load that reports through the shell's poll: which screens are live and sounding (0012)
    "screens", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # random, made by the page at load: one per page load
    sa.Column("site", sa.String(40), nullable=False),  # the site of the web that served it
    sa.Column("username", sa.String(NAME_LENGTH), nullable=False),  # who is signed in there (from the server)
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("page", sa.String(200), nullable=False, server_default=""),  # the path it shows ("/": the board)
    sa.Column("audio", sa.String(20), nullable=False, server_default="none"),  # its AudioContext's state
    sa.Column("seen_at", sa.Float, nullable=False),  # epoch seconds of its last report written
    sa.Column("sounding_at", sa.Float),  # epoch seconds of its last report with sound running; NULL: never
    sa.Index("ix_screens_site_seen", "site", "seen_at"),
)

REMS_CHANNELS = ("portal", "fax")  # how a REMS Patient Monitoring Form reaches the REMS: www.SPRAVATOrems.com or fax
MAX_CONFIRMATION = 80
rems_submissions = sa.Table(  # a REMS form recorded as submitted to the REMS: once per session (rems_submissions.py; 0016)
    "rems_submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("sessions.id"), nullable=False, unique=True),  # once per session
    sa.Column("submitted_by", sa.String(NAME_LENGTH), nullable=False),  # the person who sent it
    sa.Column("submitted_at", sa.Float, nullable=False),  # epoch seconds it was recorded
    sa.Column("channel", sa.String(10), nullable=False),  # portal | fax
    sa.Column("confirmation", sa.String(MAX_CONFIRMATION), nullable=False),  # the portal's number, the fax's report
    sa.Column("hand_filled", sa.Boolean, nullable=False, server_default=sa.false()),  # answers the record lacked were
    # written on the form by hand (it was a draft here)
)

"""The REMS Patient Monitoring Forms of this site's esketamine sessions: which are still to send, recording that
one was sent, and the forms printed to fax.

    python app.py rems list                 every form of the last 30 days (rems.queue_window), most urgent first
    python app.py rems list --due           only the forms not yet sent (drafts and complete forms)
    python app.py rems submitted 12 --channel portal --confirmation PMF-20261207-0042
    python app.py rems form 12 -o form-12.pdf          the form alone, one page, ready to fax
    python app.py rems day 2026-12-07 -o forms.pdf      that day's forms in one file, a page each

A form is due by the end of the treatment date + 7 calendar days (rems.submit_within), in the site's time zone
(the machine's, or --time-zone); "days left" counts dates, so it is right across midnight and daylight saving.
States: draft (answers missing from the record), complete (ready to send), submitted (by whom, when, portal or
fax, the confirmation). Test sessions (replays, the simulated clinic) are never listed. A form is recorded as
sent once; a draft only with --hand-filled (its missing answers were written on the form by hand). Recording and
printing are audited, as "command line" (`submitted` also keeps the sender, --by, default this login's user).
Exits 2, saying why, for an unknown, IV or test session, a second submission, or a draft.
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from .options import add_config_option, add_database_options, add_site_option

if TYPE_CHECKING:
    from ..reports.form_queue import FormQueue
    from ..store import Store

HELP = "REMS Patient Monitoring Forms: list what is due, record a submission, print the form (or a day's forms)"
ACTOR = "command line"  # who the audit names for what this command does, as every command does


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rems_action", metavar="ACTION", required=True)
    listing = _action(sub, "list", "the forms, most urgent first (overdue, due today, then by due date)")
    listing.add_argument("--due", action="store_true", help="only the forms not yet sent (draft or complete)")
    listing.add_argument("--days", type=_days, metavar="N",
                         help="treatment dates of the last N days (default rems.queue_window, 30)")
    sent = _action(sub, "submitted", "record that a session's form was sent to the REMS (audited)")
    sent.add_argument("session", type=int, metavar="SESSION", help="the session's number")
    sent.add_argument("--channel", required=True, choices=("portal", "fax"),
                      help="portal: www.SPRAVATOrems.com; fax: the REMS fax line")
    sent.add_argument("--confirmation", required=True, metavar="TEXT",
                      help="the confirmation the REMS gave (the portal's number, the fax report's)")
    sent.add_argument("--by", metavar="NAME", help="who sent it (default: the user logged in here)")
    sent.add_argument("--hand-filled", action="store_true",
                      help="the form was a draft here: its missing answers were written on it by hand")
    form = _action(sub, "form", "one session's form alone, one page (a test session's marked TEST)")
    form.add_argument("session", type=int, metavar="SESSION", help="the session's number")
    form.add_argument("-o", "--out", type=Path, required=True, metavar="FILE", help="the PDF to write")
    day = _action(sub, "day", "the forms of the esketamine sessions treated on one date, a page each")
    day.add_argument("date", type=_date, metavar="YYYY-MM-DD", help="the treatment date, in the site's time zone")
    day.add_argument("-o", "--out", type=Path, required=True, metavar="FILE", help="the PDF to write")
    for each in (listing, sent, form, day):
        add_database_options(each)
        add_site_option(each)
        add_config_option(each)
        each.add_argument("--time-zone", type=_zone, metavar="ZONE",
                          help="the site's time zone, e.g. America/New_York (default: this machine's, TZ)")


def _action(sub, name: str, what: str) -> argparse.ArgumentParser:  # noqa: ANN001 - argparse's private class
    return sub.add_parser(name, help=what, description=what)


def _days(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 3660:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of days, 1 to 3660")
    return int(text)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a date as YYYY-MM-DD") from None


def _zone(text: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r}: not a time zone this machine knows (e.g. Europe/Paris)") from None


def run(args: argparse.Namespace) -> int:
    import sys

    from ..engine import ConfigError, load_config
    from .location import missing_database, open_store

    if problem := missing_database(args):
        print(f"rems: {problem}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"rems: {exc}", file=sys.stderr)
        return 2
    store = open_store(args)
    try:
        return {"list": _list, "submitted": _submitted, "form": _form, "day": _day}[args.rems_action](
            store, config, args)
    finally:
        store.close()


def _list(store: Store, config, args: argparse.Namespace) -> int:
    import time

    from ..reports.form_queue import form_queue

    queue = form_queue(store, config, time.time(), args.time_zone, days=args.days)
    print(table(queue, due_only=args.due))
    return 0


def table(queue: FormQueue, due_only: bool = False) -> str:
    """The queue as a text table: session, chair, treatment date, due date, state, days left (or who sent it)."""
    forms = queue.unsent() if due_only else queue.forms
    lines = [f"{'Session':>7}  {'Chair':<12} {'Treated':<10}  {'Due':<10}  {'State':<9}  Days left / sent"]
    for f in forms:
        if f.submission:
            s = f.submission
            when = dt.datetime.fromtimestamp(s.submitted_at).strftime("%Y-%m-%d %H:%M")
            last = f"sent {when} by {s.submitted_by}, {s.describe()}"
        else:
            last = f.deadline.describe() + (" (session still running)" if f.open else "")
        lines.append(f"{f.session_id:>7}  {f.chair[:12]:<12} {f.deadline.treatment_day.isoformat():<10}  "
                     f"{f.deadline.due.isoformat():<10}  {f.state:<9}  {last}")
    if len(lines) == 1:
        lines.append("(no form " + ("to send" if due_only else "in this window") + ")")
    if queue.older_unsent:
        lines.append(f"{queue.older_unsent} older form(s), treated before {queue.window_start.isoformat()}, not "
                     "recorded as sent: list them with --days N")
    return "\n".join(lines)


def _submitted(store: Store, config, args: argparse.Namespace) -> int:
    import getpass
    import sys
    import time

    from ..reports.form_queue import Recorder, Submission, SubmissionRefused, submit

    by = args.by if args.by is not None else _login_name(getpass)
    try:
        done = submit(store, config, Submission(args.session, by, time.time(), args.channel, args.confirmation,
                                                args.hand_filled), Recorder(ACTOR))
    except SubmissionRefused as exc:
        print(f"rems: {exc}", file=sys.stderr)
        return 2
    print(f"Session {done.session_id}: form recorded as sent by {done.submitted_by} ({done.describe()})")
    return 0


def _login_name(getpass) -> str:  # noqa: ANN001 - the module, imported by the caller
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): the sender must be named
        return ""


def _form(store: Store, config, args: argparse.Namespace) -> int:
    import sys

    from ..reports.exports.form_pdf import form_pdf
    from ..reports.record import SessionNotFound, load_record

    try:
        content = form_pdf(load_record(store, args.session), config)
    except SessionNotFound as exc:
        print(f"rems: {exc}", file=sys.stderr)
        return 2
    _write(store, args.out, content, [args.session], f"rems form: {args.out.name}")
    print(f"Wrote session {args.session}'s REMS form to {args.out} ({len(content):,} bytes)", file=sys.stderr)
    return 0


def _day(store: Store, config, args: argparse.Namespace) -> int:
    import sys

    from ..reports.exports.form_pdf import forms_pdf
    from ..reports.form_queue import forms_of_day

    records = forms_of_day(store, args.date, args.time_zone)
    if not records:
        print(f"rems: no esketamine session of site {store.site} was treated on {args.date.isoformat()}",
              file=sys.stderr)
        return 2
    content = forms_pdf(records, config)
    _write(store, args.out, content, [r.id for r in records], f"rems day {args.date.isoformat()}: {args.out.name}")
    print(f"Wrote {len(records)} REMS form(s) of {args.date.isoformat()} to {args.out} ({len(content):,} bytes)",
          file=sys.stderr)
    return 0


def _write(store: Store, out: Path, content: bytes, session_ids: list[int], detail: str) -> None:
    """Write the PDF and audit the read of each session's record, as `export` does (the same action name)."""
    from ..auth import record

    out.write_bytes(content)
    for sid in session_ids:
        record(store, ACTOR, "export", detail, session_id=sid)

"""gunicorn's settings for the monitor's web. `python app.py serve --workers N` starts gunicorn with this file
(and the workers, address and certificates from its options); a unit or a person may too:

    .venv/bin/gunicorn --config deploy/gunicorn.conf.py --pythonpath . --workers 4 --bind 127.0.0.1:8050

What a site changes comes from the command line or the environment (MONITOR_*, read by dashboard/wsgi.py).
"""
import signal

import gunicorn.http.wsgi
from gunicorn.arbiter import Arbiter

wsgi_app = "dashboard.wsgi:server"
proc_name = "monitor-web"
loglevel = "warning"  # the monitor's own lines at INFO come from its logging; gunicorn's from WARNING
accesslog = None  # the audit log records who read what; an access log would repeat it with less care
capture_output = False
timeout = 60  # a worker silent this long (a stuck request) is replaced
graceful_timeout = 10  # on stop, requests in flight get this long
# The Server header names no product or version (an attacker's first question); gunicorn has no setting for it.
gunicorn.http.wsgi.SERVER = "monitor"
# Ctrl-C stops as a service manager's SIGTERM does: each worker finishes the request it is answering (gunicorn's own
# SIGINT is a quick stop that cuts a request off mid-answer, with a traceback in the log).
Arbiter.handle_int = Arbiter.handle_term


def post_worker_init(worker):  # noqa: ANN001 (gunicorn's hook)
    """A worker that gets Ctrl-C itself (a terminal signals the whole group) finishes its request, then stops."""
    signal.signal(signal.SIGINT, worker.handle_exit)


def when_ready(server):  # noqa: ANN001 (gunicorn's hook)
    """The address as `python app.py` prints it, once the socket listens (port 0: the one the system chose)."""
    host, port = server.LISTENERS[0].getsockname()[:2]
    scheme = "https" if server.cfg.is_ssl else "http"
    where = f"[{host}]" if ":" in host else host
    print(f"Dashboard: {scheme}://{where}:{port}/  (gunicorn, {server.cfg.workers} workers; Ctrl-C stops)",
          flush=True)

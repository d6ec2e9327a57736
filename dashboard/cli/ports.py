"""The ports a run needs, taken before it writes anything: a port in use stops the program with one clear line
(exit 2) before the database is opened or a thread started, instead of after the clinic has begun writing.

The web's socket is bound here and held, then served by Werkzeug's threaded server (no second bind, so no race
with another program, and `--port 0` gets a free port whose address is printed). The HL7 listener's port is
only tried (bound and released): the listener binds it itself a moment later.
"""
from __future__ import annotations

import errno
import socket
from typing import Any


class PortError(OSError):
    """A port that cannot be listened on; the message says which and what to do."""


def listen(host: str, port: int, what: str = "the dashboard", option: str = "--port") -> socket.socket:
    """A listening socket on host:port (port 0: any free port), or PortError."""
    from werkzeug.serving import get_sockaddr, select_address_family

    family = select_address_family(host, port)  # as Werkzeug's server will read the socket
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a just-stopped server's port is free
        sock.bind(get_sockaddr(host, port, family))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PortError(_why(exc, host, port, what, option)) from None
    return sock


def try_port(host: str, port: int, what: str, option: str) -> None:
    """PortError when host:port cannot be listened on now (for a server that binds it itself)."""
    listen(host, port, what, option).close()


def serve(wsgi_app: Any, sock: socket.socket, host: str) -> None:
    """Serve `wsgi_app` on the held socket, a thread per request, until KeyboardInterrupt (Ctrl-C, or SIGTERM
    turned into one); then close."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        def version_string(self) -> str:  # no "Werkzeug/3.x Python/3.x": nothing to look a weakness up by
            return "monitor"

    server = make_server(host, sock.getsockname()[1], wsgi_app, threaded=True, fd=sock.fileno(),
                         request_handler=Handler)
    sock.close()  # the server holds its own duplicate of the socket
    server.serve_forever()  # returns on KeyboardInterrupt, closing the socket


def url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _why(exc: OSError, host: str, port: int, what: str, option: str) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} is in use ({where}), so {what} cannot listen there: stop the program using it "
                f"(another monitor?) or choose another port with {option} N")
    if exc.errno == errno.EACCES:
        return f"no permission to listen on {where} for {what}: choose a port above 1023 with {option} N"
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
        return f"{host} is not an address of this machine, so {what} cannot listen there"
    return f"{what} cannot listen on {where}: {exc.strerror or exc}"

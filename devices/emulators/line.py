"""The emulator's end of a serial line: a pseudo-terminal, or a TCP port (ser2net style).

`PtyLine`: the emulator drives the master; the adapter opens `url` (the slave's
path, or a stable symlink to it) with pyserial. `unplug()` closes the master, which
makes the adapter's read fail as a pulled USB adapter would; `replug()` opens a new
pty and points the symlink at it. The slave is put in raw mode at once and kept open
by the emulator, so bytes written before the adapter opens it are not mangled by the
line discipline (no echo, no CR->LF).

`TcpLine`: a listening socket on 127.0.0.1 for `socket://` adapters; one client at a
time; `unplug()` drops the client.
"""
from __future__ import annotations

import errno
import os
import select
import socket
import threading
import tty
from pathlib import Path
from typing import Protocol


LINE_GONE = (errno.EIO, errno.EBADF, errno.ENOTCONN, errno.ECONNRESET)  # the other end went away: no data


class Line(Protocol):
    url: str

    def write(self, data: bytes) -> int: ...

    def read(self, timeout: float) -> bytes: ...

    def unplug(self) -> None: ...

    def replug(self) -> None: ...

    def close(self) -> None: ...


class PtyLine:
    def __init__(self, link: Path | str | None = None) -> None:
        self.link = Path(link) if link else None
        self.master = self.slave = -1
        self.path = ""
        self._lock = threading.Lock()
        self.replug()

    @property
    def url(self) -> str:
        return str(self.link) if self.link else self.path

    def replug(self) -> None:
        with self._lock:
            self._close_fds()
            self.master, self.slave = os.openpty()
            tty.setraw(self.slave)
            os.set_blocking(self.master, False)
            self.path = os.ttyname(self.slave)
            if self.link:
                tmp = self.link.with_name(self.link.name + ".new")
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(self.path)
                tmp.replace(self.link)  # atomic: the adapter never sees a missing link mid-swap

    def write(self, data: bytes) -> int:
        """Write without blocking; bytes nobody reads are lost, as on a real line."""
        with self._lock:
            if self.master < 0:
                return 0
            try:
                return os.write(self.master, data)
            except BlockingIOError:
                return 0
            except OSError as exc:
                if exc.errno in LINE_GONE:
                    return 0
                raise

    def read(self, timeout: float) -> bytes:
        master = self.master
        if master < 0:
            select.select([], [], [], timeout)
            return b""
        try:
            ready, _, _ = select.select([master], [], [], timeout)
            return os.read(master, 4096) if ready else b""
        except (BlockingIOError, ValueError):
            return b""
        except OSError as exc:
            if exc.errno in LINE_GONE:
                return b""
            raise

    def unplug(self) -> None:
        with self._lock:
            self._close_fds()

    def close(self) -> None:
        self.unplug()
        if self.link:
            self.link.unlink(missing_ok=True)

    def _close_fds(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self.slave = -1


class TcpLine:
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.2)
        self.host, self.port = self._server.getsockname()[:2]
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._accepting = threading.Event()
        self._accepting.set()
        threading.Thread(target=self._accept, name=f"tcp line {self.port}", daemon=True).start()

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if not self._accepting.is_set():
                client.close()
                continue
            with self._lock:
                if self._client is not None:
                    self._client.close()
                self._client = client

    def write(self, data: bytes) -> int:
        with self._lock:
            client = self._client
        if client is None:
            return 0
        try:
            client.sendall(data)
            return len(data)
        except OSError:
            return 0

    def read(self, timeout: float) -> bytes:
        with self._lock:
            client = self._client
        if client is None:
            self._closed.wait(timeout)
            return b""
        try:
            ready, _, _ = select.select([client], [], [], timeout)
            if not ready:
                return b""
            data = client.recv(4096)
        except (OSError, ValueError):
            return b""
        if not data:  # the adapter hung up
            with self._lock:
                if self._client is client:
                    self._client = None
            client.close()
        return data

    def unplug(self) -> None:
        """Drop the adapter's connection and refuse new ones until `replug()`."""
        self._accepting.clear()
        with self._lock:
            if self._client is not None:
                try:
                    self._client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._client.close()
                self._client = None

    def replug(self) -> None:
        self._accepting.set()

    def close(self) -> None:
        self._closed.set()
        self.unplug()
        self._server.close()

"""An alarm manager that receives IHE PCD-04 reports over MLLP and acknowledges them: for tests and the bench.

Built on python-hl7's asyncio MLLP server (`hl7.mllp.start_hl7_server`), i.e. on a reader and ACK writer that
is not ours, on a real socket, in a thread of its own. Each message is kept with the time it arrived, in order;
`answer` picks the ACK code (AA unless told otherwise). `stop` closes the server and every open connection, as a
manager that crashes would; `start` again serves on the same port.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Callable

import hl7
import hl7.mllp


@dataclass(frozen=True, slots=True)
class Received:
    text: str  # the message, segments ending in CR
    at: float  # epoch seconds it arrived
    control_id: str  # MSH-10


class AlarmManager:
    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 answer: Callable[[hl7.Message], str] = lambda _message: "AA") -> None:
        self.host, self.port, self.answer = host, port, answer
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def start(self) -> AlarmManager:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="alarm-manager", daemon=True)
        self._thread.start()
        if not ready.wait(30) or self._server is None:
            raise RuntimeError("the alarm manager did not start")
        return self

    def stop(self) -> None:
        """Close the server and every connection (a crash, as the sender sees it), and end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> AlarmManager:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            hl7.mllp.start_hl7_server(self._connected, host=self.host, port=self.port, reuse_address=True))
        self.port = self._server.sockets[0].getsockname()[1]  # the port chosen, for a restart on the same one
        ready.set()
        self._loop.run_forever()

    async def _connected(self, reader: hl7.mllp.HL7StreamReader, writer: hl7.mllp.HL7StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while not writer.is_closing():
                message = await reader.readmessage()
                control_id = str(message.segment("MSH")(10))
                with self._lock:
                    self.received.append(Received(str(message), time.time(), control_id))
                writer.writemessage(message.create_ack(self.answer(message)))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

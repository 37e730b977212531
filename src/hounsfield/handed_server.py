"""A uvicorn server that listens on nothing: the supervisor (`workers`) hands it each
connection's descriptor, and it tells the supervisor when a connection closes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn

from hounsfield.workers import CLOSED, receive_connections


class HandedServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, channel: socket.socket):
        super().__init__(config)
        self.channel = channel
        self._tasks: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        if self.should_exit:
            return
        self.channel.setblocking(False)
        asyncio.get_running_loop().add_reader(self.channel.fileno(), self._take)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop_taking()
        await super().shutdown(sockets=sockets)

    def _stop_taking(self) -> None:
        if self.channel.fileno() >= 0:
            asyncio.get_running_loop().remove_reader(self.channel.fileno())

    def _take(self) -> None:
        connections, supervised = receive_connections(self.channel)
        for connection in connections:
            task = asyncio.ensure_future(self._serve_connection(connection))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if not supervised:  # the supervisor is gone: finish what is open, then stop
            self._stop_taking()
            self.should_exit = True

    async def _serve_connection(self, connection: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        connection.setblocking(False)
        try:
            await loop.connect_accepted_socket(self._protocol, connection)
        except OSError:
            connection.close()
            self._report_closed()

    def _protocol(self) -> asyncio.Protocol:
        config = self.config
        protocol = config.http_protocol_class(  # type: ignore[call-arg]
            config=config, server_state=self.server_state, app_state=self.lifespan.state)
        lost = protocol.connection_lost

        def connection_lost(exc: Exception | None) -> None:
            try:
                lost(exc)
            finally:
                self._report_closed()

        protocol.connection_lost = connection_lost  # type: ignore[method-assign]
        return protocol

    def _report_closed(self) -> None:
        with contextlib.suppress(OSError):  # the supervisor is gone: nobody counts
            self.channel.send(CLOSED)

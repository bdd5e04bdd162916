"""A loopback TCP proxy that holds a connection open after the server closed it.

It reproduces the window in which a rebooted server's close has not reached the client yet:
the client's transport still reports itself active, and only learns the connection is gone
when it next sends something (the proxy then closes the client's side).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class StaleConnectionProxy:
    """Forwards ip:port to target; when the target closes a connection, the client's side
    stays open until the client sends, so its next request meets a dead connection."""

    def __init__(self, ip: str, port: int, target: tuple[str, int]) -> None:
        self.target = target
        self.upstream_closed = threading.Event()  # set when a server closed a connection
        self.client_sent_at = time.monotonic()  # when a client last sent anything
        self._listener = socket.create_server((ip, port))
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._clients: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self._threads[0].start()

    @property
    def address(self) -> tuple[str, int]:
        return self._listener.getsockname()[:2]

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            self._clients.append(client)
            gone = threading.Event()
            for pump, ends in (
                (self._to_client, (upstream, client, gone)),
                (self._to_server, (client, upstream, gone)),
            ):
                thread = threading.Thread(target=pump, args=ends, daemon=True)
                self._threads.append(thread)
                thread.start()

    def _to_client(self, upstream: socket.socket, client: socket.socket, gone: threading.Event):
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                client.sendall(data)
        gone.set()
        self.upstream_closed.set()  # the client is not told: it learns when it next sends

    def _to_server(self, client: socket.socket, upstream: socket.socket, gone: threading.Event):
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                self.client_sent_at = time.monotonic()
                if gone.is_set():
                    break
                upstream.sendall(data)
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def wait_until_clients_are_quiet(self, quiet: float = 0.5, timeout: float = 15) -> None:
        """Until no client has sent anything for ``quiet`` seconds: an SSH client may still
        answer the server (a channel close) a moment after a command returned, and what it
        sends after the server went would tell it the connection is dead too early."""
        deadline = time.monotonic() + timeout
        while time.monotonic() - self.client_sent_at < quiet:
            if time.monotonic() > deadline:
                raise TimeoutError(f"clients kept sending for {timeout} s")
            time.sleep(0.05)

    def drop_clients(self) -> None:
        """Cut every client connection at once, as a network failure would."""
        for client in list(self._clients):
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(5)

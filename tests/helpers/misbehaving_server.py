"""A loopback server that answers every request badly, in one chosen way, to test fault handling.

Behaviours: "blackhole" (accepts, never answers), "reset" (half an answer, then a TCP reset),
"truncated" (a complete HTTP answer whose JSON is cut short), "html" (a captive portal's page),
"500" (a JSON server error) and "502" (a proxy's HTML error page).
"""

from __future__ import annotations

import socket
import struct
import threading

ANSWERS = {
    "truncated": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
                 b'{"access_token": "gh',
    "html": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 30\r\n\r\n"
            b"<html>Sign in to Wi-Fi.</html>",
    "500": b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Type: application/json\r\n"
           b'Content-Length: 27\r\n\r\n{"message": "Server Error"}',
    "502": b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 24\r\n\r\n"
           b"<html>Bad Gateway</html>",
    "reset": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
             b'{"access_token": "gho_',
}


class MisbehavingServer:
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(connection,), daemon=True).start()

    def answer(self, connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                request += chunk
            self.requests += 1
            if self.behaviour == "blackhole":
                self.stopping.wait()
                return
            connection.sendall(ANSWERS[self.behaviour])
            if self.behaviour == "reset":
                # Linger 0: close() sends a TCP reset instead of a clean end.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()

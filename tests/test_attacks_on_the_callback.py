"""The callback server under attack: fuzzed requests, forged callbacks, slow and many clients.

Invariants, while a real login waits: the server never crashes or ends the wait without the right
`state`, never exchanges a code that came with a wrong one, never reflects input unescaped,
answers every bad request with a 4xx, and the genuine callback afterwards still signs in.
"""

import socket
import threading
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stand_in import play_browser
from tests.helpers import STATE, fetch, genuine_callback, sign_in

INJECTED = "<script>alert(1)</script>"


def send_raw(port: int, data: bytes, half_close: bool = True) -> tuple[int | None, bytes]:
    """Send bytes as they are, then read the whole answer. Returns (status or None, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(data)
        if half_close:
            connection.shutdown(socket.SHUT_WR)  # a half-sent request ends here
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    words = head.split(b" ", 2)
    status = int(words[1]) if len(words) > 1 and words[0].startswith(b"HTTP/") and words[1].isdigit() else None
    return status, body


names = st.one_of(st.sampled_from(["state", "code", "error", "error_description", "State", "state "]),
                  st.text(max_size=12))
values = st.one_of(
    st.text(max_size=60),
    st.sampled_from([STATE + "x", STATE[:-1], STATE.upper(), "", INJECTED, "%ff%fe%00"]),
    st.text(min_size=2000, max_size=6000),
)


def raw_query(draw_pairs, raw_bytes) -> str:
    query = urlencode(draw_pairs)
    if raw_bytes:  # percent-encoded bytes that are not UTF-8
        query += "&state=" + "".join(f"%{b:02x}" for b in raw_bytes)
    return query


requests_strategy = st.builds(
    lambda method, path, pairs, raw_bytes, duplicate, version, headers, cut: (
        method, path, raw_query(pairs + ([("state", STATE), ("state", STATE)] if duplicate else []), raw_bytes),
        version, headers, cut),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "BREW", "get"]),
    path=st.one_of(st.sampled_from(["/callback", "/", "/favicon.ico", "/callback/", "//callback", "/CALLBACK",
                                    "http://127.0.0.1/callback"]),
                   st.text(max_size=40).map(lambda text: "/" + quote(text))),
    pairs=st.lists(st.tuples(names, values), max_size=5),
    raw_bytes=st.binary(max_size=8),
    duplicate=st.booleans(),
    version=st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTX/1.1", ""]),
    headers=st.lists(st.tuples(st.sampled_from(["Host", "Cookie", "Content-Length", "X-Forwarded-For", "Referer"]),
                               st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)),
                     max_size=4),
    cut=st.one_of(st.none(), st.integers(min_value=1, max_value=400)),
)


def test_fuzzed_requests_never_end_the_wait_and_the_genuine_callback_still_signs_in(waiting_server):
    server, exchanged = waiting_server
    port = server.server_address[1]

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(request=requests_strategy)
    def attack(request):
        method, path, query, version, headers, cut = request
        line = f"{method} {path}{'?' + query if query else ''} {version}".rstrip()
        data = (line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("utf-8", "replace")
        status, body = send_raw(port, data[:cut] if cut else data)
        assert status is not None, (status, data[:200])
        assert 400 <= status < 500, (status, data[:200])
        assert b"<script>" not in body
        assert not server.done.is_set()
        assert exchanged == []

    attack()
    status, body, _ = genuine_callback(server)
    assert status == 200
    assert "Signed in" in body
    assert exchanged == ["the-real-code"]


def test_a_forged_callback_racing_the_browser_never_wins(step2, github, config_for):
    forged = []

    def attacker(redirect_uri):
        for guess in range(200):  # a local process guessing states as fast as it can
            try:
                forged.append(fetch(f"{redirect_uri}?code=attacker-code&state=guess{guess}")[0])
            except OSError:
                return  # the login is over and the server gone

    def browse(url):
        from tests.helpers import callback_port

        racer = threading.Thread(target=attacker, args=(f"http://127.0.0.1:{callback_port(url)}/callback",))
        racer.start()
        play_browser(url)
        racer.join()
        return True

    token = sign_in(step2, config_for(github), browse)
    assert token.access_token in github.tokens
    assert github.counters.token_requests == 1  # only the genuine code was exchanged
    assert "attacker-code" not in github.counters.secrets_seen
    assert set(forged) <= {400}


def test_a_slow_client_holding_a_connection_cannot_block_the_genuine_callback(waiting_server):
    server, exchanged = waiting_server
    with socket.create_connection(server.server_address, timeout=30) as slow:
        slow.sendall(b"GET /callback?state=")  # and then nothing, for as long as it likes
        status, _, _ = genuine_callback(server)
    assert status == 200
    assert exchanged == ["the-real-code"]


def test_many_connections_at_once_do_not_stop_the_login(waiting_server):
    server, exchanged = waiting_server
    crowd = []
    try:
        for number in range(60):
            connection = socket.create_connection(server.server_address, timeout=30)
            connection.sendall(f"GET /callback?state=crowd{number}".encode())
            crowd.append(connection)
        status, _, _ = genuine_callback(server)
    finally:
        for connection in crowd:
            connection.close()
    assert status == 200
    assert exchanged == ["the-real-code"]


def test_a_replayed_genuine_callback_is_refused(waiting_server):
    server, exchanged = waiting_server
    assert genuine_callback(server)[0] == 200
    status, body, _ = genuine_callback(server, code="replayed-code")
    assert status == 400
    assert "already been completed" in body
    assert exchanged == ["the-real-code"]


def test_a_malformed_request_is_not_logged_with_its_code(waiting_server, capfd):
    server, _ = waiting_server
    status, _ = send_raw(server.server_address[1], b"/callback?code=code-that-must-not-be-logged\r\n\r\n")
    assert status == 400
    captured = capfd.readouterr()
    assert "code-that-must-not-be-logged" not in captured.err + captured.out

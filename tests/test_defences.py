"""One deterministic test per defence that a single edit could remove without the rest noticing.

Each test names the defence it guards; tools/check_defences.py removes each defence in turn and
runs these to prove they notice. None of them samples: every input is chosen to hit the edge.
"""

import base64
import functools
import logging
import time
from urllib.parse import urlencode

import pytest
import requests
import responses

import support.api_http
import support.output
from support.errors import AuthError, RefreshRejected, safe_text
import support.loopback
from support.token import Token
from support.token_store import TokenStore
from tests.helpers import APP_SETTINGS, STATE, fetch, genuine_callback
import token_manager
from token_manager import TokenManager

API = "https://api.github.com"


# -- the callback server -------------------------------------------------------------------------

@pytest.mark.parametrize("forged", ["", STATE[:-1], STATE[:1], STATE + "x"])
def test_state_is_compared_whole_never_as_a_prefix(waiting_server, forged):
    server, exchanged = waiting_server
    status, _, _ = fetch(f"{server.redirect_uri}?{urlencode({'code': 'attacker', 'state': forged})}")
    assert status == 400
    assert exchanged == []
    assert not server.done.is_set()


def test_state_is_compared_in_constant_time(waiting_server, step2, monkeypatch):
    server, _ = waiting_server
    compared = []
    real_compare = step2.hmac.compare_digest
    monkeypatch.setattr(step2.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real_compare(a, b))
    fetch(f"{server.redirect_uri}?{urlencode({'code': 'attacker', 'state': STATE[:-1] + 'x'})}")
    assert compared == [((STATE[:-1] + "x").encode(), STATE.encode())]  # never ==, which stops at the first difference


def test_the_code_never_shows_in_a_callback_results_repr(step2):
    result = step2.CallbackResult(code="the-code-itself", issuer="https://github.com/login/oauth")
    assert "the-code-itself" not in repr(result)
    assert "github.com/login/oauth" in repr(result)


def test_a_repeated_parameter_is_refused_even_with_the_right_state(waiting_server):
    server, exchanged = waiting_server
    status, _, _ = fetch(f"{server.redirect_uri}?state={STATE}&code=first&code=second")
    assert status == 400
    assert exchanged == []


def test_the_callback_page_headers_are_exactly_the_strict_ones(waiting_server):
    server, _ = waiting_server
    _, _, headers = fetch(f"{server.redirect_uri}?state=wrong")
    assert headers["Content-Security-Policy"] == \
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_an_idle_connection_is_dropped_after_ten_seconds_at_most(step2):
    assert 0 < support.loopback.CallbackHandler.timeout <= 10


def test_the_listen_backlog_takes_a_burst_of_connections(step2):
    assert step2.CallbackServer.request_queue_size >= 128  # the default, 5, stalls a burst by a second


def test_no_request_line_reaches_the_debug_log(waiting_server, caplog):
    caplog.set_level(logging.DEBUG)
    server, _ = waiting_server
    fetch(f"{server.redirect_uri}?code=forged-code-never-logged&state=wrong")
    fetch(f"{server.redirect_uri.rsplit('/', 1)[0]}/elsewhere?code=stray-code-never-logged")
    genuine_callback(server, code="genuine-code-never-logged")
    assert "callback server: GET /callback" in caplog.text  # the path is logged ...
    assert "never-logged" not in caplog.text  # ... the query never


# -- configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize("redirect", ["http://0.0.0.0/callback", "http://[::]/callback", "http://10.0.0.1/callback"])
def test_a_redirect_that_listens_beyond_this_machine_is_refused(step1, redirect):
    with pytest.raises(AuthError, match="must point at this machine"):
        step1.load_config(env={**APP_SETTINGS, "GITHUB_REDIRECT_URI": redirect})


def test_state_and_verifier_draw_32_bytes_from_the_operating_system(step1, monkeypatch):
    import secrets

    drawn = []
    real = secrets.token_bytes
    monkeypatch.setattr(secrets, "token_bytes", lambda n=None: drawn.append(n) or real(n))
    state, verifier = step1.generate_state(), step1.generate_code_verifier()
    assert drawn == [32, 32]  # RFC 6749 §10.10, RFC 7636 §7.1: 256 bits each, from secrets
    assert len(state) == len(verifier) == 43
    assert state != verifier


# -- step 3 and the token's lifecycle ------------------------------------------------------------

def config_for_github_com(step1):
    return step1.load_config(env=APP_SETTINGS)


def test_a_refresh_token_is_never_sent_to_another_server(step1, step3):
    config = config_for_github_com(step1)
    foreign = Token(access_token="gho_x_aaaa", refresh_token="ghr_x_bbbb", issuer="https://ghe.example.com",
                    resource="https://ghe.example.com/api/v3")
    with responses.RequestsMock() as mock:  # any request at all would fail this test
        with pytest.raises(AuthError, match="not sent elsewhere"):
            token_manager.refresh_github_token(config)(foreign)
        assert len(mock.calls) == 0


def github_token(config) -> Token:
    return Token(access_token="gho_revoke_me_cccc", issuer=config.server_url, resource=config.api_url)


@responses.activate
def test_revocation_does_not_follow_a_redirect(step1, step3):
    config = config_for_github_com(step1)
    url = f"{config.api_url}/applications/{config.client_id}/token"
    responses.delete(url, status=307, headers={"Location": "https://evil.example/collect"})
    with pytest.raises(AuthError, match="answered HTTP 307"):
        token_manager.revoke_github_token(config)(github_token(config))
    assert [call.request.url for call in responses.calls] == [url]  # the token went nowhere else


@pytest.mark.parametrize("status", [200, 401, 500])
@responses.activate
def test_revocation_counts_only_204_404_and_422_as_done(step1, step3, status):
    config = config_for_github_com(step1)
    responses.delete(f"{config.api_url}/applications/{config.client_id}/token", status=status)
    with pytest.raises(AuthError, match=f"answered HTTP {status}"):
        token_manager.revoke_github_token(config)(github_token(config))


def test_revocation_has_a_timeout(step1, step3, monkeypatch):
    config = config_for_github_com(step1)
    seen = {}

    def delete(url, **options):
        seen.update(options)
        raise requests.ConnectionError("offline")

    monkeypatch.setattr(requests, "delete", delete)
    with pytest.raises(AuthError):
        token_manager.revoke_github_token(config)(github_token(config))
    assert seen["timeout"]
    assert all(part > 0 for part in seen["timeout"])
    assert seen["allow_redirects"] is False


def test_the_rate_limit_message_says_the_reset_time(step3):
    reset = int(time.time()) + 1234
    response = requests.Response()
    response.status_code, response.url = 403, f"{API}/user"
    response.headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000",
                             "X-RateLimit-Reset": str(reset)})
    message = str(support.api_http.describe_failure(response))
    assert time.strftime("%H:%M:%S", time.localtime(reset)) in message


def test_gh_token_wins_over_github_token(step1, step3):
    config = config_for_github_com(step1)
    both = {"GITHUB_TOKEN": "gho_second_choice_2222", "GH_TOKEN": "gho_first_choice_1111"}
    source = step3.load_token(config, TokenStore(), environ=both)
    assert source.token.access_token == "gho_first_choice_1111"
    assert source.variable == "GH_TOKEN"


def test_an_api_error_message_is_made_safe_for_the_terminal(step3):
    response = requests.Response()
    response.status_code, response.url = 403, f"{API}/user"
    response._content = b'{"message": "\\u001b[2Jgone\\r\\nFAKE PROMPT $ "}'
    message = str(support.api_http.describe_failure(response))
    assert "\x1b" not in message
    assert "\r" not in message
    assert "\n" not in message


def test_repository_names_are_made_safe_for_the_terminal(tool):
    rows = support.output.format_repo_table([{"full_name": "octocat/\x1b]0;pwned\x07name\r\nfake", "private": False}], 80)
    assert not any(char in "\n".join(rows) for char in "\x1b\x07\r")


@pytest.mark.parametrize("text", ["a\rb", "a\nb", "a\r\nb", "a\x1b[31mb", "a\u2028b", "a\x00b"])
def test_safe_text_lets_no_line_break_or_control_character_through(text):
    cleaned = safe_text(text, 100)
    assert cleaned.startswith("a")
    assert cleaned.endswith("b")
    assert all(char.isprintable() for char in cleaned)


def test_the_default_margin_refreshes_a_token_a_little_before_it_expires(tmp_path):
    calls = []

    def refresh(old):
        calls.append(old.refresh_token)
        return old._replace(access_token="gho_new_dddd", expires_at=time.time() + 3600)

    store = TokenStore(tmp_path / "token.json")
    store.save(Token(access_token="gho_old_eeee", refresh_token="ghr_old_ffff", expires_at=time.time() + 5))
    assert TokenManager(store, refresh=refresh).valid_token().access_token == "gho_new_dddd"  # default margin
    assert calls == ["ghr_old_ffff"]


@pytest.mark.parametrize("lifetime", ["inf", "-inf", "nan", "-5", float("inf"), -1, True])
def test_a_lifetime_that_is_not_a_finite_positive_number_is_refused(lifetime):
    with pytest.raises(ValueError):
        Token.from_token_response({"access_token": "a", "expires_in": lifetime}, issuer="i", resource="r")


def test_tls_verification_is_never_turned_off(step1, step3, monkeypatch):
    config = config_for_github_com(step1)
    client = step3.GitHubClient(config, Token(access_token="gho_x_gggg"))
    sent = {}

    def send(request, **options):
        sent.update(options)
        raise requests.ConnectionError("offline")

    monkeypatch.setattr(client.session, "send", send)
    with pytest.raises(AuthError):
        client.get_user()
    # True, or the path of a CA bundle (REQUESTS_CA_BUNDLE); never False.
    assert client.session.verify is True
    assert sent["verify"] not in (False, None, "")


def test_the_tool_sends_the_verifier_whose_hash_went_into_the_url(step1, step2):
    config = config_for_github_com(step1)
    request = step1.prepare_authorization_request(config, "http://127.0.0.1:5000/callback")
    with responses.RequestsMock() as mock:
        mock.post(config.token_url, json={"access_token": "gho_fake_hhhh", "token_type": "bearer"})
        step2.exchange_code_for_token(config, "the-code", request)
        sent = dict(pair.split("=", 1) for pair in mock.calls[0].request.body.split("&"))
    from hashlib import sha256

    challenge = base64.urlsafe_b64encode(sha256(sent["code_verifier"].encode()).digest()).rstrip(b"=").decode()
    assert f"code_challenge={challenge}" in request.url  # the pair belongs to this very attempt


def test_a_rejected_refresh_is_a_refresh_rejected(step1, step3):
    """The manager tells a dead refresh token from a network error by this type alone."""
    config = config_for_github_com(step1)
    old = Token(access_token="gho_a_iiii", refresh_token="ghr_a_jjjj", issuer=config.server_url,
                resource=config.api_url)
    with responses.RequestsMock() as mock:
        mock.post(config.token_url, json={"error": "bad_refresh_token"})
        with pytest.raises(RefreshRejected):
            token_manager.refresh_github_token(config)(old)


# -- tools/check_defences.py stays usable: each defence it removes can still be found ------------

def test_every_defence_check_finds_its_code_and_names_tests_that_exist():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("check_defences", ROOT / "tools" / "check_defences.py")
    check_defences = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_defences)
    for removal in check_defences.REMOVALS:
        places = check_defences.find_anchor(ROOT, removal.anchor)
        assert len(places) == 1, f"{removal.defence}: {removal.anchor} is defined {len(places)} times"
        path, first, last = places[0]
        inside = "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[first - 1:last])
        assert inside.count(removal.present) == 1, f"{removal.defence}: its code is not once in {removal.anchor}"
        for node_id in removal.tests:
            file, name = node_id.split("::")
            assert name.split("[")[0] in functions_defined_in(ROOT / file), f"{removal.defence}: no test {node_id}"


@functools.lru_cache(maxsize=None)
def functions_defined_in(path) -> set[str]:
    import ast

    return {node.name for node in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(node, ast.FunctionDef)}

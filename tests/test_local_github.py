"""The local stand-in behaves like github.com, quirks included, and tells a reader what to do with it.

GitHub's side: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
and the REST API's docs (https://docs.github.com/en/rest). The tests' stand-in carries the test marker
(tests/helpers/marked_stand_in.py); the reader's, started by `python local_github.py`, carries none.
"""

import ast
import json
import os
import re
import signal
import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from stand_in.cli import next_steps
from stand_in.oauth import redirect_is_allowed, s256
import stand_in.server
import stand_in.settings
from tests.helpers.marked_stand_in import SECRET_MARKER, LocalGitHub, Settings
from tests.conftest import ROOT
from tests.helpers import fetch, read_until

STAND_IN = "local_github.py"
LAST_LINE = "token_manager.py --refresh"  # the last thing the stand-in says before it serves

VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def authorize(github, **overrides):
    params = {"response_type": "code", "client_id": github.settings.client_id,
              "redirect_uri": "http://127.0.0.1:4000/callback",
              "scope": "read:user", "state": "s1", "code_challenge": s256(VERIFIER), "code_challenge_method": "S256"}
    params = {k: v for k, v in {**params, **overrides}.items() if v is not None}
    return fetch(f"{github.url}/login/oauth/authorize?{urlencode(params)}")


def code_from(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


def exchange(github, code, **overrides):
    return post_exchange(github, code, **overrides).json()


def post_exchange(github, code, **overrides):
    form = {"grant_type": "authorization_code", "client_id": github.settings.client_id,
            "client_secret": github.settings.client_secret, "code": code,
            "redirect_uri": "http://127.0.0.1:4000/callback", "code_verifier": VERIFIER, **overrides}
    form = {k: v for k, v in form.items() if v is not None}
    return requests.post(f"{github.url}/login/oauth/access_token", data=form,
                         headers={"Accept": "application/json"}, timeout=10)


@pytest.fixture
def strict_github():
    with LocalGitHub(Settings(approval="auto", strict=True)) as server:
        yield server


@pytest.mark.parametrize("given, allowed", [
    ("http://127.0.0.1/callback", True),
    ("http://127.0.0.1:1234/callback", True),  # any port on loopback
    ("http://127.0.0.1:1234/callback/sub", True),  # a subdirectory (legacy wildcard matching)
    ("http://localhost:1234/callback", False),  # host must match
    ("http://127.0.0.1:1234/other", False),
    ("https://127.0.0.1/callback", False),
])
def test_redirect_rules(given, allowed):
    assert redirect_is_allowed("http://127.0.0.1/callback", given) is allowed


def test_approval_redirects_with_code_and_the_state_it_was_sent(github):
    status, _, headers = authorize(github)
    assert status == 302
    query = parse_qs(urlsplit(headers["Location"]).query)
    assert query["state"] == ["s1"]
    assert query["code"]


def test_state_is_echoed_only_when_sent(github):
    _, _, headers = authorize(github, state=None)
    assert "state" not in parse_qs(urlsplit(headers["Location"]).query)


def test_a_foreign_redirect_uri_gets_a_warning_page_not_a_redirect(github):
    status, body, headers = authorize(github, redirect_uri="http://127.0.0.1:4000/elsewhere")
    assert status == 200
    assert "Location" not in headers
    assert "redirect_uri is not associated with this application" in body


@pytest.mark.parametrize("overrides", [{"code_challenge_method": "plain"}, {"code_challenge_method": None}])
def test_pkce_must_be_s256_and_complete(github, overrides):
    assert authorize(github, **overrides)[0] == 400


def test_a_code_works_once(github):
    code = code_from(authorize(github)[2]["Location"])
    assert exchange(github, code)["access_token"].startswith("gho_")
    assert exchange(github, code)["error"] == "bad_verification_code"


def test_a_wrong_verifier_spends_the_code(github):
    code = code_from(authorize(github)[2]["Location"])
    assert exchange(github, code, code_verifier="x" * 43)["error"] == "bad_verification_code"
    assert exchange(github, code)["error"] == "bad_verification_code"


def test_an_expired_code_is_refused(github):
    code = code_from(authorize(github)[2]["Location"])
    github.codes[code].expires_at = 0
    assert exchange(github, code)["error"] == "bad_verification_code"


def test_a_code_is_bound_to_its_redirect_uri(github):
    code = code_from(authorize(github)[2]["Location"])
    assert exchange(github, code, redirect_uri="http://127.0.0.1:9/x")["error"] == "redirect_uri_mismatch"


def test_scopes_come_back_comma_separated_and_normalised(github):
    code = code_from(authorize(github, scope="user gist user:email")[2]["Location"])
    assert exchange(github, code)["scope"] == "user,gist"


def test_xml_when_asked(github):
    answer = requests.post(f"{github.url}/login/oauth/access_token",
                           data={"client_id": github.settings.client_id, "client_secret": "wrong", "code": "x"},
                           headers={"Accept": "application/xml"}, timeout=10)
    assert answer.text.startswith("<OAuth><error>incorrect_client_credentials</error>")


def test_api_refuses_a_request_without_user_agent(github):
    assert fetch(f"{github.api_url}/user")[0] == 403


def test_api_refuses_an_unknown_version(github):
    status, body, _ = fetch(f"{github.api_url}/user", headers={"User-Agent": "t", "X-GitHub-Api-Version": "1999-01-01"})
    assert status == 400


def test_api_bad_credentials_body_is_githubs(github):
    status, body, _ = fetch(f"{github.api_url}/user", headers={"User-Agent": "t", "Authorization": "Bearer nope"})
    assert status == 401
    assert json.loads(body) == {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                                "status": "401"}  # the status is a string, as GitHub sends it


def test_api_pages_with_link_and_answers_304_to_a_matching_etag(github):
    token = github.grant_tokens(("repo",))["access_token"]
    headers = {"User-Agent": "t", "Authorization": f"token {token}"}
    status, _, first = fetch(f"{github.api_url}/user/repos?per_page=2", headers=headers)
    assert status == 200
    assert 'rel="next"' in first["Link"]
    assert "per_page=2" in first["Link"]
    assert first["X-OAuth-Scopes"] == "repo"
    assert first["X-RateLimit-Remaining"] == "4999"
    again = fetch(f"{github.api_url}/user/repos?per_page=2", headers={**headers, "If-None-Match": first["ETag"]})
    assert again[0] == 304


def test_script_prints_the_variables_to_point_the_steps_at_it(runner):
    process = runner.start(STAND_IN, "--port", "0", "--auto-approve")
    exports = dict(re.findall(r"export (\w+)=(\S+)", read_until(process.stdout, LAST_LINE)))
    assert set(exports) == {"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "GITHUB_SERVER_URL"}
    server, client_id = exports["GITHUB_SERVER_URL"], exports["GITHUB_CLIENT_ID"]
    assert fetch(f"{server}/login/oauth/authorize?client_id={client_id}")[0] == 302


# -- the stand-in as a reader starts it ----------------------------------------------------------

def readers_stand_in(**settings) -> stand_in.server.LocalGitHub:
    """The stand-in with the package's own defaults, as `python local_github.py` builds it (the tests'
    autouse fixture swaps stand_in.Settings for the marked one, so the module's class is named here)."""
    return stand_in.server.LocalGitHub(stand_in.settings.Settings(**settings))


def test_a_reader_who_starts_the_stand_in_sees_no_test_marker(runner):
    process = runner.start(STAND_IN, "--port", "0", "--auto-approve", "--expiring")
    printed = read_until(process.stdout, LAST_LINE)
    exports = dict(re.findall(r"export (\w+)=(\S+)", printed))
    assert exports["GITHUB_CLIENT_SECRET"] == "local-stand-in-client-secret"
    status, _, headers = fetch(f"{exports['GITHUB_SERVER_URL']}/login/oauth/authorize?client_id="
                               f"{exports['GITHUB_CLIENT_ID']}&redirect_uri=http://127.0.0.1:4000/callback")
    code = code_from(headers["Location"])
    answer = requests.post(f"{exports['GITHUB_SERVER_URL']}/login/oauth/access_token", timeout=10, data={
        "client_id": exports["GITHUB_CLIENT_ID"], "client_secret": exports["GITHUB_CLIENT_SECRET"], "code": code},
        headers={"Accept": "application/json"}).json()
    assert status == 302
    for seen in (printed, code, answer["access_token"], answer["refresh_token"]):
        assert SECRET_MARKER not in seen


def test_the_readers_secrets_are_plain_random_values_of_githubs_lengths():
    with readers_stand_in(approval="auto", expiring=True) as github:
        answer = github.grant_tokens(("repo",))
        device_code = start_device_flow(github)["device_code"]
    assert re.fullmatch(r"gho_[A-Za-z0-9]{36}", answer["access_token"])
    assert re.fullmatch(r"ghr_[A-Za-z0-9]{76}", answer["refresh_token"])
    assert re.fullmatch(r"[0-9a-f]{40}", device_code)
    assert github.settings.client_secret == "local-stand-in-client-secret"


def test_a_marker_goes_into_every_secret_and_keeps_githubs_lengths():
    with LocalGitHub(Settings(approval="auto", expiring=True)) as github:
        answer = github.grant_tokens(("repo",))
        device_code = start_device_flow(github)["device_code"]
        code = code_from(authorize(github)[2]["Location"])
    assert re.fullmatch(rf"gho_{SECRET_MARKER}[A-Za-z0-9]{{30}}", answer["access_token"])
    assert re.fullmatch(rf"ghr_{SECRET_MARKER}[A-Za-z0-9]{{70}}", answer["refresh_token"])
    assert re.fullmatch(rf"{SECRET_MARKER}[0-9a-f]{{34}}", device_code)
    assert code.startswith(SECRET_MARKER)
    assert SECRET_MARKER in github.settings.client_secret


def test_it_says_what_to_run_next_in_the_chapters_order():
    with readers_stand_in() as github:
        said = next_steps(github)
    lines = said.splitlines()
    steps = [said.index(f"python {script}") for script in
             ("1_authorization_url.py", "2_callback_exchange.py", "3_github_request.py")]
    assert steps == sorted(steps)
    assert f"python device_flow.py: open {github.url}/login/device and type the code it shows." in lines
    assert "python token_manager.py --refresh needs tokens that expire: start the stand-in with --expiring." in lines
    assert len(lines) <= 16  # read in a terminal: short, and narrow enough for one
    assert max(map(len, lines)) <= 100


def test_with_expiring_tokens_and_auto_approval_it_says_so():
    with readers_stand_in(expiring=True, approval="auto") as github:
        lines = next_steps(github).splitlines()
    assert "python device_flow.py: --auto-approve approves its code at the second poll." in lines
    assert any(line.startswith("python token_manager.py --refresh: tokens expire here (--expiring)") for line in lines)
    assert not any("start the stand-in with --expiring" in line for line in lines)


def test_ctrl_c_stops_it_quietly(runner):
    process = runner.start(STAND_IN, "--port", "0")
    read_until(process.stdout, LAST_LINE)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.strip() == "Stopped."
    assert err == ""


def test_ctrl_c_after_head_has_closed_its_output_is_quiet_too(runner):
    """`python local_github.py | head -1`: head is gone long before the reader presses Ctrl-C."""
    process = runner.start(STAND_IN, "--port", "0")
    read_until(process.stdout, LAST_LINE)
    process.stdout.close()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == ""  # no traceback, and no "Exception ignored" at exit


def test_an_output_closed_before_it_speaks_stops_it_quietly(runner):
    reading_end, writing_end = os.pipe()
    os.close(reading_end)
    try:
        process = subprocess.Popen([sys.executable, str(ROOT / STAND_IN), "--port", "0"], stdout=writing_end,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=runner.env,
                                   cwd=runner.cwd)
    finally:
        os.close(writing_end)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1  # as Python itself exits when its output pipe is closed
    assert err == ""


def test_main_can_still_be_imported_from_the_launcher(capsys):
    from local_github import main

    with LocalGitHub() as busy:
        assert main(["--port", str(busy.port)]) == 1
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def test_the_launcher_is_short_and_the_package_imports_in_one_direction():
    assert len((ROOT / STAND_IN).read_text(encoding="utf-8").splitlines()) <= 40
    order = ["settings", "oauth", "device", "rest_api", "server", "cli"]
    for path in sorted((ROOT / "stand_in").glob("*.py")):
        imported = imported_modules(path)
        assert "local_github" not in imported, path.name
        if path.stem in order:  # each module imports only those before it: no cycle, even for a type checker
            later = {f"stand_in.{name}" for name in order[order.index(path.stem):]}
            assert not imported & later, f"{path.name} imports {sorted(imported & later)}"


def imported_modules(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


# -- the issuer in the callback (RFC 9207), as github.com sends it -------------------------------

def test_every_callback_names_the_issuer_as_github_does(github):
    approved = parse_qs(urlsplit(authorize(github)[2]["Location"]).query)
    assert approved["iss"] == [f"{github.url}/login/oauth"]


def test_a_denied_request_names_the_issuer_too():
    with LocalGitHub(Settings(approval="deny")) as github:
        denied = parse_qs(urlsplit(authorize(github)[2]["Location"]).query)
    assert denied["error"] == ["access_denied"]
    assert denied["iss"] == [f"{github.url}/login/oauth"]


def test_an_older_server_sends_no_issuer():
    with LocalGitHub(Settings(approval="auto", issuer=None)) as github:
        assert "iss" not in parse_qs(urlsplit(authorize(github)[2]["Location"]).query)


# -- the strict mode: what RFC 6749 and 7636 require and GitHub forgives -------------------------

def test_github_takes_an_exchange_without_grant_type(github):
    code = code_from(authorize(github)[2]["Location"])
    assert exchange(github, code, grant_type=None)["access_token"]


def test_strict_refuses_an_exchange_without_grant_type_with_http_400(strict_github):
    code = code_from(authorize(strict_github)[2]["Location"])
    answer = post_exchange(strict_github, code, grant_type=None)
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:4001/callback", None])
def test_strict_wants_the_authorize_requests_redirect_uri_exactly(strict_github, redirect_uri):
    code = code_from(authorize(strict_github)[2]["Location"])
    answer = post_exchange(strict_github, code, redirect_uri=redirect_uri)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_github_takes_an_exchange_without_redirect_uri(github):
    code = code_from(authorize(github)[2]["Location"])
    assert exchange(github, code, redirect_uri=None)["access_token"]


@pytest.mark.parametrize("server", ["github", "strict"])
def test_a_missing_verifier_is_refused_when_a_challenge_was_sent(server, github, strict_github):
    server = github if server == "github" else strict_github
    code = code_from(authorize(server)[2]["Location"])
    assert exchange(server, code, code_verifier=None)["error"] in ("bad_verification_code", "invalid_grant")


def test_strict_refuses_a_repeated_parameter_at_the_token_endpoint(strict_github):
    code = code_from(authorize(strict_github)[2]["Location"])
    body = urlencode({"grant_type": "authorization_code", "client_id": strict_github.settings.client_id,
                      "client_secret": strict_github.settings.client_secret, "code": code,
                      "redirect_uri": "http://127.0.0.1:4000/callback", "code_verifier": VERIFIER})
    answer = requests.post(f"{strict_github.url}/login/oauth/access_token", data=body + f"&code={code}", timeout=10,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_strict_refuses_a_repeated_parameter_at_the_authorize_endpoint(strict_github):
    params = urlencode({"response_type": "code", "client_id": strict_github.settings.client_id,
                        "redirect_uri": "http://127.0.0.1:4000/callback", "state": "s1"})
    status, _, headers = fetch(f"{strict_github.url}/login/oauth/authorize?{params}&state=s2")
    assert status == 400
    assert "Location" not in headers


def test_strict_wants_response_type_code(strict_github):
    status, _, headers = authorize(strict_github, response_type=None)
    query = parse_qs(urlsplit(headers["Location"]).query)
    assert status == 302
    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == ["s1"]


def test_strict_answers_bad_credentials_with_401_invalid_client(strict_github):
    code = code_from(authorize(strict_github)[2]["Location"])
    answer = post_exchange(strict_github, code, client_secret="wrong")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_strict_answers_json_even_to_a_client_that_asks_for_nothing(strict_github):
    code = code_from(authorize(strict_github)[2]["Location"])
    answer = requests.post(f"{strict_github.url}/login/oauth/access_token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": strict_github.settings.client_id,
        "client_secret": strict_github.settings.client_secret, "code": code,
        "redirect_uri": "http://127.0.0.1:4000/callback", "code_verifier": VERIFIER})
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["access_token"]


# -- the device flow, as GitHub runs it -----------------------------------------------------------

def start_device_flow(github):
    return requests.post(f"{github.url}/login/device/code", data={"client_id": github.settings.client_id,
                         "scope": "read:user"}, headers={"Accept": "application/json"}, timeout=10).json()


def poll(github, device_code):
    return requests.post(f"{github.url}/login/oauth/access_token", headers={"Accept": "application/json"}, data={
        "client_id": github.settings.client_id, "device_code": device_code,
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code"}, timeout=10).json()


def test_the_device_code_answer_is_githubs():
    with LocalGitHub(Settings()) as github:
        answer = start_device_flow(github)
    assert len(answer["device_code"]) == 40
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", answer["user_code"])
    assert answer["verification_uri"] == f"{github.url}/login/device"
    assert (answer["expires_in"], answer["interval"]) == (900, 5)


def test_polling_faster_than_the_interval_gets_slow_down_and_five_more_seconds():
    with LocalGitHub(Settings(approval="ask")) as github:
        device_code = start_device_flow(github)["device_code"]
        assert poll(github, device_code)["error"] == "authorization_pending"
        answer = poll(github, device_code)  # at once, not 5 s later
    assert answer["error"] == "slow_down"
    assert answer["interval"] == 10


def test_a_person_approves_a_code_on_the_device_page_and_no_secret_is_needed():
    with LocalGitHub(Settings(approval="ask", device_interval=0)) as github:
        answer = start_device_flow(github)
        page = requests.post(f"{github.url}/login/device", timeout=10,
                             data={"user_code": answer["user_code"].lower(), "decision": "authorize"})
        token = poll(github, answer["device_code"])
    assert page.status_code == 200
    assert "Device connected" in page.text
    assert token["access_token"].startswith("gho_")


def test_the_device_flow_can_be_disabled_like_the_apps_checkbox():
    with LocalGitHub(Settings(device_flow=False)) as github:
        answer = requests.post(f"{github.url}/login/device/code", data={"client_id": github.settings.client_id},
                               headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"] == "device_flow_disabled"

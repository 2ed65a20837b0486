"""Any standard OAuth server, not only GitHub: its published metadata (RFC 8414) and its own issuer,
the `iss` it promises (RFC 9207), revocation that is never claimed when it did not happen (RFC 7009 or
GitHub's route), HTTP Basic for a server that takes nothing else, and a login that keeps its app, so
that the tool works from any folder."""

import base64
import json
import time
from urllib.parse import unquote_plus

import pytest
import requests
import responses

import support.api_http
import support.metadata
import support.revocation
from support.endpoints import ServerEndpoints, endpoint_problem
from support.errors import AuthError
from support.metadata import discover, fetch_document, metadata_urls
from support.token import Token
from support.token_endpoint import basic_authorization, post_to_token_endpoint
from tests.helpers import APP_SETTINGS, one_clean_line, read_saved, write_saved
from tests.helpers.authlib_server import AuthlibGitHub
from tests.helpers.marked_stand_in import LocalGitHub, Settings
import token_manager

STAND_IN_METADATA = "/.well-known/oauth-authorization-server/login/oauth"


def document_for(server, **changes) -> str:
    """The stand-in's own metadata, with `changes`: for a server that publishes something else."""
    return json.dumps({**server.metadata_document(), **changes})


def api_user(server, token: str) -> int:
    """What the server's API answers to `token` now: 200 while it works, 401 once revoked."""
    return requests.get(f"{server.api_url}/user", timeout=10,
                        headers={"Authorization": f"Bearer {token}", "User-Agent": "test"}).status_code


# -- 1. the server's metadata (RFC 8414) -------------------------------------------------------------

@pytest.mark.parametrize("issuer, urls", [
    ("https://github.com/login/oauth", ["https://github.com/.well-known/oauth-authorization-server/login/oauth",
                                        "https://github.com/login/oauth/.well-known/oauth-authorization-server"]),
    ("https://auth.example.com/o/", ["https://auth.example.com/.well-known/oauth-authorization-server/o",
                                     "https://auth.example.com/o/.well-known/oauth-authorization-server"]),
    ("https://auth.example.com", ["https://auth.example.com/.well-known/oauth-authorization-server"]),
])
def test_metadata_is_looked_for_at_the_path_inserted_address_first(issuer, urls):
    assert metadata_urls(issuer) == urls  # RFC 8414 §3.1, then where several servers publish it


def test_login_reads_the_stand_ins_metadata_and_keeps_it_with_the_login(cli, github, token_path):
    assert cli.point_at(github).run("login").returncode == 0
    assert github.counters.metadata_requests == 1
    endpoints = read_saved(token_path)["endpoints"]
    assert endpoints["published"] is True
    assert endpoints["issuer"] == f"{github.url}/login/oauth"
    assert endpoints["token_endpoint"] == f"{github.url}/login/oauth/access_token"


def test_status_repos_and_a_refresh_ask_for_no_metadata(cli, expiring_github, token_path):
    cli.point_at(expiring_github).run("login")
    write_saved(token_path, {**read_saved(token_path), "expires_at": time.time() - 1})
    assert cli.run("repos").returncode == 0
    assert cli.run("status").returncode == 0
    assert expiring_github.counters.refreshes == 1
    assert expiring_github.counters.metadata_requests == 1  # the login's, and no other


def test_without_metadata_a_login_uses_githubs_fixed_paths(cli, token_path):
    with LocalGitHub(Settings(approval="auto", publishes_metadata=False)) as github:
        result = cli.point_at(github).run("login")
    assert result.returncode == 0, result.stderr
    endpoints = read_saved(token_path)["endpoints"]
    assert endpoints["published"] is False
    assert endpoints["token_endpoint"] == f"{github.url}/login/oauth/access_token"


def test_a_web_page_where_the_metadata_would_be_counts_as_none(cli, github, token_path):
    github.fail_next("/.well-known/", 200, "<html>Welcome</html>")  # a catch-all route, a captive portal
    assert cli.point_at(github).run("login").returncode == 0
    assert read_saved(token_path)["endpoints"]["published"] is False


def test_metadata_naming_another_issuer_is_refused_before_anything_is_sent(cli, github):
    github.fail_next(STAND_IN_METADATA, 200, document_for(github, issuer="https://evil.example/login/oauth"),
                     "application/json")
    result = cli.point_at(github).run("login")
    assert one_clean_line(result)
    assert f"names 'https://evil.example/login/oauth', not the issuer {github.url}/login/oauth" in result.stderr
    assert "GITHUB_ISSUER" in result.stderr
    assert "Open this URL" not in result.stdout
    assert github.counters.token_requests == 0


def test_a_metadata_endpoint_over_http_to_another_host_is_refused(cli, github):
    github.fail_next(STAND_IN_METADATA, 200, document_for(github, token_endpoint="http://evil.example/token"),
                     "application/json")
    result = cli.point_at(github).run("login")
    assert one_clean_line(result)
    assert "its token_endpoint uses http://" in result.stderr
    assert github.counters.token_requests == 0


@pytest.mark.parametrize("url, usable", [
    ("https://auth.example.com/token", True),  # https may be on another host than the issuer
    ("http://127.0.0.1:5000/o/token", True),  # the issuer's own origin, on this machine
    ("http://127.0.0.1:5001/o/token", False),  # another origin in clear text
    ("http://evil.example/token", False),
    ("https://auth.example.com/token#x", False),  # RFC 6749 §3.2: no fragment
    ("https://user:pw@auth.example.com/token", False),
    (42, False),
])
def test_a_published_endpoint_must_be_https_or_on_the_issuers_own_origin(url, usable):
    assert (endpoint_problem(url, "http://127.0.0.1:5000/o") is None) == usable


@responses.activate
def test_a_metadata_redirect_to_another_origin_is_not_followed():
    responses.get("https://ghe.example.com/.well-known/oauth-authorization-server/login/oauth", status=302,
                  headers={"Location": "https://evil.example/metadata"})
    assert fetch_document("https://ghe.example.com/.well-known/oauth-authorization-server/login/oauth") is None
    assert [call.request.url for call in responses.calls] == [
        "https://ghe.example.com/.well-known/oauth-authorization-server/login/oauth"]


@responses.activate
def test_a_metadata_redirect_on_the_same_origin_is_followed():
    responses.get("https://ghe.example.com/.well-known/x", status=301, headers={"Location": "/.well-known/x/"})
    responses.get("https://ghe.example.com/.well-known/x/", json={"issuer": "https://ghe.example.com"})
    assert fetch_document("https://ghe.example.com/.well-known/x") == {"issuer": "https://ghe.example.com"}


@responses.activate
def test_an_answer_too_big_to_be_metadata_is_none():
    responses.get("https://ghe.example.com/.well-known/x", body=b'{"issuer": "' + b"x" * 200_000 + b'"}')
    assert fetch_document("https://ghe.example.com/.well-known/x") is None


def test_every_metadata_fetch_has_a_timeout(monkeypatch):
    seen = {}

    def get(url, **options):
        seen.update(options)
        raise requests.Timeout("slow")

    monkeypatch.setattr(support.metadata.requests, "get", get)
    assert fetch_document("https://ghe.example.com/.well-known/oauth-authorization-server/login/oauth") is None
    assert all(part > 0 for part in seen["timeout"])
    assert seen["allow_redirects"] is False


def test_github_issuer_is_kept_exactly_as_written(step1):
    # RFC 9207 §2.4 compares `iss` character for character: a trailing "/" is part of the issuer.
    config = step1.load_config(env={**APP_SETTINGS, "GITHUB_ISSUER": "https://auth.example.com/"})
    assert config.issuer == "https://auth.example.com/"


def test_another_host_never_takes_the_issuer_set_for_github_server_url(step1):
    env = {**APP_SETTINGS, "GITHUB_SERVER_URL": "https://auth.example.com",
           "GITHUB_ISSUER": "https://auth.example.com/o"}
    config = step1.load_config(env=env, server_url="https://ghe.example.com", require_secret=False)
    assert config.issuer == "https://ghe.example.com/login/oauth"


def test_the_metadata_may_be_appended_to_the_issuer_instead(cli, token_path):
    with AuthlibGitHub(metadata_at="appended") as authlib:
        result = cli.point_at(authlib).run("login")
    assert result.returncode == 0, result.stderr
    assert read_saved(token_path)["endpoints"]["token_endpoint"] == f"{authlib.url}/o/token"


def test_step_2s_script_reads_the_metadata_too(runner, token_path):
    with AuthlibGitHub() as authlib:  # nothing at GitHub's paths: only its metadata says where to go
        result = runner.point_at(authlib).run("2_callback_exchange.py", "--timeout", "30")
    assert result.returncode == 0, result.stderr
    assert read_saved(token_path)["endpoints"]["issuer"] == f"{authlib.url}/o"


# -- 2. the callback's `iss` (RFC 9207) ---------------------------------------------------------------

def test_a_callback_without_iss_is_refused_when_the_metadata_promises_it(runner):
    with AuthlibGitHub(names_itself=False) as authlib:
        result = runner.point_at(authlib).run("dev_github_tool.py", "login", "--timeout", "30")
    assert one_clean_line(result)
    assert "the callback names no issuer" in result.stderr
    assert authlib.counters.token_requests == 0


def test_github_com_must_name_itself_in_the_callback(step1, step2):
    config = step1.load_config(env=APP_SETTINGS)  # github.com: no metadata read, GitHub's paths
    request = step1.prepare_authorization_request(config, "http://127.0.0.1:5000/callback")
    with responses.RequestsMock():  # a request to the token endpoint would fail this test
        with pytest.raises(AuthError, match="the callback names no issuer, though GitHub names itself"):
            step2.finish_sign_in(config, request, step2.CallbackResult(code="the-code"))


def test_a_callback_is_checked_against_the_issuer_the_server_publishes(cli):
    with AuthlibGitHub() as authlib:  # issuer <server>/o, as its metadata and its callbacks say
        result = cli.point_at(authlib).run("login", "--explain")
    assert result.returncode == 0, result.stderr
    assert f"It named {authlib.url}/o as its issuer" in result.stdout


# -- 3. revocation: RFC 7009, or GitHub's route, and never a claim that did not happen ----------------

def test_logout_at_an_rfc_7009_server_ends_the_refresh_token_too(cli, token_path):
    with AuthlibGitHub() as authlib:
        cli.point_at(authlib).run("login")
        saved = read_saved(token_path)
        assert cli.run("logout").returncode == 0
        reuse = requests.post(saved["endpoints"]["token_endpoint"], timeout=10, data={
            "grant_type": "refresh_token", "refresh_token": saved["refresh_token"]},
            headers={"Authorization": basic_authorization(saved["client_id"], saved["client_secret"])})
        assert api_user(authlib, saved["access_token"]) == 401
    assert reuse.json()["error"] == "invalid_grant"


def test_a_404_page_from_a_server_without_githubs_route_is_not_revoked(cli, token_path):
    with AuthlibGitHub(revocation_endpoint=False) as authlib:  # no RFC 7009 endpoint, no GitHub route
        cli.point_at(authlib).run("login")
        token = read_saved(token_path)["access_token"]
        result = cli.run("logout")
        still = api_user(authlib, token)
    assert one_clean_line(result)
    assert "Revoked" not in result.stdout
    assert "answered HTTP 404 (text/html, not GitHub's JSON), so the token was not revoked" in result.stderr
    assert f"revoke it at 127.0.0.1:{authlib.server.server_port}, on its page of the applications" in result.stderr
    assert still == 200  # it really still works: the message told the truth


def test_a_replaced_token_is_not_claimed_revoked_on_a_server_without_a_way_to(cli):
    with AuthlibGitHub(revocation_endpoint=False) as authlib:
        cli.point_at(authlib).run("login")
        forced = cli.run("login", "--force")
    assert forced.returncode == 0
    assert "Revoked the token this login replaced" not in forced.stdout
    assert "Note: the token this sign-in replaced was not revoked" in forced.stdout


def github_com_token(config) -> Token:
    return Token(access_token="gho_revoke_me_cccc", issuer=config.server_url, resource=config.api_url)


@pytest.mark.parametrize("status, body, content_type, revoked", [
    (204, "", "application/json", True),
    (404, '{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}', "application/json", True),
    (422, '{"message": "Validation Failed"}', "application/json", True),
    (404, "<html>Not Found</html>", "text/html", False),  # a server without GitHub's route
    (404, '{"detail": "Not found."}', "application/json", False),  # JSON, but not GitHub's
])
@responses.activate
def test_only_204_or_githubs_own_json_404_or_422_count_as_revoked(step1, status, body, content_type, revoked):
    config = step1.load_config(env=APP_SETTINGS)
    responses.delete(f"{config.api_url}/applications/{config.client_id}/token", status=status, body=body,
                     content_type=content_type)
    revoke = token_manager.revoke_github_token(config)
    if revoked:
        revoke(github_com_token(config))
    else:
        with pytest.raises(AuthError, match="answered HTTP 404"):
            revoke(github_com_token(config))


@responses.activate
def test_a_token_is_revoked_as_the_app_it_was_issued_to(step1):
    config = step1.load_config(env=APP_SETTINGS)  # the settings now name another app
    token = github_com_token(config)._replace(client_id="Ov23liOtherApp", client_secret="other-app-secret")
    responses.delete(f"{config.api_url}/applications/Ov23liOtherApp/token", status=204)
    token_manager.revoke_github_token(config)(token)
    assert responses.calls[0].request.headers["Authorization"] == \
        "Basic " + base64.b64encode(b"Ov23liOtherApp:other-app-secret").decode()


def rfc_7009_config(step1):
    config = step1.load_config(env={**APP_SETTINGS, "GITHUB_SERVER_URL": "https://auth.example.com"})
    return config._replace(endpoints=config.server._replace(revocation_endpoint="https://auth.example.com/revoke",
                                                            token_endpoint_auth_methods=("client_secret_basic",)))


@pytest.mark.parametrize("status, revoked", [(200, True), (503, False), (401, False)])
@responses.activate
def test_rfc_7009_counts_only_200_as_revoked(step1, status, revoked):
    config = rfc_7009_config(step1)
    responses.post("https://auth.example.com/revoke", status=status, json={} if status == 200 else {"error": "x"})
    revoke = token_manager.revoke_github_token(config)
    if revoked:
        revoke(github_com_token(config))
    else:
        with pytest.raises(AuthError, match=f"auth.example.com answered HTTP {status}"):
            revoke(github_com_token(config))


@responses.activate
def test_rfc_7009_sends_the_refresh_token_then_the_access_token_as_the_app(step1):
    config = rfc_7009_config(step1)
    responses.post("https://auth.example.com/revoke", json={})
    token = github_com_token(config)._replace(refresh_token="ghr_refresh_dddd")
    token_manager.revoke_github_token(config)(token)
    sent = [dict(pair.split("=") for pair in call.request.body.split("&")) for call in responses.calls]
    assert sent == [{"token": "ghr_refresh_dddd", "token_type_hint": "refresh_token"},
                    {"token": "gho_revoke_me_cccc", "token_type_hint": "access_token"}]
    assert all(call.request.headers["Authorization"].startswith("Basic ") for call in responses.calls)


@responses.activate
def test_rfc_7009_revocation_follows_no_redirect_and_has_a_timeout(step1, monkeypatch):
    config = rfc_7009_config(step1)
    responses.post("https://auth.example.com/revoke", status=307, headers={"Location": "https://evil.example/x"})
    with pytest.raises(AuthError, match="answered HTTP 307"):
        token_manager.revoke_github_token(config)(github_com_token(config))
    assert [call.request.url for call in responses.calls] == ["https://auth.example.com/revoke"]
    seen = {}

    def post(url, **options):
        seen.update(options)
        raise requests.ConnectionError("offline")

    monkeypatch.setattr(support.revocation.requests, "post", post)
    with pytest.raises(AuthError, match="cannot reach auth.example.com"):
        token_manager.revoke_github_token(config)(github_com_token(config))
    assert all(part > 0 for part in seen["timeout"])
    assert seen["allow_redirects"] is False


# -- 4. client authentication ------------------------------------------------------------------------

def test_basic_authorization_form_url_encodes_the_id_and_the_secret():
    header = basic_authorization("id:with colon", "se:cret %2F+/")
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    assert decoded == "id%3Awith+colon:se%3Acret+%252F%2B%2F"  # RFC 6749 §2.3.1, Appendix B
    username, password = decoded.split(":")
    assert (unquote_plus(username), unquote_plus(password)) == ("id:with colon", "se:cret %2F+/")


@pytest.mark.parametrize("methods, basic", [(("client_secret_basic",), True), ((), False),
                                            (("client_secret_basic", "client_secret_post"), False)])
@responses.activate
def test_the_secret_goes_as_basic_only_to_a_server_that_takes_nothing_else(step1, methods, basic):
    config = step1.load_config(env=APP_SETTINGS)
    config = config._replace(endpoints=config.server._replace(token_endpoint_auth_methods=methods))
    responses.post(config.token_url, json={"access_token": "gho_fake_eeee", "token_type": "bearer"})
    post_to_token_endpoint(config, {"grant_type": "authorization_code", "code": "c"}, "step 2 (token exchange)")
    sent = responses.calls[0].request
    assert ("Authorization" in sent.headers) == basic
    assert ("client_secret=" in sent.body) == (not basic)  # never both (RFC 6749 §2.3.1)


# -- 5. a login keeps its app: any folder, each host's secret to that host ----------------------------

def leave_for_a_folder_without_settings(cli, tmp_path):
    """cd elsewhere: no .env there, and no GITHUB_* variables in the environment."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cli.runner.cwd = elsewhere
    for name in [name for name in cli.runner.env if name.startswith("GITHUB_")]:
        del cli.runner.env[name]


def log_in_with_a_dotenv(cli, server) -> None:
    settings = "".join(f"{name}={value}\n" for name, value in server.environment().items())
    (cli.runner.cwd / ".env").write_text(settings)
    assert cli.run("login").returncode == 0


def test_status_and_repos_work_from_a_folder_without_dotenv(cli, github, tmp_path):
    log_in_with_a_dotenv(cli, github)
    leave_for_a_folder_without_settings(cli, tmp_path)
    status = cli.run("status", "--hostname", f"127.0.0.1:{github.port}")
    assert status.returncode == 0, status.stderr
    assert "Logged in as octocat" in status.stdout
    repos = cli.run("repos", "--hostname", f"127.0.0.1:{github.port}")
    assert repos.returncode == 0, repos.stderr


def test_a_refresh_and_logout_from_a_folder_without_dotenv_use_the_logins_app(cli, tmp_path, token_path):
    with AuthlibGitHub() as authlib:  # Basic only, its own endpoints: nothing of this is in the environment
        log_in_with_a_dotenv(cli, authlib)
        write_saved(token_path, {**read_saved(token_path), "expires_at": time.time() - 1})
        leave_for_a_folder_without_settings(cli, tmp_path)
        hostname = f"127.0.0.1:{authlib.server.server_port}"
        repos = cli.run("repos", "--hostname", hostname)
        logout = cli.run("logout", "--hostname", hostname)
    assert repos.returncode == 0, repos.stderr
    assert authlib.counters.refreshes == 1
    assert logout.returncode == 0, logout.stderr
    assert authlib.counters.revocations == 1


def test_each_hosts_secret_goes_only_to_that_host(cli, token_path):
    with LocalGitHub(Settings(approval="auto", expiring=True)) as first, \
            LocalGitHub(Settings(approval="auto", client_id="Ov23liSecondApp", client_secret="second-CANARY-secret",
                                 login="hubot")) as second:
        cli.point_at(first).run("login")
        cli.point_at(second).run("login")
        data = json.loads(token_path.read_text())
        entry = data["tokens"][first.url]
        data["tokens"][first.url] = {**entry, "expires_at": time.time() - 1}
        token_path.write_text(json.dumps(data))
        # The settings now name the second host's app; the first host's refresh must use the first's.
        result = cli.run("repos", "--hostname", f"127.0.0.1:{first.port}")
    assert result.returncode == 0, result.stderr
    assert first.counters.refreshes == 1  # the first stand-in takes only its own app's secret


def test_an_old_login_without_its_app_works_and_keeps_it_from_the_next_refresh(cli, expiring_github, token_path):
    cli.point_at(expiring_github).run("login")
    saved = read_saved(token_path)
    old = {name: value for name, value in saved.items() if name not in ("client_id", "client_secret", "endpoints")}
    write_saved(token_path, {**old, "expires_at": time.time() - 1})  # as a tool before this one wrote it
    assert cli.run("repos").returncode == 0  # the settings in the environment still serve it
    migrated = read_saved(token_path)
    assert migrated["client_id"] == saved["client_id"]
    assert migrated["client_secret"] == saved["client_secret"]
    assert migrated["endpoints"]["token_endpoint"] == saved["endpoints"]["token_endpoint"]
    assert migrated["account"] == "octocat"  # nothing lost


def test_the_login_keeps_its_secret_in_the_private_file_only(cli, github, token_path):
    result = cli.point_at(github).run("login")
    assert read_saved(token_path)["client_secret"] == github.settings.client_secret
    assert oct(token_path.stat().st_mode & 0o777) == "0o600"
    assert github.settings.client_secret not in result.stdout + result.stderr
    assert github.settings.client_secret not in repr(Token.from_json(read_saved(token_path)))


def test_a_saved_login_with_unusable_endpoints_is_a_damaged_file(token_path):
    endpoints = ServerEndpoints("https://a.example/o", "https://a.example/o/authorize", "http://evil.example/token",
                                "https://a.example/o/device", published=True).to_json()
    with pytest.raises(ValueError, match="endpoints.token_endpoint uses http://"):
        Token.from_json({"access_token": "gho_x_ffff", "token_type": "bearer", "issuer": "https://a.example",
                         "resource": "https://a.example/api/v3", "scopes": [], "endpoints": endpoints})


# -- 6. the server's own name --------------------------------------------------------------------------

@pytest.mark.parametrize("url, name", [("https://api.github.com/user", "GitHub"),
                                       ("https://auth.example.com/api/v3/user", "auth.example.com")])
def test_an_api_failure_names_the_server_that_answered(step3, url, name):
    response = requests.Response()
    response.status_code, response.url = 401, url
    assert str(support.api_http.describe_failure(response)).startswith(f"step 3 (API request): {name} says Bad")


def test_a_failed_exchange_names_the_server_not_github(cli):
    with AuthlibGitHub() as authlib:
        result = cli.point_at(authlib).run("login", extra_env={"GITHUB_CLIENT_SECRET": "wrong"})
    assert one_clean_line(result)
    assert f"127.0.0.1:{authlib.server.server_port} says invalid_client" in result.stderr
    assert "GitHub says" not in result.stderr


# -- 7. the stand-in publishes GitHub-shaped metadata ------------------------------------------------

def test_the_stand_in_publishes_github_shaped_metadata_where_github_does(github):
    answer = requests.get(github.url + STAND_IN_METADATA, timeout=10)
    document = answer.json()
    assert answer.status_code == 200
    assert document["issuer"] == f"{github.url}/login/oauth"
    assert document["authorization_endpoint"] == f"{github.url}/login/oauth/authorize"
    assert "revocation_endpoint" not in document  # GitHub revokes through its REST API instead


def test_discovery_against_the_stand_in_gives_githubs_own_paths(step1, github):
    config = step1.load_config(env=github.environment())
    found = discover(config)
    assert found.server._replace(published=False) == config.server  # the same paths, now as published
    assert found.server.published is True

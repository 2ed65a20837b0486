"""The whole chapter, run as a reader runs it, against three authorization servers (`oauth_server`):
the stand-in as lenient as github.com, its strict RFC 6749/7636 mode, and Authlib, which nobody here
wrote. A client that works only thanks to GitHub's leniency fails here, and so does one that knows
only GitHub: Authlib has an issuer and endpoints of its own, found in its metadata (RFC 8414), takes
the client secret only as HTTP Basic, and revokes at an RFC 7009 endpoint.
"""

import base64
import hashlib
import json
import time
from urllib.parse import quote_plus

import requests

from support.token_store import TokenStore
from tests.helpers import TOOL, race_to_refresh, read_saved, write_saved


def log_in(cli, server):
    result = cli.point_at(server).run("login", "--timeout", "30")
    assert result.returncode == 0, result.stderr


def expire_saved_token(token_path) -> dict:
    saved = read_saved(token_path)
    write_saved(token_path, {**saved, "expires_at": time.time() - 1})
    return saved


def test_login_status_repos_logout(runner, cli, oauth_server, token_path):
    # A real subprocess, with BROWSER playing the browser, as a reader runs it.
    login = runner.point_at(oauth_server).run(TOOL, "login", "--timeout", "30", "--explain")
    assert login.returncode == 0, login.stderr
    assert "Logged in to" in login.stdout
    assert "as octocat" in login.stdout
    # Each server names itself in the callback, and the tool checked it (RFC 9207).
    assert f"It named {oauth_server.issuer} as its issuer" in login.stdout

    status = cli.point_at(oauth_server).run("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["user"] == "octocat"

    repos = cli.run("repos", "--json")
    assert repos.returncode == 0, repos.stderr
    assert [r["full_name"] for r in json.loads(repos.stdout)][:2] == ["octocat/project-001", "octocat/project-002"]

    token = read_saved(token_path)["access_token"]
    logout = cli.run("logout")
    assert logout.returncode == 0, logout.stderr
    assert oauth_server.counters.revocations == 1
    assert not token_path.exists()
    # The server itself now refuses the token: revoked, not merely forgotten here.
    answer = requests.get(f"{oauth_server.api_url}/user", timeout=10,
                          headers={"Authorization": f"Bearer {token}", "User-Agent": "test"})
    assert answer.status_code == 401


def test_an_expired_token_is_refreshed_and_the_old_refresh_token_is_dead(cli, oauth_server, token_path):
    log_in(cli, oauth_server)
    old = expire_saved_token(token_path)
    repos = cli.run("repos", "--json")
    assert repos.returncode == 0, repos.stderr
    assert oauth_server.counters.refreshes == 1
    new = read_saved(token_path)
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]
    # Rotation, checked by the server itself: the spent refresh token is refused.
    reuse = post_as_the_app(oauth_server, new["endpoints"], {"grant_type": "refresh_token",
                                                             "refresh_token": old["refresh_token"]})
    assert reuse.json()["error"] in ("bad_refresh_token", "invalid_grant")  # GitHub's code / RFC 6749 §5.2's


def post_as_the_app(oauth_server, endpoints: dict, form: dict) -> requests.Response:
    """POST to the token endpoint the login found, authenticated as that server takes it."""
    app = oauth_server.environment()
    client_id, secret = app["GITHUB_CLIENT_ID"], app["GITHUB_CLIENT_SECRET"]
    if endpoints["token_endpoint_auth_methods"] == ["client_secret_basic"]:
        pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()  # RFC 6749 §2.3.1
        headers, credentials = {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}, {}
    else:
        headers, credentials = {}, {"client_id": client_id, "client_secret": secret}
    return requests.post(endpoints["token_endpoint"], timeout=10, data={**credentials, **form},
                         headers={"Accept": "application/json", **headers})


def test_four_processes_with_an_expired_token_refresh_once(cli, oauth_server, token_path):
    # Four racers against each server (test_token_manager.py races eight against the stand-in).
    log_in(cli, oauth_server)
    expire_saved_token(token_path)
    handed_out = race_to_refresh(oauth_server.environment(), token_path, processes=4)
    saved = TokenStore(token_path).load()
    assert handed_out == {hashlib.sha256(saved.access_token.encode()).hexdigest()}
    assert oauth_server.counters.refreshes == 1

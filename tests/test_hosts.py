"""One login per host (gh's hosts model): one private file, an entry per server, --hostname on every command."""

import json

import pytest

import support.settings
from support.token import Token
from support.token_store import TokenStore
from tests.helpers.marked_stand_in import LocalGitHub, Settings
from tests.helpers import host, one_clean_line


@pytest.fixture(params=["github", "strict"])
def two_servers(request):
    """Two stand-ins: think github.com and a GitHub Enterprise Server."""
    strict = request.param == "strict"
    with LocalGitHub(Settings(approval="auto", strict=strict, device_interval=0)) as first, \
            LocalGitHub(Settings(approval="auto", strict=strict, login="hubot", device_interval=0)) as second:
        yield first, second


def saved_issuers(token_path) -> list[str]:
    return sorted(json.loads(token_path.read_text())["tokens"])


def test_logging_in_to_a_second_server_keeps_the_first(cli, two_servers, token_path):
    first, second = two_servers
    assert cli.point_at(first).run("login").returncode == 0
    assert cli.point_at(second).run("login").returncode == 0
    assert saved_issuers(token_path) == sorted([first.url, second.url])
    status = cli.point_at(first).run("status")
    assert f"{host(first)} (active)" in status.stdout
    assert "Logged in as octocat" in status.stdout
    assert f"{host(second)}\n  ✓ Logged in as hubot" in status.stdout
    assert f"--hostname {host(second)}" in status.stdout
    assert cli.run("repos").returncode == 0
    assert json.loads(cli.run("status", "--json").stdout)["other_hosts"] == [
        {"host": host(second), "user": "hubot", "logged_in": True, "error": None}]


def test_hostname_picks_the_server_on_any_command(cli, two_servers, token_path):
    first, second = two_servers
    cli.point_at(first)  # GITHUB_SERVER_URL names the first; --hostname overrides it
    assert cli.run("login").returncode == 0
    # The device flow: the first's client secret is never sent to the second, and this needs none.
    assert cli.run("login", "--device", "--hostname", host(second)).returncode == 0
    assert second.counters.token_requests == 2  # authorization_pending, then the token
    status = cli.run("status", "--hostname", host(second))
    assert "Logged in as hubot" in status.stdout
    assert cli.run("repos", "--hostname", host(second), "--json").returncode == 0


def test_logout_affects_one_host_only(cli, two_servers, token_path):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    assert cli.run("logout", "--hostname", host(second)).returncode == 0
    assert saved_issuers(token_path) == [first.url]
    assert second.counters.revocations == 1
    assert first.counters.revocations == 0
    assert cli.point_at(first).run("status").returncode == 0
    assert cli.run("logout").returncode == 0
    assert not token_path.exists()  # the file goes with the last login


def test_a_token_from_one_host_never_reaches_the_other(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    cli.point_at(first).run("repos")
    cli.point_at(second).run("repos")
    first_tokens = {header.split()[-1] for header in first.counters.authorization_headers}
    second_tokens = {header.split()[-1] for header in second.counters.authorization_headers}
    assert first_tokens
    assert second_tokens
    assert not first_tokens & second_tokens
    assert first_tokens <= set(first.tokens)
    assert second_tokens <= set(second.tokens)


def test_status_on_a_server_without_a_login_names_those_with_one(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    result = cli.point_at(second).run("status")
    assert one_clean_line(result)
    assert "you are not logged in" in result.stderr
    assert f"(logged in to {host(first)}: add --hostname {host(first)})" in result.stderr


def test_a_single_token_file_is_read_and_migrated_without_loss(cli, two_servers, token_path):
    first, second = two_servers
    answer = first.grant_tokens(("read:user",))
    old = Token.from_token_response(answer, issuer=first.url, resource=first.api_url)._replace(account="octocat")
    token_path.parent.mkdir(parents=True)
    token_path.write_text(json.dumps({"version": 1, **old.to_json()}))  # the layout before hosts
    assert cli.point_at(first).run("status").returncode == 0
    assert cli.point_at(second).run("login").returncode == 0  # the first save rewrites the file
    data = json.loads(token_path.read_text())
    assert data["version"] == 2
    assert sorted(data["tokens"]) == sorted([first.url, second.url])
    assert TokenStore(token_path, issuer=first.url).load() == old


def test_token_manager_lists_every_login(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    listing = cli.script("token_manager.py").stdout
    assert f"issued by:    {first.url}" in listing
    assert f"issued by:    {second.url}" in listing


def test_a_store_without_an_issuer_refuses_to_guess_between_several(tmp_path):
    store = TokenStore(tmp_path / "token.json")
    store.save(Token(access_token="gho_one_aaaa", issuer="https://github.com"))
    store.save(Token(access_token="gho_two_bbbb", issuer="https://ghe.example.com"))
    with pytest.raises(Exception, match="holds logins to 2 servers"):
        store.load()


@pytest.mark.parametrize("hostname, url", [("github.com", "https://github.com"),
                                           ("ghe.example.com", "https://ghe.example.com"),
                                           ("127.0.0.1:8765", "http://127.0.0.1:8765"),
                                           ("https://ghe.example.com:8443", "https://ghe.example.com:8443")])
def test_a_hostname_becomes_a_server_url(hostname, url):
    assert support.settings.server_url_for(hostname) == url


def test_a_server_url_alone_puts_the_api_under_api_v3(step1):
    env = {"GITHUB_CLIENT_ID": "Ov23liExample", "GITHUB_SERVER_URL": "https://ghe.example.com"}
    config = step1.load_config(env=env, require_secret=False)
    assert config.api_url == "https://ghe.example.com/api/v3"
    assert config.issuer == "https://ghe.example.com/login/oauth"


# -- status checks every host, as gh auth status does ---------------------------------------------

def test_status_marks_a_dead_token_on_another_host(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    second.tokens.clear()  # revoked at the second host
    status = cli.point_at(first).run("status")
    assert status.returncode == 0  # the active login works
    assert f"{host(second)}\n  ✗ Logged in as hubot, but its token was revoked or has expired — run login " \
           f"--hostname {host(second)}" in status.stdout
    answer = json.loads(cli.run("status", "--json").stdout)
    assert answer["other_hosts"] == [{"host": host(second), "user": "hubot", "logged_in": False,
                                      "error": "its token was revoked or has expired"}]


def test_status_exits_1_when_the_active_token_is_dead_and_its_json_says_how_each_host_stands(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    first.tokens.clear()
    result = cli.point_at(first).run("status", "--json")
    answer = json.loads(result.stdout)
    assert result.returncode == 1
    assert answer["logged_in"] is False
    assert "Bad credentials" in answer["error"]
    assert answer["other_hosts"] == [{"host": host(second), "user": "hubot", "logged_in": True, "error": None}]


def test_status_with_one_login_still_makes_one_request(cli, github):
    cli.point_at(github).run("login")
    before = github.counters.api_requests
    assert cli.run("status").returncode == 0
    assert github.counters.api_requests == before + 1


# -- one damaged entry, or a newer file, costs no login --------------------------------------------

def test_one_damaged_entry_costs_no_other_login(cli, two_servers, token_path):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    data = json.loads(token_path.read_text())
    data["tokens"][second.url]["expires_at"] = "tomorrow"  # edited by hand, or written by a tool with a bug
    token_path.write_text(json.dumps(data))
    damaged = data["tokens"][second.url]
    assert cli.point_at(first).run("status").returncode == 0
    assert cli.run("login", "--force").returncode == 0  # a save of the first host's login
    assert json.loads(token_path.read_text())["tokens"][second.url] == damaged  # carried through untouched
    result = cli.point_at(second).run("status")
    assert one_clean_line(result)
    assert "is damaged (expires_at is not a number)" in result.stderr


def test_a_token_file_from_a_newer_version_is_never_overwritten(cli, github, token_path):
    token_path.parent.mkdir(parents=True)
    newer = json.dumps({"version": 3, "logins": {"https://github.com": "what the newer tool knows"}})
    token_path.write_text(newer)
    cli.point_at(github)
    for result in (cli.run("status"), cli.run("login"), cli.run("login", "--force"), cli.run("logout"),
                   cli.script("2_callback_exchange.py")):
        assert one_clean_line(result)
        assert "was written by a newer version of this tool" in result.stderr
    assert token_path.read_text() == newer
    assert github.tokens == {}  # the step script's sign-in could not be kept, so its token was revoked


# -- hints name the host you gave; GH_HOST picks one as in gh --------------------------------------

def test_every_hint_repeats_the_hostname_given(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    elsewhere = cli.run("--hostname", host(second), "status")
    assert f"run: python dev_github_tool.py login --hostname {host(second)} " in elsewhere.stderr
    again = cli.run("login", "--hostname", host(first))
    assert f"Use login --hostname {host(first)} --force to sign in again." in again.stdout


def test_a_hostname_with_a_scheme_is_told_apart_from_the_same_host_without(cli, two_servers):
    first, _ = two_servers
    cli.point_at(first).run("login")
    result = cli.run("status", "--hostname", f"https://{host(first)}")
    assert one_clean_line(result)
    assert f"you are not logged in to https://{host(first)} — " in result.stderr
    assert f"(logged in to {host(first)}: add --hostname {host(first)})" in result.stderr


def test_repos_names_the_hosts_you_are_logged_in_to_as_status_does(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    result = cli.point_at(second).run("repos")
    assert one_clean_line(result)
    assert f"(logged in to {host(first)}: add --hostname {host(first)})" in result.stderr


def test_gh_host_picks_the_host_when_no_hostname_is_given(cli, two_servers):
    first, second = two_servers
    cli.point_at(first).run("login")
    cli.point_at(second).run("login")
    cli.point_at(first)  # GITHUB_SERVER_URL names the first
    chosen = cli.run("status", extra_env={"GH_HOST": host(second)})
    assert chosen.stdout.startswith(f"{host(second)} (active)\n  ✓ Logged in as hubot")
    given = cli.run("status", "--hostname", host(first), extra_env={"GH_HOST": host(second)})
    assert given.stdout.startswith(f"{host(first)} (active)")  # --hostname wins, as in gh

"""Conditional requests: each page's ETag, Link and body kept privately, so asking again costs no rate limit."""

import json
import stat

import pytest

from tests.helpers.marked_stand_in import LocalGitHub, Settings

PAGES = 3  # 250 repositories, 100 a page


@pytest.fixture
def many(cli):
    with LocalGitHub(Settings(approval="auto", repo_count=250)) as github:
        assert cli.point_at(github).run("login", "--scope", "read:user repo").returncode == 0
        yield github


def cache_folder(token_path, github):
    return token_path.parent / "cache" / f"127.0.0.1_{github.port}" / "octocat"


def test_a_repeated_repos_costs_no_rate_limit_and_shows_the_same(cli, many):
    first = cli.run("repos", "--limit", "all", "--json")
    remaining = many.rate_remaining
    again = cli.run("repos", "--limit", "all", "--json")
    assert again.returncode == 0
    assert again.stdout == first.stdout
    assert len(json.loads(again.stdout)) == 250
    assert many.rate_remaining == remaining
    assert many.counters.not_modified == PAGES


def test_pages_are_followed_with_the_link_kept_from_the_cache(cli, many):
    cli.run("repos", "--limit", "all")
    requests_before = many.counters.api_requests
    cli.run("repos", "--limit", "all")  # the stand-in's 304s carry no Link header, as GitHub's need not
    assert many.counters.api_requests - requests_before == PAGES
    assert many.counters.not_modified == PAGES


def test_status_uses_the_cache_too(cli, many):
    cli.run("status")
    remaining = many.rate_remaining
    assert cli.run("status").returncode == 0
    assert many.rate_remaining == remaining
    assert many.counters.not_modified == 1


def test_no_cache_asks_afresh(cli, many):
    cli.run("repos", "--limit", "all")
    remaining = many.rate_remaining
    assert cli.run("repos", "--limit", "all", "--no-cache").returncode == 0
    assert many.counters.not_modified == 0
    assert many.rate_remaining == remaining - PAGES


def test_the_cache_is_private_and_holds_no_secret(cli, many, token_path):
    cli.run("repos", "--limit", "all")
    folder = cache_folder(token_path, many)
    files = list(folder.glob("*.json"))
    assert len(files) == PAGES
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        for secret in many.counters.secrets_seen:
            assert secret not in file.read_text()


def test_logout_removes_the_hosts_cache(cli, many, token_path):
    cli.run("repos")
    assert cache_folder(token_path, many).exists()
    assert cli.run("logout").returncode == 0
    assert not cache_folder(token_path, many).parent.exists()


def test_a_request_stays_the_same_whatever_the_limit(cli, many):
    cli.run("repos", "--limit", "5")
    cli.run("repos", "--limit", "50")  # the same first page: per_page does not follow the limit
    assert many.counters.not_modified == 1


def test_debug_says_which_pages_were_304(runner, cli, many, token_path):
    cli.point_at(many).run("repos")  # in this process; --debug below needs a process of its own
    result = runner.run("dev_github_tool.py", "--debug", "repos")
    assert "/api/v3/user/repos: 304 Not Modified, the cached page was used (no rate limit spent)" in result.stderr


def test_a_damaged_cache_entry_is_asked_for_afresh(cli, many, token_path):
    cli.run("repos")
    for file in cache_folder(token_path, many).glob("*.json"):
        file.write_text("{not json")
    remaining = many.rate_remaining
    assert cli.run("repos").returncode == 0
    assert many.rate_remaining == remaining - 1


def test_a_cache_entry_whose_stored_body_is_damaged_is_a_miss(cli, many, token_path):
    cli.run("status")
    [entry_file] = cache_folder(token_path, many).glob("*.json")
    entry = json.loads(entry_file.read_text())
    entry_file.write_text(json.dumps({**entry, "body": "{not json"}))  # the entry reads; the page it keeps does not
    remaining = many.rate_remaining
    result = cli.run("status", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["user"] == "octocat"
    assert many.rate_remaining == remaining - 1
    assert many.counters.not_modified == 0  # asked afresh
    assert json.loads(json.loads(entry_file.read_text())["body"])["login"] == "octocat"  # and kept afresh


def test_a_page_that_changed_is_shown_not_the_cached_one(cli, many):
    cli.run("repos", "--limit", "all")
    many.settings.repo_count = 251  # a new repository: the last page changes, and GitHub answers it with 200
    result = cli.run("repos", "--limit", "all", "--json")
    assert len(json.loads(result.stdout)) == 251
    assert many.counters.not_modified == 2  # the first two are the same


def test_a_page_kept_for_another_url_is_never_served(tmp_path):
    from support.page_cache import CachedPage, PageCache

    cache = PageCache(tmp_path / "cache")
    cache.put("https://api.github.com/user/repos?page=2", CachedPage('W/"a"', "", '[{"full_name": "not/yours"}]'))
    [kept] = (tmp_path / "cache").glob("*.json")
    kept.rename(cache._file("https://api.github.com/user"))  # as if two URLs shared a file name
    assert cache.get("https://api.github.com/user") is None


def test_pages_read_with_a_token_variable_are_never_cached(cli, many, token_path):
    token = many.grant_tokens(("read:user", "repo"))["access_token"]
    cli.run("logout")  # no saved login: the variable is the only token
    for command in ("status", "repos"):
        assert cli.run(command, extra_env={"GH_ENTERPRISE_TOKEN": token}).returncode == 0
    # The variable may hold another account's token next time: nothing of what it read is kept.
    assert not (token_path.parent / "cache").exists()

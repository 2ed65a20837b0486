"""Remove each defence, one at a time, and check that its tests notice.

Run:  python tools/check_defences.py [--only WORD]
Not part of the suite (it runs the suite's tests some sixty times, about three minutes): run it
before changing a defence or the threat model in docs/SECURITY.md, so that "each test fails if its
defence is removed" stays true. Each removal is made in a scratch copy of the repository, never
in your working tree. It prints a line per defence and exits 1 if any removal went unnoticed, or
if a defence can no longer be found.

A defence is found by its anchor: the name of the function, method (`Class.method`), class or
constant that holds it, wherever in the tool's files it lives (the top-level files and support/;
the stand-in is not the tool). Within that definition, the defending code must occur exactly once.
Code can move between files without this script noticing; a renamed anchor fails loudly.
"""

from __future__ import annotations

import argparse
import ast
import functools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
NOT_THE_TOOL = {"local_github.py"}  # the stand-in's launcher; the stand-in's own defences are its tests'


class Removal(NamedTuple):
    defence: str
    anchor: str  # the definition that holds the defence: "check_issuer", "CallbackServer.state_matches"
    present: str  # the code that defends; it must occur exactly once in the anchor's definition
    removed: str  # the same place with the defence gone
    tests: tuple[str, ...]  # the tests that must notice (pytest node ids)


def t(name: str) -> str:
    """A test's node id from its file stem and name: `t("defences::test_x")`."""
    file, test = name.split("::")
    return f"tests/test_{file}.py::{test}"


REMOVALS = (
    # -- the callback (step 2) -------------------------------------------------------------------
    Removal("state compared whole, never as a prefix", "CallbackServer.state_matches",
            'return hmac.compare_digest(values[0].encode("utf-8", "replace"), self._expected_state)',
            'return self._expected_state.startswith(values[0].encode("utf-8", "replace"))',
            (t("defences::test_state_is_compared_whole_never_as_a_prefix"),)),
    Removal("state compared in constant time", "CallbackServer.state_matches",
            'hmac.compare_digest(values[0].encode("utf-8", "replace"), self._expected_state)',
            'values[0].encode("utf-8", "replace") == self._expected_state',
            (t("defences::test_state_is_compared_in_constant_time"),)),
    Removal("the code kept out of the callback result's repr", "CallbackResult",
            "code: str | None = field(repr=False)", "code: str | None",
            (t("defences::test_the_code_never_shows_in_a_callback_results_repr"),)),
    Removal("a repeated parameter refused", "CallbackServer.handle_callback",
            "if any(len(values) > 1 for values in params.values()):", "if False:",
            (t("defences::test_a_repeated_parameter_is_refused_even_with_the_right_state"),)),
    Removal("one genuine callback claims the sign-in (no replay)", "LoopbackServer.claim",
            "first = not self._claimed", "first = True",
            (t("attacks_on_the_callback::test_a_replayed_genuine_callback_is_refused"),)),
    Removal("the issuer check (mix-up, RFC 9207)", "check_issuer",
            "if result.issuer != config.issuer and (result.issuer is not None or issuer_required(config)):",
            "if False:",
            (t("step2_callback_exchange::test_a_callback_naming_another_issuer_is_refused_and_its_code_never_sent"),
             t("interop_authlib::test_a_callback_naming_another_issuer_never_reaches_authlibs_token_endpoint"))),
    Removal("a missing iss refused where the server always sends one (RFC 9207 §2.4)", "issuer_required",
            "return config.server.sends_issuer or is_github_com(config.server_url)", "return False",
            (t("any_oauth_server::test_a_callback_without_iss_is_refused_when_the_metadata_promises_it"),
             t("any_oauth_server::test_github_com_must_name_itself_in_the_callback"),
             t("hostile_files_and_servers::test_a_callback_without_iss_from_github_com_is_refused"))),
    Removal("a missing iss refused at all where it is required", "check_issuer",
            "(result.issuer is not None or issuer_required(config))", "result.issuer is not None",
            (t("hostile_files_and_servers::test_a_callback_without_iss_from_github_com_is_refused"),)),
    Removal("reflected text HTML-escaped", "CallbackHandler.send_page",
            "message=html.escape(page.message)", "message=page.message",
            (t("step2_callback_exchange::test_reflected_text_is_html_escaped"),)),
    Removal("CSP default-src 'none'", "PAGE_HEADERS",
            "\"default-src 'none'; style-src", '"default-src *; style-src',
            (t("defences::test_the_callback_page_headers_are_exactly_the_strict_ones"),)),
    Removal("X-Frame-Options: DENY", "PAGE_HEADERS", '"X-Frame-Options": "DENY",', "",
            (t("step2_callback_exchange::test_reflected_text_is_html_escaped"),)),
    Removal("X-Content-Type-Options: nosniff", "PAGE_HEADERS",
            '"X-Content-Type-Options": "nosniff",', "",
            (t("defences::test_the_callback_page_headers_are_exactly_the_strict_ones"),)),
    Removal("idle connections dropped after 10 s", "CallbackHandler",
            "    timeout = CONNECTION_IDLE_SECONDS\n", "",
            (t("defences::test_an_idle_connection_is_dropped_after_ten_seconds_at_most"),)),
    Removal("a deep listen backlog", "LoopbackServer", "request_queue_size = 128", "request_queue_size = 5",
            (t("defences::test_the_listen_backlog_takes_a_burst_of_connections"),)),
    Removal("request lines kept out of the log", "CallbackHandler.log_request",
            'self.command, urlsplit(getattr(self, "path", "")).path, code)',
            'self.command, getattr(self, "path", ""), code)',
            (t("defences::test_no_request_line_reaches_the_debug_log"),
             t("secrets_never_leak::test_no_log_record_carries_a_secret"))),
    Removal("http.server's error lines silenced", "CallbackHandler.log_message",
            "        # Error lines quote the whole request line, code included: they must not reach a log.\n"
            "        pass",
            "        super().log_message(format, *args)",
            (t("attacks_on_the_callback::test_a_malformed_request_is_not_logged_with_its_code"),)),
    Removal("the callback server bound to loopback only", "LoopbackServer.__init__",
            "super().__init__((redirect.host, redirect.port or 0), CallbackHandler)",
            'super().__init__(("::" if ":" in redirect.host else "0.0.0.0", redirect.port or 0), CallbackHandler)',
            (t("step2_callback_exchange::test_server_listens_on_loopback_only"),)),
    Removal("the wait wakes often enough to act on Ctrl-C", "wait_for",
            "event.wait(min(remaining, SIGNAL_CHECK_SECONDS))", "event.wait(remaining)",
            (t("step2_callback_exchange::"
               "test_the_wait_wakes_often_enough_to_act_on_a_ctrl_c_handed_to_another_thread"),)),
    Removal("the device flow's pause wakes often enough to act on Ctrl-C", "sleep_in_slices",
            "time.sleep(min(left, SIGNAL_CHECK_SECONDS))", "time.sleep(left)",
            (t("device_flow::test_the_pause_between_polls_wakes_often_enough_to_act_on_ctrl_c"),)),
    Removal("the browser opened in its own thread", "open_browser_in_background",
            'threading.Thread(target=launch, name="browser", daemon=True).start()', "launch()",
            (t("dev_github_tool::test_a_browser_that_stays_open_does_not_hold_up_the_login"),
             t("dev_github_tool::test_a_browser_that_never_returns_cannot_stall_the_timeout"))),
    # -- configuration and step 1 ----------------------------------------------------------------
    Removal("a redirect only to this machine", "parse_redirect_uri",
            "if host not in LOOPBACK_HOSTS:", 'if host not in LOOPBACK_HOSTS + ("0.0.0.0", "::", "10.0.0.1"):',
            (t("defences::test_a_redirect_that_listens_beyond_this_machine_is_refused"),)),
    Removal("256 random bits of state", "generate_state",
            "return secrets.token_urlsafe(STATE_BYTES)", "return (secrets.token_urlsafe(2) * 15)[:43]",
            (t("defences::test_state_and_verifier_draw_32_bytes_from_the_operating_system"),)),
    Removal("256 random bits of PKCE verifier", "generate_code_verifier",
            "return secrets.token_urlsafe(CODE_VERIFIER_BYTES)", "return (secrets.token_urlsafe(2) * 15)[:43]",
            (t("defences::test_state_and_verifier_draw_32_bytes_from_the_operating_system"),)),
    # -- the server's metadata (RFC 8414) ---------------------------------------------------------
    Removal("metadata used only for the issuer it was asked for (RFC 8414 §3.3)", "endpoints_from",
            "if issuer != config.issuer:", "if False:",
            (t("any_oauth_server::test_metadata_naming_another_issuer_is_refused_before_anything_is_sent"),)),
    Removal("metadata endpoints in clear text only on the issuer's own origin", "endpoint_problem",
            'if parts.scheme == "http" and (parts.scheme, parts.hostname, port) != (home.scheme, home.hostname, '
            "home_port):", "if False:",
            (t("any_oauth_server::test_a_metadata_endpoint_over_http_to_another_host_is_refused"),
             t("any_oauth_server::test_a_published_endpoint_must_be_https_or_on_the_issuers_own_origin"))),
    Removal("metadata fetch follows no redirect to another origin", "fetch_document",
            "if origin_of(target) != origin_of(url):", "if False:",
            (t("any_oauth_server::test_a_metadata_redirect_to_another_origin_is_not_followed"),)),
    Removal("metadata fetch has a timeout", "fetch_document",
            "timeout=METADATA_TIMEOUT_SECONDS, ", "",
            (t("any_oauth_server::test_every_metadata_fetch_has_a_timeout"),)),
    # -- the token endpoint ----------------------------------------------------------------------
    Removal("the PKCE verifier sent at the exchange", "exchange_code_for_token",
            '"code_verifier": request.code_verifier,', "",
            (t("step2_callback_exchange::test_exchange_sends_verifier_and_redirect_uri_and_asks_for_json"),
             t("defences::test_the_tool_sends_the_verifier_whose_hash_went_into_the_url"))),
    Removal("grant_type sent at the exchange (RFC 6749 §4.1.3)", "exchange_code_for_token",
            '"grant_type": "authorization_code",', "",
            (t("interop_servers::test_login_status_repos_logout"),)),
    Removal("no redirect followed at the token endpoint", "post_form",
            "allow_redirects=False,", "allow_redirects=True,",
            (t("step2_callback_exchange::test_a_redirect_from_the_token_endpoint_is_not_followed"),)),
    Removal("HTTP Basic with the client ID and secret form-url-encoded (RFC 6749 §2.3.1)", "basic_authorization",
            'pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"', 'pair = f"{client_id}:{client_secret}"',
            (t("any_oauth_server::test_basic_authorization_form_url_encodes_the_id_and_the_secret"),
             t("interop_servers::test_login_status_repos_logout"))),
    Removal("the secret as Basic only, never in the body too", "client_authentication",
            "        return {}, {\"Authorization\": basic_authorization(config.client_id, config.client_secret)}\n",
            "        return {\"client_id\": config.client_id, \"client_secret\": config.client_secret}, "
            "{\"Authorization\": basic_authorization(config.client_id, config.client_secret)}\n",
            (t("any_oauth_server::test_the_secret_goes_as_basic_only_to_a_server_that_takes_nothing_else"),)),
    # -- step 3: the API, refresh and revocation ---------------------------------------------------
    Removal("the token sent to its own API origin only", "BearerAuth.__call__",
            'if origin_of(request.url or "") == self._origin:', "if True:",
            (t("step3_github_request::test_a_next_link_to_another_host_gets_no_token"),)),
    Removal("the saved token bound to its host", "load_token",
            "if (saved.issuer, saved.resource) != (config.server_url, config.api_url):", "if False:",
            (t("secrets_never_leak::test_the_token_never_reaches_another_api_host"),)),
    Removal("the refresh token sent to its issuer only", "refresh_github_token",
            "if old.issuer != config.server_url:", "if False:",
            (t("defences::test_a_refresh_token_is_never_sent_to_another_server"),)),
    Removal("revocation follows no redirect", "delete_as_the_app",
            "timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)", "timeout=HTTP_TIMEOUT_SECONDS)",
            (t("defences::test_revocation_does_not_follow_a_redirect"),)),
    Removal("revocation counts only 204/404/422 as done", "revoke_github_token",
            "revoked = answer.status == 204 or (answer.status in (404, 422) and answer.github_json)",
            "revoked = True",
            (t("defences::test_revocation_counts_only_204_404_and_422_as_done"),)),
    Removal("GitHub's own JSON 404 only, never another server's web page, counts as revoked", "revoke_github_token",
            "(answer.status in (404, 422) and answer.github_json)", "answer.status in (404, 422)",
            (t("any_oauth_server::test_only_204_or_githubs_own_json_404_or_422_count_as_revoked"),
             t("any_oauth_server::test_a_404_page_from_a_server_without_githubs_route_is_not_revoked"))),
    Removal("RFC 7009 counts only 200 as revoked", "revoke_github_token",
            "revoked = answer.status == 200", "revoked = True",
            (t("any_oauth_server::test_rfc_7009_counts_only_200_as_revoked"),)),
    Removal("RFC 7009 revocation follows no redirect", "post_token_to_revoke",
            "timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)", "timeout=HTTP_TIMEOUT_SECONDS)",
            (t("any_oauth_server::test_rfc_7009_revocation_follows_no_redirect_and_has_a_timeout"),)),
    Removal("each host's client secret goes to that host only", "OAuthConfig.for_login",
            'client_secret=token.client_secret or (self.client_secret if same_app else ""))',
            'client_secret=self.client_secret or token.client_secret or "")',
            (t("any_oauth_server::test_each_hosts_secret_goes_only_to_that_host"),
             t("any_oauth_server::test_a_token_is_revoked_as_the_app_it_was_issued_to"))),
    Removal("revocation has a timeout", "delete_as_the_app",
            "timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)", "allow_redirects=False)",
            (t("defences::test_revocation_has_a_timeout"),)),
    Removal("the rate limit's reset time told", "describe_failure",
            'reset = local_time(response.headers.get("X-RateLimit-Reset"))', 'reset = "a time GitHub did not say"',
            (t("defences::test_the_rate_limit_message_says_the_reset_time"),)),
    Removal("GH_TOKEN before GITHUB_TOKEN (gh's order)", "TOKEN_VARIABLES",
            'TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")', 'TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")',
            (t("defences::test_gh_token_wins_over_github_token"),)),
    Removal("API error text made safe", "describe_failure",
            'message = safe_text(response.json().get("message"), 160)',
            'message = str(response.json().get("message"))',
            (t("defences::test_an_api_error_message_is_made_safe_for_the_terminal"),)),
    Removal("TLS verification left on", "api_session",
            "    session = requests.Session()\n", "    session = requests.Session()\n    session.verify = False\n",
            (t("defences::test_tls_verification_is_never_turned_off"),)),
    Removal("repository names made safe", "format_repo_table",
            'safe_text(r.get("full_name"), 200)', 'str(r.get("full_name"))',
            (t("defences::test_repository_names_are_made_safe_for_the_terminal"),)),
    # -- the token's lifecycle and store ------------------------------------------------------------------------
    Removal("no line break or control character through safe_text", "safe_text",
            'char if char.isprintable() else " "', 'char if char.isprintable() or char in "\\r\\n" else " "',
            (t("defences::test_safe_text_lets_no_line_break_or_control_character_through"),)),
    Removal("a refresh margin before expiry", "REFRESH_MARGIN_SECONDS",
            "REFRESH_MARGIN_SECONDS = 60", "REFRESH_MARGIN_SECONDS = 0",
            (t("defences::test_the_default_margin_refreshes_a_token_a_little_before_it_expires"),)),
    Removal("finite, positive lifetimes only", "_seconds_or_none",
            "if not math.isfinite(seconds) or seconds < 0:", "if False:",
            (t("defences::test_a_lifetime_that_is_not_a_finite_positive_number_is_refused"),)),
    Removal("a fresh read under the lock (one refresh for eight processes)", "TokenManager.refresh",
            "            if only_if_expiring and not token.expires_within(self.margin, self.clock()):\n"
            "                return token\n", "",
            (t("token_manager::test_eight_processes_refresh_once"),)),
    Removal("the Windows lock waits past LK_LOCK's ten tries", "_exclusive_lock",
            "                    if error.errno != errno.EDEADLOCK:\n                        raise\n",
            "                    raise\n",
            (t("token_manager::test_the_windows_lock_waits_past_lk_locks_ten_tries_and_unlocks_before_closing"),)),
    Removal("a dead refresh token never sent again", "TokenManager._refresh_locked",
            "kept = token._replace(refresh_token=None, refresh_token_expires_at=None)", "kept = token",
            (t("token_manager::"
               "test_a_rejected_refresh_keeps_a_still_valid_token_but_never_resends_the_dead_refresh_token"),)),
    Removal("a write probe before a refresh token is spent", "TokenManager._refresh_locked",
            "            self.store.check_writable()\n        except AuthError:", "            pass\n        except AuthError:",
            (t("dev_github_tool::test_a_refresh_token_is_not_spent_when_the_new_pair_cannot_be_saved"),)),
    Removal("a write probe before the browser opens", "do_login",
            "    ctx.store.check_writable()\n", "",
            (t("dev_github_tool::test_login_checks_the_folder_before_the_browser_and_advises_for_the_cause"),)),
    Removal("one login per issuer, never another host's", "TokenStore.load",
            "        issuer = self.issuer\n", "        issuer = next(iter(entries), \"\")\n",
            (t("hosts::test_a_token_from_one_host_never_reaches_the_other"),
             t("hosts::test_status_on_a_server_without_a_login_names_those_with_one"))),
    Removal("token variables per host (GH_TOKEN for github.com only)", "token_variable_in_use",
            "variables = TOKEN_VARIABLES if is_github_com(server_url) else ENTERPRISE_TOKEN_VARIABLES",
            "variables = TOKEN_VARIABLES + ENTERPRISE_TOKEN_VARIABLES",
            (t("dev_github_tool::test_github_com_variables_are_not_used_for_another_host_nor_the_other_way"),)),
    Removal("slow_down honoured (device flow)", "poll_for_token",
            'pace.slow_down(error.fields.get("interval"))', "pace.answered()",
            (t("device_flow::test_slow_down_uses_the_new_interval_for_every_later_poll"),)),
    Removal("the server's polling interval used (device flow)", "poll_for_token",
            "pace = DevicePace(device.interval,", "pace = DevicePace(5,",
            (t("device_flow::test_polls_come_at_the_interval_the_server_asks_for"),)),
    Removal("device polls carry no client secret", "poll_for_token",
            "STEP_DEVICE, with_secret=False)", "STEP_DEVICE)",
            (t("device_flow::test_polls_carry_the_device_grant_and_no_client_secret"),)),
    Removal("symbolic links refused at the token path", "TokenStore._read_text",
            "if stat.S_ISLNK(info.st_mode):", "if False:",
            (t("token_manager::test_a_symlink_at_the_token_path_is_refused"),)),
    Removal("the token file opened with O_NOFOLLOW (a link swapped in after the check)", "TokenStore._read_text",
            "os.O_RDONLY | NO_FOLLOW", "os.O_RDONLY",
            (t("token_manager::test_a_symlink_swapped_in_after_the_check_is_not_followed"),)),
    Removal("a newer version's token file never overwritten", "TokenStore._entries_to_keep",
            "        except NewerTokenFile:\n            raise\n", "",
            (t("hosts::test_a_token_file_from_a_newer_version_is_never_overwritten"),)),
    Removal("an entry that cannot be read carried through a save", "TokenStore.save",
            "{**self._entries_to_keep(), issuer: token.to_json()}",
            "{**{key: value.to_json() for key, value in self.load_all().items()}, issuer: token.to_json()}",
            (t("hosts::test_one_damaged_entry_costs_no_other_login"),)),
    Removal("a Windows save waits out a reader (no rotated token lost)", "_replace",
            'if os.name != "nt" or pause is None:', "if True:",
            (t("token_manager::test_a_save_on_windows_waits_out_a_reader_that_holds_the_file_open"),)),
    Removal("the step scripts revoke the token they replace", "save_replacing",
            "problem = revoke_or_say_why(revoke, replaced)", "problem = None",
            (t("step2_callback_exchange::test_script_revokes_the_token_it_replaces_as_login_does"),
             t("device_flow::test_device_flow_script_revokes_the_token_it_replaces_as_login_does"))),
    # -- the page cache ----------------------------------------------------------------------------
    Removal("a cached page served only for the URL it was kept for", "PageCache.get",
            'if entry.get("url") != url:', "if False:",
            (t("conditional_requests::test_a_page_kept_for_another_url_is_never_served"),)),
    Removal("the cached page used only on a 304", "GitHubClient.get_page",
            "if response.status_code == 304 and cached:", "if cached:",
            (t("conditional_requests::test_a_page_that_changed_is_shown_not_the_cached_one"),)),
    Removal("no page cached for a token variable", "PageCache.for_source",
            "account = None if source.variable else source.token.account",
            "account = source.token.account or source.variable",
            (t("conditional_requests::test_pages_read_with_a_token_variable_are_never_cached"),)),
    Removal("the token file private from creation (mkstemp)", "TokenStore._write",
            'fd, temporary = tempfile.mkstemp(prefix=".token-", suffix=".tmp", dir=self.path.parent)',
            'temporary = str(self.path.parent / ".token-plain.tmp")\n'
            "            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)",
            (t("token_manager::test_token_file_is_private_from_the_start"),)),

    # -- what a hostile .env, server or local user may try ------------------------------------------
    Removal("github.com's API is api.github.com, whatever .env says", "check_api_on_server",
            "if api_url == GITHUB_COM_API_URL:", "if True:",
            (t("hostile_files_and_servers::test_a_dotenv_cannot_send_gh_token_to_another_host"),
             t("hostile_files_and_servers::test_an_api_on_another_host_from_the_environment_says_so"))),
    Removal("another server's API is on that server's host", "check_api_on_server",
            "if urlsplit(api_url)[:2] == urlsplit(server_url)[:2]:", "if True:",
            (t("hostile_files_and_servers::test_a_dotenv_cannot_move_the_api_of_a_login_to_another_host"),)),
    Removal("the device flow's verification page only on the server's host (RFC 8628 §5.4)", "trusted_verification_uri",
            "if secure and not (parts.username or parts.password) and host_of(given) == host_of(server_url):",
            "if True:",
            (t("hostile_files_and_servers::test_a_verification_page_off_the_server_is_neither_shown_nor_opened"),
             t("hostile_files_and_servers::test_only_an_https_page_on_the_servers_own_host_is_trusted"))),
    Removal("one normal form per server URL", "parse_endpoint_url",
            "return normal_url(value)", 'return value.rstrip("/")',
            (t("hostile_files_and_servers::test_github_com_in_any_spelling_is_github_com"),
             t("hostile_files_and_servers::test_an_enterprise_token_is_never_sent_to_github_com_spelled_otherwise"),
             t("hostile_files_and_servers::test_a_server_url_spelled_otherwise_still_accepts_its_genuine_iss"))),
    Removal("saved logins read in the normal form", "normal_keys",
            "normal[normal_url(issuer)] = entry", "normal[issuer] = entry",
            (t("hostile_files_and_servers::test_a_login_saved_under_another_spelling_is_still_found"),)),
    Removal("a server URL names a real host", "parse_endpoint_url",
            "if not is_host_name(host):", "if False:",
            (t("hostile_files_and_servers::test_a_server_url_naming_no_host_in_dotenv_is_refused_and_deletes_nothing"),)),
    Removal("--hostname is a host with an optional port", "server_url_for",
            'valid = is_host_name(parts.hostname or "") and parts.path in ("", "/") and not (',
            "valid = True or not (",
            (t("hostile_files_and_servers::test_logout_of_a_hostname_that_is_no_host_is_refused_and_deletes_nothing"),)),
    Removal("no cache folder name leaves its folder", "file_name_for",
            'return cleaned if cleaned and not cleaned.startswith(".") else f"_{cleaned}"', 'return cleaned or "_"',
            (t("hostile_files_and_servers::test_no_cache_folder_named_after_a_host_or_account_leaves_the_cache"),)),
    Removal("logout cleans up only what it logged out", "do_logout",
            '        return EXIT_OK\n    chapter.step3.PageCache.forget_host(ctx.store.path.parent, ctx.host)',
            '        chapter.step3.PageCache.forget_host(ctx.store.path.parent, ctx.host)\n        return EXIT_OK\n'
            '    chapter.step3.PageCache.forget_host(ctx.store.path.parent, ctx.host)',
            (t("hostile_files_and_servers::test_logout_with_nothing_to_log_out_leaves_the_cached_pages"),)),
    Removal("a token variable that no token could be is refused", "token_from_variable",
            "if not is_token_text(value):", "if False:",
            (t("hostile_files_and_servers::test_a_token_variable_with_a_line_break_is_refused_without_showing_it"),)),
    Removal("a token is checked before it goes in a header", "sendable",
            "if not is_token_text(access_token):", "if False:",
            (t("hostile_files_and_servers::test_a_token_that_cannot_go_in_a_header_is_never_sent"),)),
    Removal("a token file token that no token could be is refused", "Token.from_json",
            "if data.get(name) and not is_token_text(data[name]):", "if False:",
            (t("hostile_files_and_servers::test_a_token_file_with_a_line_break_is_damaged_and_not_shown"),)),
    Removal("a token answer that no token could be is refused", "Token.from_token_response",
            "if isinstance(fields.get(name), str) and fields[name] and not is_token_text(fields[name]):", "if False:",
            (t("hostile_files_and_servers::test_a_token_answer_with_a_line_break_is_refused_and_not_shown"),)),
    Removal("slow_down adds at least five seconds (RFC 8628 §3.5)", "DevicePace.slow_down",
            "self.interval = max(self.interval + SLOW_DOWN_SECONDS, poll_interval(told))",
            "self.interval = poll_interval(told) if told is not None else self.interval + SLOW_DOWN_SECONDS",
            (t("hostile_files_and_servers::test_slow_down_with_an_interval_of_zero_still_waits_five_seconds_longer"),)),
    Removal("the device flow's interval and lifetime bounded", "bounded_seconds",
            "return min(max(number, bounds[0]), bounds[1])", "return number",
            (t("hostile_files_and_servers::test_the_servers_interval_is_kept_between_one_second_and_a_minute"),
             t("hostile_files_and_servers::test_a_code_is_waited_for_thirty_minutes_at_most"))),
    Removal("no device-flow wait runs past the expiry", "DevicePace.next_wait",
            "return min(self.interval, left) if left > 0 else None", "return self.interval if left > 0 else None",
            (t("hostile_files_and_servers::test_no_wait_runs_past_the_expiry"),)),
    Removal("a poll without an answer backs off (device flow)", "poll_for_token",
            "        except NoAnswer as error:  # RFC 8628 §3.5: no answer means poll less often, not give up\n"
            "            pace.back_off(error)\n            continue\n", "",
            (t("hostile_files_and_servers::test_a_network_error_while_polling_backs_off_and_retries"),)),
    Removal("a token file or config folder another user owns refused", "TokenStore._keep_private",
            "if info.st_uid != user:", "if False:",
            (t("hostile_files_and_servers::test_a_token_file_another_user_owns_is_refused"),
             t("hostile_files_and_servers::test_a_config_folder_another_user_owns_is_refused"),
             t("hostile_files_and_servers::test_a_login_into_a_folder_another_user_owns_is_refused_before_the_browser"))),
    Removal("a token file or config folder others may use made private", "TokenStore._keep_private",
            "if not stat.S_IMODE(info.st_mode) & OTHERS_MAY_ACCESS:", "if True:",
            (t("hostile_files_and_servers::test_a_token_file_others_may_read_is_made_private"),
             t("hostile_files_and_servers::test_a_config_folder_others_may_use_is_made_private"))),
    Removal("the lock opened with O_NOFOLLOW", "_open_lock_file",
            "os.O_RDWR | os.O_CREAT | NO_FOLLOW", "os.O_RDWR | os.O_CREAT",
            (t("hostile_files_and_servers::test_a_lock_planted_as_a_symlink_is_never_followed"),)),
    Removal("every level of the page cache 0700", "make_private_folders",
            "    for level in reversed([folder, *folder.parents][:levels]):\n"
            "        level.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)\n",
            "    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)\n    for level in []:\n",
            (t("hostile_files_and_servers::test_every_level_of_the_cache_is_private"),)),
    Removal("login names made safe for the terminal", "shown",
            "return safe_text(text, LOGIN_LIMIT)", 'return str(text or "")',
            (t("hostile_files_and_servers::test_no_control_character_from_a_server_reaches_the_terminal"),
             t("hostile_files_and_servers::test_step_3_shows_no_control_character_from_a_server"))),
    Removal("a repository's date made safe for the terminal", "format_repo_table",
            'safe_text(r.get("updated_at"), 10)', 'str(r.get("updated_at") or "")[:10]',
            (t("hostile_files_and_servers::test_no_control_character_from_a_server_reaches_the_terminal"),)),
    Removal("star counts printed only when they are numbers", "format_repo_table",
            'str(stars) if (stars := whole_number(r.get("stargazers_count"))) is not None else "?"',
            'str(r.get("stargazers_count", 0))',
            (t("hostile_files_and_servers::test_a_star_count_that_is_not_a_number_is_not_printed"),)),
    Removal("repos --json gives each field its own type or null", "repo_as_json",
            "fields[name] = value if type(value) is kind else None", "fields[name] = value",
            (t("hostile_files_and_servers::test_a_star_count_that_is_not_a_number_is_not_printed"),)),
    Removal("JSON output ASCII only", "print_json",
            "ensure_ascii=True", "ensure_ascii=False",
            (t("hostile_files_and_servers::test_json_output_escapes_what_a_server_says_and_stays_json"),)),
    Removal("a client secret never posted to another host", "load_config",
            "secret_belongs_to = host_of(configured)", "secret_belongs_to = None",
            (t("hostile_files_and_servers::test_login_on_another_host_does_not_post_this_hosts_client_secret"),
             t("hostile_files_and_servers::test_logout_of_an_old_login_on_another_host_does_not_send_this_hosts_client_secret"))),
    Removal("a new account's login forgets the old account's pages", "do_login",
            "    chapter.step3.PageCache.keep_only(ctx.store.path.parent, ctx.host, token.account)"
            "  # another account's pages go\n", "",
            (t("hostile_files_and_servers::test_login_force_as_another_account_forgets_the_old_accounts_pages"),)),
)


def scratch_copy(target: Path) -> None:
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(".git", "__pycache__", "venv", ".venv", ".env"))


def tool_files(root: Path) -> list[Path]:
    return [path for path in sorted(root.glob("*.py")) if path.name not in NOT_THE_TOOL] + \
        sorted((root / "support").glob("*.py"))


def definitions(tree: ast.Module) -> dict[str, ast.AST]:
    """Every top-level function, class, constant and method of a module, by its (dotted) name."""
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        found[f"{node.name}.{member.name}"] = member
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


@functools.lru_cache(maxsize=None)
def definitions_in(path: Path, version: tuple[int, int]) -> dict[str, ast.AST]:
    """A file's definitions, parsed once for each version of it (`version`: its mtime and size)."""
    return definitions(ast.parse(path.read_text(encoding="utf-8")))


def find_anchor(root: Path, anchor: str) -> list[tuple[Path, int, int]]:
    """Where `anchor` is defined in the tool's files: (file, first line, last line), one per definition."""
    places = []
    for path in tool_files(root):
        info = path.stat()
        node = definitions_in(path, (info.st_mtime_ns, info.st_size)).get(anchor)
        if node is not None:
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            places.append((path, first, node.end_lineno or node.lineno))
    return places


def check(removal: Removal, workdir: Path) -> str:
    """'caught', 'SURVIVED', or why it could not be tried."""
    places = find_anchor(workdir, removal.anchor)
    if len(places) != 1:
        where = ", ".join(f"{path.name}:{first}" for path, first, _ in places) or "nowhere"
        return f"NOT FOUND: {removal.anchor} is defined {len(places)} times ({where}); update this script"
    path, first, last = places[0]
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    before, inside, after = "".join(lines[:first - 1]), "".join(lines[first - 1:last]), "".join(lines[last:])
    if inside.count(removal.present) != 1:
        return f"NOT FOUND: the defence's code is not (once) in {removal.anchor} ({path.name}); update this script"
    without = before + inside.replace(removal.present, removal.removed) + after
    try:  # a removal that breaks the file would be "caught" by every test: refuse it instead
        compile(without, path.name, "exec")
    except SyntaxError as error:
        return f"BROKEN: removing it leaves {path.name} unable to compile ({error.msg}); fix this script"
    path.write_text(without, encoding="utf-8")
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                 *removal.tests], cwd=workdir, capture_output=True, text=True, timeout=600)
    finally:
        path.write_text(original, encoding="utf-8")
    if result.returncode == 1:
        return "caught"
    if result.returncode == 0:
        return "SURVIVED"
    return f"ERROR (pytest exit {result.returncode}): {result.stdout.strip().splitlines()[-1:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description="Remove each defence in turn; report any its tests do not notice.")
    parser.add_argument("--only", help="only the defences whose description contains this word")
    args = parser.parse_args()
    chosen = [r for r in REMOVALS if not args.only or args.only.lower() in r.defence.lower()]
    with tempfile.TemporaryDirectory(prefix="check-defences-") as scratch:
        workdir = Path(scratch) / "repo"
        scratch_copy(workdir)
        outcomes = [(removal, check(removal, workdir)) for removal in chosen]
    for removal, outcome in outcomes:
        print(f"{outcome:<9} {removal.defence}  ({removal.anchor})")
    unnoticed = [removal for removal, outcome in outcomes if outcome != "caught"]
    print(f"{len(outcomes) - len(unnoticed)} of {len(outcomes)} removals were caught by their tests.")
    return 1 if unnoticed else 0


if __name__ == "__main__":
    sys.exit(main())

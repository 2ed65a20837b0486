"""Revoking a token at the server that issued it: RFC 7009's revocation endpoint, or GitHub's own route.

revoke_github_token decides which to use and which answers mean "revoked" (the token manager's
logout and the step scripts, which revoke the token a new sign-in replaces, call it); the rest
sends the requests and says what came back. Watch for: both carry the app's credentials (RFC 7009 §2.1: as
at the token endpoint; GitHub: HTTP Basic with the client ID and secret); neither follows a
redirect, which could carry them elsewhere; each has a timeout. A server without GitHub's route
answers its 404 with a web page, while GitHub's own 404 is JSON: the answer says which it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from support.api_http import delete_as_the_app
from support.errors import STEP_REVOKE, AuthError, safe_text
from support.http import requests
from support.settings import OAuthConfig, missing_secret
from support.token import Token
from support.token_endpoint import HTTP_TIMEOUT_SECONDS, USER_AGENT, client_authentication, what_went_wrong


class RevocationAnswer(NamedTuple):
    status: int
    github_json: bool  # a JSON object with GitHub's "message": GitHub's REST API itself answered
    summary: str  # for messages: "127.0.0.1:5000 answered HTTP 404 (text/html, not GitHub's JSON)"


def post_revocation(config: OAuthConfig, token: Token, step: str) -> RevocationAnswer:
    """RFC 7009 §2.1: POST `token` and `token_type_hint`, the app authenticated as at the token endpoint.

    The refresh token first (revoking it SHOULD end its grant's access tokens too), then the access
    token; the first answer that is not 200 is the one returned.
    """
    if token.refresh_token:
        answer = post_token_to_revoke(config, token.refresh_token, "refresh_token", step)
        if answer.status != 200:
            return answer
    return post_token_to_revoke(config, token.access_token, "access_token", step)


def post_token_to_revoke(config: OAuthConfig, value: str, hint: str, step: str) -> RevocationAnswer:
    url = config.revocation_url or ""
    credentials, headers = client_authentication(config, with_secret=bool(config.client_secret))
    try:
        response = requests.post(url, data={**credentials, "token": value, "token_type_hint": hint},
                                 headers={"Accept": "application/json", "User-Agent": USER_AGENT, **headers},
                                 timeout=HTTP_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as error:
        raise AuthError(step, what_went_wrong(error, urlsplit(url).netloc)[0]) from error
    return answer_from(response)


def delete_at_github(config: OAuthConfig, token: Token, step: str) -> RevocationAnswer:
    """GitHub's DELETE /applications/{client_id}/token, as the app
    (https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token)."""
    url = f"{config.api_url}/applications/{quote(config.client_id, safe='')}/token"
    return answer_from(delete_as_the_app(url, config.client_id, config.client_secret,
                                         {"access_token": token.access_token}, step))


def answer_from(response: requests.Response) -> RevocationAnswer:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower() or "no content type"
    try:
        body = response.json()
    except ValueError:
        body = None
    github_json = content_type == "application/json" and isinstance(body, dict) and "message" in body
    detail = safe_text(body.get("error"), 60) if isinstance(body, dict) else ""  # RFC 7009 §2.2.1's code
    if not detail and response.status_code == 404 and not github_json:
        detail = f"{content_type}, not GitHub's JSON"
    summary = f"{urlsplit(response.url or '').netloc} answered HTTP {response.status_code}"
    return RevocationAnswer(response.status_code, github_json, f"{summary} ({detail})" if detail else summary)


def revoke_github_token(config: OAuthConfig) -> Callable[[Token], None]:
    """RFC 7009 at the server's revocation endpoint when its metadata names one; else GitHub's own
    DELETE /applications/{client_id}/token, as the app (GitHub has no RFC 7009 endpoint)."""

    def revoke(token: Token) -> None:
        # Each failure says only why the token was not revoked; the caller says where to do it by hand.
        if (token.issuer, token.resource) != (config.server_url, config.api_url):
            raise AuthError(STEP_REVOKE, f"the token belongs to {token.resource}, not {config.api_url}, so it "
                            "was not sent there to be revoked")
        app = config.for_login(token)  # its own app's credentials: each host's secret goes to that host only
        if app.revocation_url:
            answer = post_revocation(app, token, STEP_REVOKE)
            revoked = answer.status == 200  # RFC 7009 §2.2: 200 whether or not the token was still valid
        elif not app.client_secret:  # never another host's: the secret goes only where it was configured
            raise AuthError(STEP_REVOKE, f"revoking needs the client secret, and {missing_secret(app)[0]}")
        else:
            answer = delete_at_github(app, token, STEP_REVOKE)
            # 204; or GitHub's own JSON 404/422, for a token it no longer knows: as good as revoked. Any
            # other server's 404 (a web page) means it has no such route, and nothing was revoked.
            revoked = answer.status == 204 or (answer.status in (404, 422) and answer.github_json)
        if not revoked:
            raise AuthError(STEP_REVOKE, answer.summary)

    return revoke

"""A local stand-in for GitHub: its OAuth endpoints and the slice of the REST API the chapter uses.

Not a step of the chapter, but the place to try every step with no account and no network: it
runs on 127.0.0.1, prints the variables that point the scripts at it, and says what to run next.
It copies github.com's real behaviour, quirks included, rather than a textbook OAuth server
(https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps).

Run:  python local_github.py [--port 8765] [--auto-approve] [--expiring] [--strict] [--repos N]
      --auto-approve skips the consent page; --expiring issues 8-hour tokens with refresh tokens;
      --strict holds clients to RFC 6749 and 7636 as Gitea and Forgejo do; --repos 250 shows paging.
Watch for the quirks a client must survive: a token error comes back with HTTP 200; the token
answer is form-encoded unless you ask for JSON; scopes come back comma-separated; a loopback
redirect may use any port (RFC 8252 §7.3); a refresh token works once; a wrong redirect_uri shows
a page instead of redirecting; every callback names its issuer (`iss`, RFC 9207).

The stand-in itself is the package stand_in/ (from stand_in import LocalGitHub, Settings).
"""

from stand_in.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

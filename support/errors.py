"""The one error type every step raises, the steps' names, and how secrets and server text are shown.

A failure a person can act on is an AuthError: which step failed, what happened, what to do. It
never carries a secret: messages hold masked values (`mask`) and server text made safe for a
terminal (`safe_text`).
"""

from __future__ import annotations

import re

# The chapter's steps, as messages name them: "login failed at step 2 (token exchange): ...".
STEP_CONFIG = "configuration"
STEP_AUTHORIZE = "step 1 (authorization URL)"
STEP_CALLBACK = "step 2 (callback)"
STEP_EXCHANGE = "step 2 (token exchange)"
STEP_DEVICE = "step 2 (device flow)"
STEP_API = "step 3 (API request)"
STEP_STORE = "token store"
STEP_REFRESH = "token refresh"
STEP_REVOKE = "revocation"

# Enough of a secret to tell two tokens apart, never enough to use one.
MASK_VISIBLE_TAIL = 4
TOKEN_TYPE_TAG = re.compile(r"[a-z]{2,6}_")  # gho_, ghr_, github_ ... never more of the token


class AuthError(Exception):
    """A failure a person can act on: which step failed, what happened, what to do.

    Every step of the chapter raises this one type; `main()` prints it as one line.
    The message never contains a secret: pass masked values only.
    """

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message

    @property
    def problem(self) -> str:
        """What went wrong, without the fix: messages say "what — fix"."""
        return self.message.split(" — ")[0]


class NotLoggedIn(AuthError):
    """No token is saved for this server: the one failure whose fix is simply to log in."""


class TokenRefused(AuthError):
    """The API refused the token itself (HTTP 401): it was revoked or has expired, and logging in again is the fix."""


class RefreshRejected(AuthError):
    """The provider refused the refresh token (expired, revoked or already used).

    A provider's refresh function raises this, rather than AuthError, for an invalid grant, so
    that the manager knows the refresh token is dead and must never be sent again.
    """


def mask(secret: str | None, show_prefix: bool = True) -> str:
    """Show a secret as its type prefix and last characters, like `gho_…a1b2`, or `(none)`.

    Many providers start tokens with a short lowercase type tag ending in "_" (gho_, ghr_);
    that tag says what the token is without helping anyone use it.
    """
    if not secret:
        return "(none)"
    tag = TOKEN_TYPE_TAG.match(secret) if show_prefix else None
    prefix = tag.group(0) if tag else ""
    if len(secret) < len(prefix) + 2 * MASK_VISIBLE_TAIL:
        return f"{prefix}…"
    return f"{prefix}…{secret[-MASK_VISIBLE_TAIL:]}"


def safe_text(value: object, limit: int) -> str:
    """Text from another party, made fit for a terminal: printable, one line, bounded."""
    if not isinstance(value, str):
        return ""
    # Drops escape sequences too: a hostile server must not be able to repaint your terminal.
    printable = "".join(char if char.isprintable() else " " for char in value)
    return printable[:limit].strip()


# The step scripts come before the complete tool in the chapter: their reader signs in with step
# 2's script and has not met `login` yet, so their errors give the advice in those words.
STEP_SCRIPT_WORDING = (
    ("run: python dev_github_tool.py login", "run: python 2_callback_exchange.py"),
    ("run login --device again", "run python device_flow.py again"),
    ("run login again", "sign in again with python 2_callback_exchange.py"),
    ("run login first", "sign in first with python 2_callback_exchange.py"),
    ("(login --scope \"read:user repo\")", "(GITHUB_SCOPES=\"read:user repo\", then python 2_callback_exchange.py)"),
)


def as_told_by_a_step_script(error: AuthError, script: str) -> str:
    """The one line a step script prints for `error`: the script's name, the step, and advice in
    the words of the chapter so far."""
    text = f"{script} failed at {error}"
    for tool_words, script_words in STEP_SCRIPT_WORDING:
        text = text.replace(tool_words, script_words)
    return text


# Advice that names one of the tool's commands, as its messages word it: "run login again", "Use login
# --force", "(login --scope …)", "run: python dev_github_tool.py login", "revoke it with logout".
COMMAND_ADVICE = re.compile(r"(\brun:? (?:python dev_github_tool\.py )?|\b[Uu]se |\bwith |\()"
                            r"(login|logout)\b(?! --hostname)")


def repeating_hostname(text: str, hostname: str | None) -> str:
    """`text` with every command it advises given the --hostname the user gave: without it, the advice
    would act on another host (the default one)."""
    if not hostname:
        return text
    return COMMAND_ADVICE.sub(lambda found: f"{found.group(0)} --hostname {hostname}", text)

"""The error tree. Providers map their libraries' errors into it with ``raise ... from exc``."""

from __future__ import annotations


class MailAgentError(Exception):
    """Base of every error the agent raises on purpose. `advice` says what fixes it."""

    exit_code = 1

    def __init__(self, message: str, *, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice


class ConfigError(MailAgentError):
    exit_code = 2


class PolicyError(ConfigError):
    """An invalid policy file; the message names the file, the field and the fix."""


class ProviderError(MailAgentError):
    exit_code = 3


class AuthError(ProviderError):
    """Credentials are missing, expired or revoked: the account needs `mailagent connect`."""


class RateLimited(ProviderError):
    def __init__(self, message: str, *, retry_after: float | None = None, advice: str = "") -> None:
        super().__init__(message, advice=advice)
        self.retry_after = retry_after


class NotFound(ProviderError):
    pass


class Transient(ProviderError):
    """A failure worth retrying later (network, 5xx); the sync resumes from its cursor."""


class StateError(MailAgentError):
    exit_code = 4


class LockedError(StateError):
    """Another sync holds this state file's lock."""


class SecretError(StateError):
    """A stored secret that the configured keys cannot open: sealed with a key that is not
    configured any more, or altered."""


class ParseError(MailAgentError):
    """One item (message, calendar) could not be read; the caller skips it with a logged reason."""


def first_line(text: object) -> str:
    """The first line of a service's error description (sign-in services append trace and
    correlation ids, google-auth the whole response); empty for none."""
    if not text:
        return ""
    lines = str(text).strip().splitlines()
    return lines[0].strip() if lines else ""

# SPDX-License-Identifier: MIT
"""The errors of aoai_agent, with the `aoai` CLI's exit codes.

Every error carries `.kind` (the agent's stable error code, such as
"no_match" or "locked", or one of the local kinds below) and `.exit_code`,
the status `aoai` exits with for the same outcome (see aoai(1)), so that a
Python wrapper can exit as the CLI does.  The message is the agent's
message, or a local one; neither ever holds a secret or a whole URL.

Local kinds (failures the agent did not report):
  no_agent  no agent answers at the socket path              exit 3
  invalid   a bad argument, refused before sending          exit 2
  protocol  the connection broke, timed out, or the agent
            sent something that is not a valid reply        exit 1
"""

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOAGENT = 3
EXIT_NOMATCH = 4
EXIT_LOCKED = 5
EXIT_UNAVAILABLE = 6
EXIT_DENIED = 7

# As client/shared/exitcode.c maps them (through libaoai's error classes).
_EXIT_CODES = {
    "no_match": EXIT_NOMATCH,
    "insecure_url": EXIT_NOMATCH,
    "locked": EXIT_LOCKED,
    "missing_secret": EXIT_UNAVAILABLE,
    "unavailable": EXIT_UNAVAILABLE,
    "denied": EXIT_DENIED,
    "no_agent": EXIT_NOAGENT,
    "invalid": EXIT_USAGE,
}

START_HINT = ('start one with eval "$(aoai-agent)", or use the systemd agent with '
              'eval "$(aoai env)"')


def exit_code(kind):
    """The exit status of `aoai` for the error @kind (1 for any kind not listed)."""
    return _EXIT_CODES.get(kind, EXIT_ERROR)


class AoaiError(Exception):
    """A request the agent refused, or one that could not be made."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exit_code = exit_code(kind)

    def __repr__(self):
        return f"{type(self).__name__}(kind={self.kind!r}, message={self.message!r})"


class NoAgentError(AoaiError):
    """No agent answers at the socket path (exit code 3)."""

    def __init__(self, message):
        super().__init__("no_agent", message)


class InvalidArgumentError(AoaiError, ValueError):
    """An argument the protocol does not allow, refused before sending (exit code 2)."""

    def __init__(self, message):
        super().__init__("invalid", message)


class ProtocolError(AoaiError):
    """The connection broke or timed out, or the reply was not a valid one (exit code 1)."""

    def __init__(self, message):
        super().__init__("protocol", message)


class NoMatchError(AoaiError):
    """no_match, insecure_url: no profile serves the URL, or no token profile (exit code 4)."""


class LockedError(AoaiError):
    """locked: the agent releases nothing until it is unlocked (exit code 5)."""


class UnavailableError(AoaiError):
    """missing_secret, unavailable: the credential cannot be produced (exit code 6)."""


class DeniedError(AoaiError):
    """denied: the profile does not allow this program (exit code 7)."""


_CLASSES = {
    "no_match": NoMatchError,
    "insecure_url": NoMatchError,
    "locked": LockedError,
    "missing_secret": UnavailableError,
    "unavailable": UnavailableError,
    "denied": DeniedError,
}


def from_reply(kind, message):
    """The exception for an error reply: its class chosen by @kind."""
    return _CLASSES.get(kind, AoaiError)(kind, message)

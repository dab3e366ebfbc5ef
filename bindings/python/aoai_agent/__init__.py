# SPDX-License-Identifier: MIT
"""aoai_agent: a client of aoai-agent, the local credential agent for Azure
OpenAI.  It asks the agent (over its Unix socket: $AOAI_AUTH_SOCK, else
$XDG_RUNTIME_DIR/aoai/agent.sock) for the headers of a request or for an
access token; the keys stay in the agent.

    import aoai_agent
    aoai_agent.headers("https://contoso.openai.azure.com/openai/...")  # -> dict
    aoai_agent.token().token                                           # bearer token
    openai.AzureOpenAI(..., azure_ad_token_provider=aoai_agent.token_provider())
    SomeAzureClient(..., credential=aoai_agent.AgentCredential())     # azure-core
    httpx.Client(auth=aoai_agent.AgentAuth())                          # needs httpx

Errors are AoaiError (with .kind and .exit_code, as the aoai CLI's), and
NoAgentError when no agent is running.
"""

import threading as _threading

from .auth import AgentCredential, token_provider
from .client import (DEFAULT_SCOPE, DEFAULT_TIMEOUT, AgentHeaders, Client, Header, Token,
                     agent_headers, default_client, headers, list_profiles, token)
from .errors import (AoaiError, DeniedError, InvalidArgumentError, LockedError, NoAgentError,
                     NoMatchError, ProtocolError, UnavailableError)
from .wire import socket_path

__version__ = "0.1.0"

__all__ = [
    "AgentAuth", "AgentCredential", "AgentHeaders", "AoaiError", "Client", "DEFAULT_SCOPE",
    "DEFAULT_TIMEOUT", "DeniedError", "Header", "InvalidArgumentError", "LockedError", "NoAgentError",
    "NoMatchError", "ProtocolError", "Token", "UnavailableError", "agent_headers",
    "default_client", "headers", "list_profiles", "socket_path", "token", "token_provider",
]


_lazy_lock = _threading.Lock()


def __getattr__(name):
    # AgentAuth subclasses httpx.Auth: made on first use, so that importing
    # aoai_agent never imports httpx.  Once only, so isinstance() holds.
    if name == "AgentAuth":
        with _lazy_lock:
            if "AgentAuth" not in globals():
                from .auth import make_httpx_auth
                try:
                    cls = make_httpx_auth()
                except ImportError as e:
                    raise ImportError(f"aoai_agent.AgentAuth needs httpx: {e}") from None
                cls.__module__, cls.__qualname__ = __name__, "AgentAuth"
                globals()["AgentAuth"] = cls
        return globals()["AgentAuth"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

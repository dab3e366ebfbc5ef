# SPDX-License-Identifier: MIT
"""The shapes SDKs take: a bearer-token provider for the openai SDK, a
credential for the Azure SDK (azure-core), and an httpx authentication class.

httpx is not a dependency: AgentAuth is made the first time it is asked for
(`from aoai_agent import AgentAuth`), and that raises ImportError when httpx
is not installed.
"""

from .client import DEFAULT_SCOPE, default_client
from .errors import InvalidArgumentError


def token_provider(profile=None, scope=DEFAULT_SCOPE, client=None):
    """A function of no arguments returning a bearer token string of the
    token profile @profile (default: the agent's only one) for @scope, fresh
    from the agent at each call (the agent caches and refreshes it), as
    openai.AzureOpenAI(azure_ad_token_provider=...) takes."""

    def provide():
        return (client or default_client()).token(profile, scope).token

    return provide


class AgentCredential:
    """A credential as azure-core takes one (TokenCredential): get_token(scope)
    returns a Token of the token profile @profile (default: the agent's only
    one), which has azure-core AccessToken's .token and .expires_on and unpacks
    as one.  The agent gives a token for one scope, without extra claims; a
    tenant_id is left to the profile."""

    def __init__(self, profile=None, client=None):
        self._profile = profile
        self._client = client

    def __repr__(self):
        return f"AgentCredential(profile={self._profile!r})"

    def get_token(self, *scopes, claims=None, tenant_id=None, **kwargs):
        if len(scopes) != 1:
            raise InvalidArgumentError("the agent gives a token for exactly one scope")
        if claims:
            raise InvalidArgumentError("the agent cannot ask for a token with extra claims")
        return (self._client or default_client()).token(self._profile, scopes[0])

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def make_httpx_auth():
    """Defines AgentAuth on httpx.Auth; ImportError without httpx."""
    import httpx

    class AgentAuth(httpx.Auth):
        """httpx authentication adding the agent's headers for each request's URL:
        httpx.Client(auth=AgentAuth()).  Without a profile for the URL's host
        the request is not sent: NoMatchError (an AoaiError) is raised.

        httpx carries a request's headers (all but Authorization) to a redirect's
        target; with follow_redirects=True an api-key would follow a redirect to
        another host, so keep httpx's default (no redirects).  With
        httpx.AsyncClient the agent is asked synchronously (it answers from
        memory, but a token fetch it must wait for blocks the event loop)."""

        def __init__(self, client=None):
            self._client = client

        def __repr__(self):
            return f"AgentAuth(client={self._client!r})"

        def auth_flow(self, request):
            agent = (self._client or default_client()).agent_headers(str(request.url))
            items = list(request.headers.multi_items())
            own = {k.lower() for k, _ in items}
            for h in agent.headers:
                low = h.name.lower()
                if low in own:
                    if h.exists_action == "skip":
                        continue
                    if h.exists_action == "override":
                        items = [(k, v) for k, v in items if k.lower() != low]
                        own.discard(low)
                items.append((h.name, h.value))  # append: both are sent
            request.headers = httpx.Headers(items, encoding=request.headers.encoding)
            yield request

    return AgentAuth

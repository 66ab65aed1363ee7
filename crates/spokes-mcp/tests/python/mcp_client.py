"""The official Python MCP SDK (`mcp` on PyPI) against the agents' endpoint of a running
`spokes serve --sandbox`: account `acme` is connected to the sandbox's Acme Inc through the
browser flow (played with plain HTTP, as the Rust tests' `walk_consent` does), then an agent
initializes, lists tools, reads the data model, writes a contact only when confirmed (once,
with an idempotency key), lists one tool per method with `tools=all`, and is refused another
account's path. All of that through ClientSession.initialize (the initialize handshake); then
the SDK's default `mcp.Client` (server/discover, the stateless 2026-07-28 revision) reads too.

Run by run.sh, which starts Spokes and passes SPOKES_URL, SIM_URL and SPOKES_KEY.
"""

import contextlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import anyio
import httpx2
from mcp import Client, ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client

BASE = os.environ["SPOKES_URL"]
SIM = os.environ["SIM_URL"]
KEY = os.environ["SPOKES_KEY"]


class Failed(Exception):
    pass


def check(condition, what, detail=None):
    if not condition:
        raise Failed(what if detail is None else f"{what}: {detail}")
    print(f"ok   {what}")


# --- Plain HTTP: the partner API and the browser's part of the consent -------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are read, not followed (the Location headers are the flow)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxies from the environment: everything here is on the loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def http(method, url, *, json_body=None, form=None, raw=None, key=None):
    """(status, headers, body text) of one request; redirects are answered, not followed."""
    headers = {}
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["content-type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    elif raw is not None:
        data = raw.encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read().decode()


def api(method, path, body=None):
    status, _, text = http(method, f"{BASE}{path}", json_body=body, key=KEY)
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


def connect_acme():
    """Account `acme` with a HubSpot installation connected to Acme Inc; its id."""
    status, body = api("POST", "/v1/accounts", {"id": "acme", "name": "Acme Inc"})
    check(status == 201, "partner API: account acme created", f"{status} {body}")
    status, body = api("POST", "/v1/accounts/acme/connectors", {"connector": "hubspot"})
    check(status == 201, "partner API: HubSpot installed in acme", f"{status} {body}")
    installation = body["id"]
    status, body = api("POST", f"/v1/accounts/acme/connectors/{installation}/auth-link", {})
    check(status in (200, 201) and "url" in body, "partner API: auth link", f"{status} {body}")
    link = body["url"]

    # The browser: the link's page → its button → HubSpot's consent page → choose Acme Inc →
    # back to Spokes.
    status, _, page = http("GET", link)
    check(status == 200 and "Acme Inc" in page, "consent: the link's page names Acme Inc", status)
    token = link.rsplit("/", 1)[-1]
    status, headers, _ = http("POST", link, form={"token": token})
    authorize = headers.get("location", "")
    check(
        status == 303 and authorize.startswith(f"{SIM}/oauth/authorize?"),
        "consent: Continue to HubSpot redirects to the simulator's consent page",
        f"{status} {authorize!r}",
    )
    status, _, text = http("GET", f"{SIM}/_sim/portals")
    portals = json.loads(text)
    acme = next((p["id"] for p in portals if p.get("name") == "Acme Inc"), None)
    check(acme is not None, "consent: the simulator has the portal Acme Inc", portals)
    query = authorize.split("?", 1)[1]
    status, headers, _ = http(
        "POST", f"{SIM}/oauth/authorize", raw=f"{query}&portal_id={acme}&decision=allow"
    )
    callback = headers.get("location", "")
    check(
        300 <= status < 400 and callback.startswith(BASE),
        "consent: allowing redirects back to Spokes",
        f"{status} {callback!r}",
    )
    status, _, _ = http("GET", callback)
    check(status == 200, "consent: the callback finishes the connection", status)
    status, body = api("GET", f"/v1/accounts/acme/connectors/{installation}")
    check(
        status == 200 and body.get("status") == "authenticated",
        f"installation {installation} is authenticated",
        f"{status} {body}",
    )
    return installation


# --- The MCP SDK ---------------------------------------------------------------------------


class Agent:
    """An MCP client session at `path` (its streamable HTTP client and ClientSession)."""

    def __init__(self, path, installation=None):
        self.url = f"{BASE}{path}"
        headers = {"Authorization": f"Bearer {KEY}"}
        if installation is not None:
            headers["Spokes-Installation"] = installation
        self.headers = headers

    async def __aenter__(self):
        self._stack = contextlib.AsyncExitStack()
        try:
            client = await self._stack.enter_async_context(
                httpx2.AsyncClient(
                    headers=self.headers, timeout=httpx2.Timeout(30.0), trust_env=False
                )
            )
            read, write = await self._stack.enter_async_context(
                streamable_http_client(self.url, http_client=client)
            )
            self.session = await self._stack.enter_async_context(ClientSession(read, write))
            self.initialized = await self.session.initialize()
        except BaseException:
            await self._stack.aclose()
            raise
        return self.session

    async def __aexit__(self, *exc):
        return await self._stack.__aexit__(*exc)


async def call(session, tool, arguments):
    """(is_error, structured content) of a tool call."""
    result = await session.call_tool(tool, arguments)
    return bool(result.is_error), result.structured_content


async def ok(session, tool, arguments):
    failed, answer = await call(session, tool, arguments)
    if failed:
        raise Failed(f"{tool} answered an error: {json.dumps(answer)}")
    return answer


async def find_contacts(session, email):
    answer = await ok(
        session,
        "search_records",
        {
            "object_type": "contacts",
            "filters": [{"propertyName": "email", "operator": "EQ", "value": email}],
            "properties": ["email"],
        },
    )
    return [record["id"] for record in answer["data"]]


async def agent_checks(installation):
    agent = Agent("/mcp", installation)
    async with agent as session:
        info = agent.initialized
        check(
            info.server_info.name == "spokes",
            f"initialize over /mcp (protocol {info.protocol_version}): server is spokes",
            info.server_info,
        )
        tools = [t.name for t in (await session.list_tools()).tools]
        check(
            all(t in tools for t in ("search_records", "create_record", "call_method")),
            f"tools/list: search_records, create_record, call_method among {len(tools)} tools",
            tools,
        )
        read = await session.read_resource("hubspot://data-model")
        model = json.loads(read.contents[0].text)
        types = [t["name"] for t in model["object_types"]]
        check("contacts" in types, "resources/read hubspot://data-model: contacts is an object type", types)

        create = {"object_type": "contacts", "fields": {"email": "py@example.com"}}
        preview = await ok(session, "create_record", create)
        check(preview.get("dry_run") is True, "create_record without confirm: dry_run", preview)
        found = await find_contacts(session, "py@example.com")
        check(found == [], "search_records: the preview created nothing", found)

        confirmed = dict(create, confirm=True, idempotency_key="py-1")
        created = await ok(session, "create_record", confirmed)
        contact = (created.get("data") or {}).get("id")
        check(isinstance(contact, str) and contact, f"create_record confirmed: contact {contact}", created)
        again = await ok(session, "create_record", confirmed)
        check(
            (again.get("data") or {}).get("id") == contact,
            "create_record again with idempotency key py-1: the same contact",
            again,
        )
        found = await find_contacts(session, "py@example.com")
        check(found == [contact], "search_records: exactly that one contact", found)

    path = f"/mcp/accounts/acme/installations/{installation}?tools=all"
    agent = Agent(path)
    async with agent as session:
        tools = [t.name for t in (await session.list_tools()).tools]
        check(
            "contacts_create" in tools,
            f"tools=all by path: contacts_create among {len(tools)} tools",
            tools[:20],
        )

    try:
        async with Agent(f"/mcp/accounts/nobody/installations/{installation}"):
            pass
    except MCPError as error:
        check(
            "does not exist" in error.message,
            f"another account's path: initialize refused, MCP error {error.code} (\"does not exist\")",
            error.message,
        )
    else:
        raise Failed("initialize at /mcp/accounts/nobody/... was not refused")

    # The SDK's high-level client with its default negotiation (mode "auto"): it probes
    # `server/discover` and, when the server answers, speaks the stateless 2026-07-28
    # revision (no initialize, protocol version and capabilities in every request's _meta).
    async with httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {KEY}", "Spokes-Installation": installation},
        timeout=httpx2.Timeout(30.0),
        trust_env=False,
    ) as http_client:
        async with Client(streamable_http_client(f"{BASE}/mcp", http_client=http_client)) as client:
            check(
                client.protocol_version == "2026-07-28"
                and client.server_info is not None
                and client.server_info.name == "spokes",
                f"mcp.Client (mode auto): server/discover negotiated {client.protocol_version} with spokes",
                client.server_info,
            )
            found = await find_contacts(client, "py@example.com")
            check(found == [contact], "mcp.Client at 2026-07-28: search_records finds the contact", found)

    # server/discover is refused like initialize: the client learns at connect time.
    async with httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {KEY}"}, timeout=httpx2.Timeout(30.0), trust_env=False
    ) as http_client:
        url = f"{BASE}/mcp/accounts/nobody/installations/{installation}"
        try:
            async with Client(streamable_http_client(url, http_client=http_client)):
                pass
        except Exception as error:  # the SDK may wrap it in an exception group
            messages = [getattr(e, "message", str(e)) for e in leaves(error)]
            check(
                any("does not exist" in m for m in messages),
                "mcp.Client at another account's path: refused at connect (\"does not exist\")",
                messages,
            )
        else:
            raise Failed("mcp.Client at /mcp/accounts/nobody/... was not refused at connect")


def main():
    installation = connect_acme()

    async def agents():
        with anyio.fail_after(60):
            await agent_checks(installation)

    anyio.run(agents)


def leaves(error):
    """The exceptions inside `error`: the SDK's task groups wrap what their bodies raise."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from leaves(inner)
    else:
        yield error


if __name__ == "__main__":
    try:
        main()
    except Exception as error:
        for leaf in leaves(error):
            if isinstance(leaf, Failed):
                print(f"FAIL {leaf}", file=sys.stderr)
                sys.exit(1)
            if isinstance(leaf, TimeoutError):
                print("FAIL the MCP checks took more than 60 seconds", file=sys.stderr)
                sys.exit(1)
        raise
    print("official Python MCP SDK: all checks passed")

"""netbox-bgp: BGP peers of a node from NetBox's netbox-bgp plugin (REST API).

The pure logic of the provider, importable and testable without WebAssembly: configuration,
the request (URL, Authorization header), pagination, mapping sessions to peers and errors to
provider-error kinds. `app.py` wires it to the WIT exports and `wasi_http.py` supplies the HTTP
client; neither is imported here.

API: GET {url}/api/plugins/bgp/bgpsession/?device=<name>&status=active&limit=<n>, then follow
`next` until it is null. Only sessions whose `status.value` is `active` become peers:
`remote_address.address` (prefix length dropped) -> peer address, `remote_as.asn` -> peer ASN,
`local_as.asn` -> local ASN, `local_address.address` -> source address. The plugin has no
password, multihop, TTL, port or hold-time fields, so those stay unset.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Protocol, Sequence, Tuple
from urllib.parse import quote, urlsplit

NAME = "netbox-bgp"
VERSION = "0.1.0"
WIT_VERSION = "0.2.0"
DESCRIPTION = (
    "BGP peers from the netbox-bgp plugin of a NetBox (active sessions of the node's device)."
)

URL_KEY = "url"
TOKEN_KEY = "token"
DEVICE_KEY = "device"
DEVICE_ID_KEY = "device-id"
VIRTUAL_MACHINE_KEY = "virtual-machine"

# The operator-facing configuration; also the `config` part of the metadata section.
CONFIG_KEYS = [
    {
        "key": URL_KEY,
        "description": "NetBox base URL, e.g. https://netbox.example.net (include BASE_PATH if "
        "NetBox has one: https://example.net/netbox).",
        "secret": False,
        "required": True,
    },
    {
        "key": TOKEN_KEY,
        "description": "NetBox API token with view permission on BGP sessions: a v2 token "
        "(nbt_..., NetBox >= 4.5) is sent as 'Authorization: Bearer', a v1 token as "
        "'Authorization: Token'. Unset = anonymous (only if NetBox allows it).",
        "secret": True,
        "required": False,
    },
    {
        "key": DEVICE_KEY,
        "description": "NetBox device (or virtual machine) name; default: the node name.",
        "secret": False,
        "required": False,
    },
    {
        "key": DEVICE_ID_KEY,
        "description": "NetBox device (or virtual machine) id; overrides the name (device names "
        "are unique per site only).",
        "secret": False,
        "required": False,
    },
    {
        "key": VIRTUAL_MACHINE_KEY,
        "description": "true: the node is a NetBox virtual machine (sessions hang off "
        "'virtualmachine', plugin >= 0.16).",
        "secret": False,
        "required": False,
        "default": "false",
    },
]

PLUGIN_PATH = "/api/plugins/bgp/bgpsession/"
# Sessions per page asked for; the server may cap it (MAX_PAGE_SIZE), `next` carries what it used.
PAGE_SIZE = 100
# Bound on pages followed, against a server whose `next` never ends.
MAX_PAGES = 50
# When the host should ask again: NetBox is edited by people, not a live control plane.
REFRESH_AFTER_SECONDS = 300
# Longest excerpt of an error body quoted in a message.
MAX_QUOTED_CHARS = 200
V2_TOKEN_PREFIX = "nbt_"
ACTIVE = "active"

# provider-error kinds, as in the WIT variant.
NOT_READY = "not-ready"
INVALID_INPUT = "invalid-input"
UNREACHABLE = "unreachable"
UNAUTHORIZED = "unauthorized"

# AS numbers the host refuses (0, AS_TRANS, the last 4-byte one).
RESERVED_ASNS = {0, 23456, 4294967295}


def metadata() -> dict:
    """The document for the `herald:provider-metadata` custom section (schema 1)."""
    return {
        "schema": 1,
        "name": NAME,
        "version": VERSION,
        "wit_version": WIT_VERSION,
        "description": DESCRIPTION,
        "hosts": [{"from_config": URL_KEY}],
        "config": CONFIG_KEYS,
    }


def metadata_json() -> str:
    return json.dumps(metadata(), separators=(",", ":"), ensure_ascii=False)


class ProviderError(Exception):
    """A provider-error: `kind` is one of NOT_READY, INVALID_INPUT, UNREACHABLE, UNAUTHORIZED."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __repr__(self) -> str:
        return f"ProviderError({self.kind!r}, {self.message!r})"


class HttpFailure(Exception):
    """No HTTP response. `denied`: the host refused the destination (not declared and granted);
    `transport`: DNS, connect, TLS, timeout; `invalid`: a request the client could not build."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class HttpResponse:
    status: int
    body: bytes


class HttpClient(Protocol):
    def get(self, url: str, headers: Sequence[Tuple[str, str]]) -> HttpResponse:
        """GET `url`; raises HttpFailure when there is no response."""
        ...


@dataclass(frozen=True)
class Peer:
    peer_address: str
    peer_asn: int
    local_asn: int
    source_address: Optional[str] = None


@dataclass(frozen=True)
class Settings:
    base_url: str
    token: Optional[str] = None
    device: Optional[str] = None
    device_id: Optional[int] = None
    virtual_machine: bool = False

    @property
    def endpoint(self) -> str:
        return self.base_url + PLUGIN_PATH

    @property
    def noun(self) -> str:
        return "virtual machine" if self.virtual_machine else "device"

    @property
    def filter_name(self) -> str:
        return "virtualmachine" if self.virtual_machine else "device"

    @property
    def session_field(self) -> str:
        return "virtualmachine" if self.virtual_machine else "device"

    def __repr__(self) -> str:  # never show the token
        token = "<redacted>" if self.token else None
        return (
            f"Settings(base_url={self.base_url!r}, token={token}, device={self.device!r}, "
            f"device_id={self.device_id!r}, virtual_machine={self.virtual_machine!r})"
        )


def parse_config(pairs: Iterable[Tuple[str, str]]) -> Settings:
    """Checks the operator's configuration. Errors name the key, never a secret value."""
    known = {entry["key"] for entry in CONFIG_KEYS}
    values = {}
    for key, value in pairs:
        if key not in known:
            raise ProviderError(
                INVALID_INPUT,
                f"unknown config key {key!r} (known keys: {', '.join(sorted(known))})",
            )
        values[key] = value.strip()

    url = values.get(URL_KEY, "")
    if not url:
        raise ProviderError(INVALID_INPUT, f"config key {URL_KEY!r} is required (NetBox base URL)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderError(
            INVALID_INPUT, f"config key {URL_KEY!r} must be an http(s) URL, got {url!r}"
        )
    if parts.username is not None or parts.password is not None:
        raise ProviderError(
            INVALID_INPUT,
            f"config key {URL_KEY!r} must not carry credentials (use {TOKEN_KEY!r})",
        )
    if parts.query or parts.fragment:
        raise ProviderError(
            INVALID_INPUT,
            f"config key {URL_KEY!r} must be NetBox's base URL, without query or fragment",
        )
    base = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    # A URL pasted from the browser's API view: keep only the base.
    for suffix in ("/api", PLUGIN_PATH.rstrip("/")):
        if base.endswith(suffix):
            base = base[: -len(suffix)]

    token = values.get(TOKEN_KEY) or None
    if token is not None and any(c.isspace() or ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        raise ProviderError(
            INVALID_INPUT,
            f"config key {TOKEN_KEY!r} must be one word of printable ASCII (value not shown)",
        )

    device_id = None
    if values.get(DEVICE_ID_KEY):
        text = values[DEVICE_ID_KEY]
        if not text.isdigit() or int(text) == 0:
            raise ProviderError(
                INVALID_INPUT, f"config key {DEVICE_ID_KEY!r} must be a positive integer, got {text!r}"
            )
        device_id = int(text)

    vm_text = values.get(VIRTUAL_MACHINE_KEY, "false").lower()
    if vm_text not in ("true", "false"):
        raise ProviderError(
            INVALID_INPUT,
            f"config key {VIRTUAL_MACHINE_KEY!r} must be true or false, got {vm_text!r}",
        )

    return Settings(
        base_url=base,
        token=token,
        device=values.get(DEVICE_KEY) or None,
        device_id=device_id,
        virtual_machine=vm_text == "true",
    )


def authorization(token: Optional[str]) -> Optional[Tuple[str, str]]:
    """NetBox >= 4.5 v2 tokens (`nbt_<key>.<token>`) go as Bearer, v1 tokens as Token."""
    if not token:
        return None
    if token.startswith(V2_TOKEN_PREFIX):
        return ("Authorization", f"Bearer {token}")
    return ("Authorization", f"Token {token}")


def token_scheme(token: Optional[str]) -> str:
    """How the token was sent, for error messages (never the token itself)."""
    if not token:
        return "no token was sent"
    if token.startswith(V2_TOKEN_PREFIX):
        return "a v2 token was sent as 'Authorization: Bearer'"
    return "a v1 token was sent as 'Authorization: Token'"


def request_headers(settings: Settings) -> List[Tuple[str, str]]:
    headers = [("Accept", "application/json")]
    auth = authorization(settings.token)
    if auth is not None:
        headers.append(auth)
    return headers


def target(settings: Settings, node_name: str) -> Tuple[str, str]:
    """(filter value, human description) of the NetBox object whose sessions we want."""
    if settings.device_id is not None:
        return str(settings.device_id), f"{settings.noun} id {settings.device_id}"
    name = settings.device or node_name
    return name, f"{settings.noun} {name!r}"


def first_page_url(settings: Settings, node_name: str) -> str:
    value, _ = target(settings, node_name)
    param = settings.filter_name + ("_id" if settings.device_id is not None else "")
    return (
        f"{settings.endpoint}?{param}={quote(value, safe='')}"
        f"&status={ACTIVE}&limit={PAGE_SIZE}"
    )


def next_page_url(settings: Settings, next_value: object, page_url: str) -> Optional[str]:
    """The URL of the next page, or None on the last one.

    `next` is absolute and built from what NetBox saw: behind a reverse proxy it may name another
    scheme, host or port than the operator configured (and granted). Only its query (filters,
    the limit the server really used, the offset) is taken, on the configured endpoint.
    """
    if next_value is None:
        return None
    if not isinstance(next_value, str) or not next_value:
        raise ProviderError(
            INVALID_INPUT, f"GET {page_url}: 'next' is not a URL or null: {_short(repr(next_value))}"
        )
    query = urlsplit(next_value).query
    if not query:
        raise ProviderError(
            INVALID_INPUT, f"GET {page_url}: 'next' has no query: {_short(next_value)}"
        )
    return f"{settings.endpoint}?{query}"


Log = Callable[[str, str], None]


def _no_log(_level: str, _message: str) -> None:
    pass


def discover(
    settings: Settings, node_name: str, http: HttpClient, log: Log = _no_log
) -> Tuple[List[Peer], int]:
    """Every active session of the node's device, over all pages, as peers.

    Returns (peers, refresh-after seconds). Raises ProviderError; messages never contain the token.
    """
    try:
        return _discover(settings, node_name, http, log)
    except ProviderError as err:
        raise ProviderError(err.kind, redact(err.message, settings.token)) from None


def _discover(
    settings: Settings, node_name: str, http: HttpClient, log: Log
) -> Tuple[List[Peer], int]:
    if not node_name and settings.device is None and settings.device_id is None:
        raise ProviderError(INVALID_INPUT, f"the node has no name; set config key {DEVICE_KEY!r}")
    value, what = target(settings, node_name)
    headers = request_headers(settings)
    url: Optional[str] = first_page_url(settings, node_name)
    seen = set()
    owners = {}
    peers: List[Peer] = []
    pages = 0
    while url is not None:
        if url in seen:
            raise ProviderError(INVALID_INPUT, f"GET {url}: 'next' points back to a page already read")
        if pages == MAX_PAGES:
            raise ProviderError(
                INVALID_INPUT, f"{what}: more than {MAX_PAGES} pages of BGP sessions; giving up"
            )
        seen.add(url)
        pages += 1
        page = _get_page(http, url, headers, settings, what)
        for index, session in enumerate(page["results"]):
            where = _where(session, index, url)
            _check_owner(session, settings, value, what, where, owners)
            peer = session_to_peer(session, where)
            if peer is None:
                log("debug", f"{where}: skipped, status is not {ACTIVE!r}")
            else:
                peers.append(peer)
        url = next_page_url(settings, page.get("next"), url)
    if len(owners) > 1:
        listed = ", ".join(f"id {oid} ({owner})" for oid, owner in sorted(owners.items()))
        raise ProviderError(
            INVALID_INPUT,
            f"{settings.noun} name {value!r} matches several NetBox {settings.noun}s: {listed}; "
            f"set config key {DEVICE_ID_KEY!r}",
        )
    if not peers:
        log("warn", f"NetBox lists no active BGP sessions for {what}")
    return peers, REFRESH_AFTER_SECONDS


def _get_page(http: HttpClient, url: str, headers, settings: Settings, what: str) -> dict:
    try:
        response = http.get(url, headers)
    except HttpFailure as failure:
        raise error_from_http(url, failure) from None
    check_status(url, response, settings, what)
    try:
        page = json.loads(response.body)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProviderError(
            INVALID_INPUT, f"GET {url}: response is not JSON ({err}): {_excerpt(response.body)}"
        ) from None
    if not isinstance(page, dict) or not isinstance(page.get("results"), list):
        raise ProviderError(
            INVALID_INPUT,
            f"GET {url}: response is not a NetBox list (no 'results' array): {_excerpt(response.body)}",
        )
    return page


def error_from_http(url: str, failure: HttpFailure) -> ProviderError:
    if failure.kind == "denied":
        return ProviderError(
            UNAUTHORIZED,
            f"GET {url}: denied by host (declare the host and grant it to the provider): {failure.message}",
        )
    if failure.kind == "invalid":
        return ProviderError(INVALID_INPUT, f"GET {url}: {failure.message}")
    return ProviderError(UNREACHABLE, f"GET {url}: {failure.message}")


def check_status(url: str, response: HttpResponse, settings: Settings, what: str) -> None:
    status = response.status
    if 200 <= status < 300:
        return
    detail = api_error_text(response.body)
    text = f"GET {url}: HTTP {status}" + (f": {detail}" if detail else "")
    if status in (401, 403):
        raise ProviderError(
            UNAUTHORIZED,
            f"{text} ({token_scheme(settings.token)}; the token needs view permission on "
            f"netbox_bgp BGP sessions)",
        )
    if status == 400 and _mentions_filter(response.body, settings):
        hint = (
            f"check config key {DEVICE_ID_KEY!r}"
            if settings.device_id is not None
            else f"set config key {DEVICE_KEY!r} if the NetBox name differs from the node name"
        )
        raise ProviderError(INVALID_INPUT, f"NetBox has no {what} ({text}); {hint}")
    if status == 404:
        raise ProviderError(
            INVALID_INPUT,
            f"{text} (is the netbox-bgp plugin installed, and {URL_KEY!r} NetBox's base URL?)",
        )
    if status in (408, 429) or 500 <= status <= 599:
        raise ProviderError(UNREACHABLE, text)
    raise ProviderError(INVALID_INPUT, text)


def _mentions_filter(body: bytes, settings: Settings) -> bool:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    names = {settings.filter_name, settings.filter_name + "_id"}
    return isinstance(value, dict) and any(name in value for name in names)


def api_error_text(body: bytes) -> Optional[str]:
    """NetBox's error text: `{"detail": "..."}` or field errors `{"field": ["...", ...]}`."""
    text = None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        value = None
        text = body.decode("utf-8", "replace").strip()
    if isinstance(value, dict):
        if isinstance(value.get("detail"), str):
            text = value["detail"]
        else:
            parts = []
            for field, errors in value.items():
                if isinstance(errors, list):
                    errors = "; ".join(str(e) for e in errors)
                parts.append(f"{field}: {errors}")
            text = ", ".join(parts)
    elif value is not None:
        text = json.dumps(value)
    return _short(text) if text else None


def _check_owner(session, settings: Settings, value: str, what: str, where: str, owners: dict):
    """The session belongs to the object asked for: guards against a filter NetBox ignored
    (`virtualmachine` before plugin 0.16 is ignored and would list every session) and collects
    the owners' ids (one name may match devices of several sites)."""
    if not isinstance(session, dict):
        raise ProviderError(INVALID_INPUT, f"{where}: a session is not a JSON object")
    owner = session.get(settings.session_field)
    if not isinstance(owner, dict):
        raise ProviderError(
            INVALID_INPUT,
            f"{where}: {settings.session_field!r} is {_short(json.dumps(owner))}, expected the "
            f"{what} (was the filter ignored? 'virtualmachine' needs plugin >= 0.16)",
        )
    if settings.device_id is not None:
        matches = owner.get("id") == settings.device_id
    else:
        matches = owner.get("name") == value
    if not matches:
        raise ProviderError(
            INVALID_INPUT,
            f"{where}: belongs to {settings.noun} {owner.get('name')!r} (id {owner.get('id')}), "
            f"not to the {what} asked for (the filter was ignored)",
        )
    site = session.get("site")
    site_name = site.get("name") if isinstance(site, dict) else None
    owners.setdefault(owner.get("id"), f"site {site_name!r}" if site_name else "no site")


def session_to_peer(session: dict, where: str) -> Optional[Peer]:
    """The peer for an active session, None for any other status."""
    status = session.get("status")
    status_value = status.get("value") if isinstance(status, dict) else status
    if not isinstance(status_value, str):
        raise ProviderError(INVALID_INPUT, f"{where}: 'status.value' is missing")
    if status_value != ACTIVE:
        return None
    peer_address = _address(session, "remote_address", where, required=True)
    source_address = _address(session, "local_address", where, required=False)
    peer_asn = _asn(session, "remote_as", where)
    local_asn = _asn(session, "local_as", where)
    if source_address is not None and (
        ipaddress.ip_address(source_address).version != ipaddress.ip_address(peer_address).version
    ):
        raise ProviderError(
            INVALID_INPUT,
            f"{where}: local_address {source_address} and remote_address {peer_address} are of "
            "different IP versions",
        )
    return Peer(
        peer_address=peer_address,
        peer_asn=peer_asn,
        local_asn=local_asn,
        source_address=source_address,
    )


def _address(session: dict, field: str, where: str, required: bool) -> Optional[str]:
    nested = session.get(field)
    if nested is None and not required:
        return None
    text = nested.get("address") if isinstance(nested, dict) else None
    if not isinstance(text, str):
        raise ProviderError(INVALID_INPUT, f"{where}: '{field}.address' is missing")
    try:
        # "192.0.2.10/31" -> "192.0.2.10"; IPv6 in its compressed form.
        return str(ipaddress.ip_interface(text).ip)
    except ValueError:
        raise ProviderError(
            INVALID_INPUT, f"{where}: '{field}.address' {_short(text)!r} is not an IP address"
        ) from None


def _asn(session: dict, field: str, where: str) -> int:
    nested = session.get(field)
    asn = nested.get("asn") if isinstance(nested, dict) else None
    if isinstance(asn, bool) or not isinstance(asn, int):
        raise ProviderError(
            INVALID_INPUT, f"{where}: '{field}.asn' is {_short(json.dumps(asn))}, expected a number"
        )
    if not 0 < asn < 2**32 or asn in RESERVED_ASNS:
        raise ProviderError(INVALID_INPUT, f"{where}: '{field}.asn' {asn} is not a usable AS number")
    return asn


def _where(session, index: int, url: str) -> str:
    sid = session.get("id") if isinstance(session, dict) else None
    name = session.get("display") if isinstance(session, dict) else None
    label = f"session {sid}" if sid is not None else f"results[{index}]"
    if isinstance(name, str):
        label += f" ({name})"
    return f"{label} on {url}"


def redact(message: str, secret: Optional[str]) -> str:
    if secret and len(secret) >= 4:
        return message.replace(secret, "<redacted>")
    return message


def _short(text: str) -> str:
    printable = "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)
    if len(printable) > MAX_QUOTED_CHARS:
        return printable[:MAX_QUOTED_CHARS] + "…"
    return printable


def _excerpt(body: bytes) -> str:
    text = body[: MAX_QUOTED_CHARS * 4].decode("utf-8", "replace").strip()
    return repr(_short(text)) if text else "(empty body)"

"""Unit tests of the provider's logic, without WebAssembly: `python3 -m unittest discover`
(run from examples/netbox-bgp)."""

import copy
import json
import unittest
from pathlib import Path

import netbox_bgp as nb

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://netbox.example.net"
ENDPOINT = BASE + "/api/plugins/bgp/bgpsession/"
FIRST = ENDPOINT + "?device=k8s-node-1&status=active&limit=100"
# The fixture's `next`, taken onto the configured endpoint.
SECOND = ENDPOINT + "?device=k8s-node-1&limit=2&offset=2"
V1_TOKEN = "0123456789abcdef0123456789abcdef01234567"
V2_TOKEN = "nbt_AbCdEf123456.0123456789abcdefghijklmnopqrstuvwxyz0123"

EXPECTED = [
    nb.Peer("192.0.2.10", 65000, 65101, "192.0.2.11"),
    nb.Peer("2001:db8:0:a::1", 65000, 65101, "2001:db8:0:a::11"),
]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str):
    return json.loads(fixture(name))


class FakeHttp:
    """Answers by exact URL; records (url, headers) of every request."""

    def __init__(self, routes=None):
        self.routes = dict(routes or {})
        self.requests = []

    def get(self, url, headers):
        self.requests.append((url, list(headers)))
        answer = self.routes.get(url)
        if answer is None:
            raise nb.HttpFailure("transport", f"connection to {url} refused")
        if isinstance(answer, nb.HttpFailure):
            raise answer
        status, body = answer
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        return nb.HttpResponse(status, body)

    def header(self, index, name):
        for key, value in self.requests[index][1]:
            if key.lower() == name.lower():
                return value
        return None


def two_pages():
    return FakeHttp(
        {
            FIRST: (200, fixture("api-bgpsession-page1.json")),
            SECOND: (200, fixture("api-bgpsession-page2.json")),
        }
    )


def settings(**config):
    pairs = {"url": BASE, "token": V1_TOKEN}
    pairs.update(config)
    return nb.parse_config([(k, v) for k, v in pairs.items() if v is not None])


class Discover(unittest.TestCase):
    def test_both_pages_only_active_sessions(self):
        http = two_pages()
        peers, refresh = nb.discover(settings(), "k8s-node-1", http)
        self.assertEqual(peers, EXPECTED)
        self.assertEqual(refresh, nb.REFRESH_AFTER_SECONDS)
        self.assertEqual([url for url, _ in http.requests], [FIRST, SECOND])

    def test_next_is_followed_on_the_configured_origin(self):
        # The fixture's `next` says https://netbox.example.net; configured is a mirror.
        mirror = "http://127.0.0.1:8080/netbox"
        endpoint = mirror + "/api/plugins/bgp/bgpsession/"
        http = FakeHttp(
            {
                endpoint + "?device=k8s-node-1&status=active&limit=100": (
                    200,
                    fixture("api-bgpsession-page1.json"),
                ),
                endpoint + "?device=k8s-node-1&limit=2&offset=2": (
                    200,
                    fixture("api-bgpsession-page2.json"),
                ),
            }
        )
        peers, _ = nb.discover(settings(url=mirror + "/"), "k8s-node-1", http)
        self.assertEqual(peers, EXPECTED)
        self.assertTrue(all(url.startswith(endpoint) for url, _ in http.requests))

    def test_device_config_overrides_the_node_name(self):
        http = two_pages()
        peers, _ = nb.discover(settings(device="k8s-node-1"), "ip-10-0-0-1", http)
        self.assertEqual(peers, EXPECTED)

    def test_device_name_is_url_encoded(self):
        http = FakeHttp()
        with self.assertRaises(nb.ProviderError):
            nb.discover(settings(device="rack 1/node&a"), "n", http)
        self.assertIn("?device=rack%201%2Fnode%26a&status=active", http.requests[0][0])

    def test_device_id_filter(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = None
        http = FakeHttp({ENDPOINT + "?device_id=12&status=active&limit=100": (200, page)})
        peers, _ = nb.discover(settings(**{"device-id": "12"}), "whatever", http)
        self.assertEqual(peers, EXPECTED)

    def test_virtual_machine_sessions(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = None
        for session in page["results"]:
            session["virtualmachine"], session["device"] = session["device"], None
        http = FakeHttp(
            {ENDPOINT + "?virtualmachine=k8s-node-1&status=active&limit=100": (200, page)}
        )
        peers, _ = nb.discover(settings(**{"virtual-machine": "true"}), "k8s-node-1", http)
        self.assertEqual(peers, EXPECTED)

    def test_ignored_filter_is_detected(self):
        # A plugin older than 0.16 ignores `virtualmachine=` and lists every device's sessions.
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = None
        http = FakeHttp(
            {ENDPOINT + "?virtualmachine=k8s-node-1&status=active&limit=100": (200, page)}
        )
        with self.assertRaises(nb.ProviderError) as caught:
            nb.discover(settings(**{"virtual-machine": "true"}), "k8s-node-1", http)
        self.assertEqual(caught.exception.kind, nb.INVALID_INPUT)
        self.assertIn("session 101", caught.exception.message)
        self.assertIn("'virtualmachine'", caught.exception.message)

    def test_same_name_in_two_sites_is_an_error(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = None
        other = page["results"][1]
        other["device"] = dict(other["device"], id=40)
        other["site"] = dict(other["site"], name="dc2")
        http = FakeHttp({FIRST: (200, page)})
        with self.assertRaises(nb.ProviderError) as caught:
            nb.discover(settings(), "k8s-node-1", http)
        self.assertEqual(caught.exception.kind, nb.INVALID_INPUT)
        self.assertIn("id 12 (site 'dc1'), id 40 (site 'dc2')", caught.exception.message)
        self.assertIn("'device-id'", caught.exception.message)

    def test_no_sessions_is_zero_peers_and_a_warning(self):
        http = FakeHttp({FIRST: (200, {"count": 0, "next": None, "previous": None, "results": []})})
        logged = []
        peers, _ = nb.discover(settings(), "k8s-node-1", http, lambda lvl, msg: logged.append((lvl, msg)))
        self.assertEqual(peers, [])
        self.assertEqual(logged, [("warn", "NetBox lists no active BGP sessions for device 'k8s-node-1'")])

    def test_non_active_statuses_are_skipped(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = None
        for status in ("offline", "planned", "failed"):
            page["results"][0]["status"] = {"value": status, "label": status.title()}
            peers, _ = nb.discover(settings(), "k8s-node-1", FakeHttp({FIRST: (200, page)}))
            self.assertEqual(peers, EXPECTED[1:], status)

    def test_session_without_local_address_has_no_source(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = None
        page["results"][0]["local_address"] = None
        peers, _ = nb.discover(settings(), "k8s-node-1", FakeHttp({FIRST: (200, page)}))
        self.assertEqual(peers[0], nb.Peer("192.0.2.10", 65000, 65101, None))

    def test_four_byte_asn(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = None
        page["results"][0]["local_as"]["asn"] = 4200000070
        peers, _ = nb.discover(settings(), "k8s-node-1", FakeHttp({FIRST: (200, page)}))
        self.assertEqual(peers[0].local_asn, 4200000070)

    def test_endless_next_is_stopped(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = FIRST
        with self.assertRaises(nb.ProviderError) as caught:
            nb.discover(settings(), "k8s-node-1", FakeHttp({FIRST: (200, page)}))
        self.assertEqual(caught.exception.kind, nb.INVALID_INPUT)
        self.assertIn("already read", caught.exception.message)


class Authorization(unittest.TestCase):
    def test_v1_token_is_sent_as_token(self):
        http = two_pages()
        nb.discover(settings(), "k8s-node-1", http)
        for index in range(2):
            self.assertEqual(http.header(index, "Authorization"), f"Token {V1_TOKEN}")
            self.assertEqual(http.header(index, "Accept"), "application/json")

    def test_v2_token_is_sent_as_bearer(self):
        http = two_pages()
        nb.discover(settings(token=V2_TOKEN), "k8s-node-1", http)
        self.assertEqual(http.header(0, "Authorization"), f"Bearer {V2_TOKEN}")
        self.assertEqual(http.header(1, "Authorization"), f"Bearer {V2_TOKEN}")

    def test_no_token_no_header(self):
        http = two_pages()
        nb.discover(settings(token=None), "k8s-node-1", http)
        self.assertIsNone(http.header(0, "Authorization"))


class Errors(unittest.TestCase):
    def discover_error(self, http, **config) -> nb.ProviderError:
        with self.assertRaises(nb.ProviderError) as caught:
            nb.discover(settings(**config), "k8s-node-1", http)
        error = caught.exception
        for token in (V1_TOKEN, V2_TOKEN):
            self.assertNotIn(token, error.message)
        return error

    def test_403_is_unauthorized_naming_the_scheme(self):
        http = FakeHttp({FIRST: (403, fixture("api-error-403.json"))})
        error = self.discover_error(http)
        self.assertEqual(error.kind, nb.UNAUTHORIZED)
        self.assertIn("HTTP 403: Invalid token", error.message)
        self.assertIn("v1 token was sent as 'Authorization: Token'", error.message)
        error = self.discover_error(http, token=V2_TOKEN)
        self.assertIn("v2 token was sent as 'Authorization: Bearer'", error.message)

    def test_401_is_unauthorized(self):
        http = FakeHttp({FIRST: (401, {"detail": "Authentication credentials were not provided."})})
        self.assertEqual(self.discover_error(http).kind, nb.UNAUTHORIZED)

    def test_403_on_page_two_names_page_two(self):
        http = FakeHttp(
            {
                FIRST: (200, fixture("api-bgpsession-page1.json")),
                SECOND: (403, {"detail": "You do not have permission to perform this action."}),
            }
        )
        error = self.discover_error(http)
        self.assertEqual(error.kind, nb.UNAUTHORIZED)
        self.assertIn(SECOND, error.message)

    def test_unknown_device_is_invalid_input_naming_it(self):
        url = ENDPOINT + "?device=k8s-node-9&status=active&limit=100"
        http = FakeHttp({url: (400, fixture("api-error-400-unknown-device.json"))})
        with self.assertRaises(nb.ProviderError) as caught:
            nb.discover(settings(), "k8s-node-9", http)
        error = caught.exception
        self.assertEqual(error.kind, nb.INVALID_INPUT)
        self.assertIn("NetBox has no device 'k8s-node-9'", error.message)
        self.assertIn("k8s-node-9 is not one of the available choices", error.message)
        self.assertIn("'device'", error.message)

    def test_other_statuses(self):
        cases = [
            (404, {"detail": "Not found."}, nb.INVALID_INPUT, "netbox-bgp plugin installed"),
            (400, {"limit": ["bad"]}, nb.INVALID_INPUT, "HTTP 400: limit: bad"),
            (429, b"", nb.UNREACHABLE, "HTTP 429"),
            (502, b"<html>Bad gateway</html>", nb.UNREACHABLE, "<html>Bad gateway</html>"),
        ]
        for status, body, kind, text in cases:
            error = self.discover_error(FakeHttp({FIRST: (status, body)}))
            self.assertEqual(error.kind, kind, status)
            self.assertIn(text, error.message, status)
            self.assertIn(FIRST, error.message, status)

    def test_transport_and_denial(self):
        error = self.discover_error(FakeHttp({FIRST: nb.HttpFailure("transport", "connection refused")}))
        self.assertEqual(error.kind, nb.UNREACHABLE)
        error = self.discover_error(FakeHttp({FIRST: nb.HttpFailure("denied", "http-request-denied")}))
        self.assertEqual(error.kind, nb.UNAUTHORIZED)
        self.assertIn("denied by host", error.message)

    def test_malformed_bodies_are_invalid_input_naming_the_page(self):
        cases = [
            (b"<html>login</html>", "response is not JSON"),
            ([1, 2], "no 'results' array"),
            ({"count": 1, "results": {}}, "no 'results' array"),
        ]
        for body, text in cases:
            error = self.discover_error(FakeHttp({FIRST: (200, body)}))
            self.assertEqual(error.kind, nb.INVALID_INPUT)
            self.assertIn(text, error.message)
            self.assertIn(FIRST, error.message)

    def test_malformed_sessions_name_session_and_field(self):
        def broken(change):
            page = fixture_json("api-bgpsession-page1.json")
            page["next"] = None
            change(page["results"][0])
            return FakeHttp({FIRST: (200, page)})

        cases = [
            (lambda s: s.update(remote_address=None), "'remote_address.address' is missing"),
            (lambda s: s["remote_address"].update(address="tor-a"), "'remote_address.address' 'tor-a'"),
            (lambda s: s["remote_as"].update(asn="65000"), "'remote_as.asn' is \"65000\", expected a number"),
            (lambda s: s["local_as"].pop("asn"), "'local_as.asn' is null"),
            (lambda s: s["local_as"].update(asn=0), "'local_as.asn' 0 is not a usable AS number"),
            (lambda s: s["remote_as"].update(asn=True), "'remote_as.asn' is true"),
            (lambda s: s["remote_as"].update(asn=2**32), "is not a usable AS number"),
            (lambda s: s.update(status=None), "'status.value' is missing"),
            (lambda s: s["local_address"].update(address="2001:db8::1/64"), "different IP versions"),
        ]
        for change, text in cases:
            error = self.discover_error(broken(change))
            self.assertEqual(error.kind, nb.INVALID_INPUT, text)
            self.assertIn(text, error.message)
            self.assertIn("session 101 (k8s-node-1:tor-a-v4) on " + FIRST, error.message)

    def test_bad_next(self):
        page = fixture_json("api-bgpsession-page1.json")
        page["next"] = 3
        error = self.discover_error(FakeHttp({FIRST: (200, page)}))
        self.assertEqual(error.kind, nb.INVALID_INPUT)
        self.assertIn("'next' is not a URL", error.message)

    def test_token_echoed_by_a_server_is_redacted(self):
        http = FakeHttp({FIRST: (403, {"detail": f"Invalid token {V1_TOKEN}"})})
        error = self.discover_error(http)
        self.assertIn("Invalid token <redacted>", error.message)


class Config(unittest.TestCase):
    def test_base_url_forms(self):
        for url in (
            "https://netbox.example.net",
            "https://netbox.example.net/",
            "https://netbox.example.net/api/",
            "https://netbox.example.net/api/plugins/bgp/bgpsession/",
        ):
            self.assertEqual(settings(url=url).endpoint, ENDPOINT, url)
        self.assertEqual(
            settings(url="https://example.net/netbox/").endpoint,
            "https://example.net/netbox/api/plugins/bgp/bgpsession/",
        )

    def test_invalid_config(self):
        cases = [
            ({"url": None}, "'url' is required"),
            ({"url": "netbox.example.net"}, "http(s) URL"),
            ({"url": "ftp://netbox.example.net"}, "http(s) URL"),
            ({"url": "https://user:pw@netbox.example.net"}, "credentials"),
            ({"url": "https://netbox.example.net/?x=1"}, "without query"),
            ({"device-id": "abc"}, "positive integer"),
            ({"virtual-machine": "yes"}, "true or false"),
            ({"tokn": "x"}, "unknown config key 'tokn'"),
        ]
        for config, text in cases:
            with self.assertRaises(nb.ProviderError) as caught:
                settings(**config)
            self.assertEqual(caught.exception.kind, nb.INVALID_INPUT, config)
            self.assertIn(text, caught.exception.message, config)

    def test_bad_token_is_not_echoed(self):
        with self.assertRaises(nb.ProviderError) as caught:
            settings(token="secret value")
        self.assertNotIn("secret value", caught.exception.message)

    def test_settings_repr_hides_the_token(self):
        self.assertNotIn(V1_TOKEN, repr(settings()))


class Metadata(unittest.TestCase):
    def test_document(self):
        document = json.loads(nb.metadata_json())
        self.assertEqual(document["schema"], 1)
        self.assertEqual(document["name"], "netbox-bgp")
        self.assertEqual(document["wit_version"], "0.2.0")
        self.assertEqual(document["hosts"], [{"from_config": "url"}])
        keys = {entry["key"]: entry for entry in document["config"]}
        self.assertEqual(set(keys), {"url", "token", "device", "device-id", "virtual-machine"})
        self.assertTrue(keys["token"]["secret"])
        self.assertTrue(keys["url"]["required"])
        self.assertEqual(
            [k for k, v in keys.items() if v["secret"]], ["token"], "only the token is secret"
        )

    def test_every_declared_key_is_accepted(self):
        pairs = [(entry["key"], entry.get("default", "1")) for entry in nb.CONFIG_KEYS]
        pairs = [(k, BASE if k == "url" else v) for k, v in pairs]
        nb.parse_config(pairs)


if __name__ == "__main__":
    unittest.main()

"""The component's entry point: `herald:provider/peer-discovery` for componentize-py.

componentize-py looks for a class named after the exported interface (`PeerDiscovery`) in the
module given on its command line (`app`). Everything NetBox-specific is in `netbox_bgp.py`;
this file only converts between its plain Python values and the generated WIT types.
"""

from typing import List, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import herald_provider_types as wit
from wit_world.imports import host_log

import netbox_bgp
from wasi_http import WasiHttp

_LEVELS = {
    "trace": host_log.Level.TRACE,
    "debug": host_log.Level.DEBUG,
    "info": host_log.Level.INFO,
    "warn": host_log.Level.WARN,
    "error": host_log.Level.ERROR,
}

_ERRORS = {
    netbox_bgp.NOT_READY: wit.ProviderError_NotReady,
    netbox_bgp.INVALID_INPUT: wit.ProviderError_InvalidInput,
    netbox_bgp.UNREACHABLE: wit.ProviderError_Unreachable,
    netbox_bgp.UNAUTHORIZED: wit.ProviderError_Unauthorized,
}

# The host calls configure then discover in the same fresh instance (and never reuses it), so a
# module global is the per-call state; None = configure was not called.
_settings = None


def _log(level: str, message: str) -> None:
    host_log.log(_LEVELS.get(level, host_log.Level.INFO), message)


def _wit_error(error: netbox_bgp.ProviderError) -> Err:
    return Err(_ERRORS[error.kind](error.message))


class PeerDiscovery(exports.PeerDiscovery):
    def configure(self, config: List[Tuple[str, str]]) -> None:
        global _settings
        try:
            _settings = netbox_bgp.parse_config(config)
        except netbox_bgp.ProviderError as error:
            raise _wit_error(error) from None
        except Exception as error:  # a bug; never quote config values (the token is one)
            _log("error", f"internal error in configure: {type(error).__name__}")
            raise Err(wit.ProviderError_InvalidInput(f"internal error: {type(error).__name__}")) from None

    def discover(self, node: wit.NodeContext) -> wit.Discovery:
        try:
            settings = _settings if _settings is not None else netbox_bgp.parse_config([])
            peers, refresh = netbox_bgp.discover(settings, node.node_name, WasiHttp(), _log)
        except netbox_bgp.ProviderError as error:
            raise _wit_error(error) from None
        except Exception as error:  # a bug: an uncaught exception would trap with no message
            token = _settings.token if _settings is not None else None
            message = netbox_bgp.redact(f"internal error: {type(error).__name__}: {error}", token)
            _log("error", message)
            raise Err(wit.ProviderError_InvalidInput(message)) from None
        return wit.Discovery(
            peers=[
                wit.BgpPeer(
                    peer_address=peer.peer_address,
                    peer_asn=peer.peer_asn,
                    local_asn=peer.local_asn,
                    source_address=peer.source_address,
                    password=None,
                    multihop_ttl=None,
                    route_via=None,
                    hold_time_seconds=None,
                    port=None,
                    keepalive_seconds=None,
                )
                for peer in peers
            ],
            refresh_after_seconds=refresh,
        )

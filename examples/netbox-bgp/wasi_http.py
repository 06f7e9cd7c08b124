"""HTTP GET over the `wasi:http/outgoing-handler` import (the host's allow-list applies).

Only usable inside the component: it imports the bindings componentize-py generates from
../../wit/0.2.0 (module `wit_world`). The same steps as the Rust SDK's `sdk/src/http/wasi.rs`.
"""

from typing import Sequence, Tuple
from urllib.parse import urlsplit

from componentize_py_types import Err, Ok
from wit_world.imports import outgoing_handler, wasi_http_types as http
from wit_world.imports.streams import StreamError_Closed, StreamError_LastOperationFailed

from netbox_bgp import HttpFailure, HttpResponse

# Bytes per blocking read, and the largest body read (larger is an error, not a truncation).
READ_CHUNK = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024


class WasiHttp:
    def get(self, url: str, headers: Sequence[Tuple[str, str]]) -> HttpResponse:
        parts = urlsplit(url)
        if parts.scheme == "https":
            scheme = http.Scheme_Https()
        elif parts.scheme == "http":
            scheme = http.Scheme_Http()
        else:
            raise HttpFailure("invalid", f"unsupported URL scheme {parts.scheme!r}")
        authority = parts.netloc
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            fields = http.Fields.from_list([(name, value.encode()) for name, value in headers])
        except Err as err:
            raise HttpFailure("invalid", f"a request header was refused: {_name(err.value)}") from None

        request = http.OutgoingRequest(fields)
        request.set_method(http.Method_Get())
        request.set_scheme(scheme)
        request.set_authority(authority)
        request.set_path_with_query(path)
        body = request.body()
        try:
            future = outgoing_handler.handle(request, None)
        except Err as err:
            raise _failure(authority, err.value) from None
        http.OutgoingBody.finish(body, None)

        with future:
            with future.subscribe() as pollable:
                pollable.block()
            outcome = future.get()
        if outcome is None or isinstance(outcome, Err):
            raise HttpFailure("transport", f"request to {authority}: no response")
        inner = outcome.value
        if not isinstance(inner, Ok):
            raise _failure(authority, inner.value)
        response = inner.value
        with response:
            status = response.status()
            incoming = response.consume()
            data = _read_body(incoming, authority)
        return HttpResponse(status=status, body=data)


def _read_body(incoming, authority: str) -> bytes:
    chunks = []
    size = 0
    stream = incoming.stream()
    try:
        while True:
            try:
                chunk = stream.blocking_read(READ_CHUNK)
            except Err as err:
                if isinstance(err.value, StreamError_Closed):
                    break
                if isinstance(err.value, StreamError_LastOperationFailed):
                    detail = err.value.value.to_debug_string()
                    raise HttpFailure(
                        "transport", f"reading the response from {authority} failed: {detail}"
                    ) from None
                raise
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise HttpFailure("invalid", f"response body larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    finally:
        # The stream is a child of the body: drop it first, then the body.
        stream.__exit__(None, None, None)
        incoming.__exit__(None, None, None)
    return b"".join(chunks)


def _failure(authority: str, code) -> HttpFailure:
    if isinstance(code, http.ErrorCode_HttpRequestDenied):
        return HttpFailure("denied", f"request to {authority} refused (http-request-denied)")
    if isinstance(code, http.ErrorCode_DestinationIpProhibited):
        return HttpFailure("denied", f"request to {authority} refused (destination-IP-prohibited)")
    if isinstance(code, http.ErrorCode_DnsError):
        rcode = code.value.rcode or "no answer"
        return HttpFailure("transport", f"DNS lookup of {authority} failed: {rcode}")
    if isinstance(code, http.ErrorCode_ConnectionRefused):
        return HttpFailure("transport", f"connection to {authority} refused")
    if isinstance(code, http.ErrorCode_ConnectionTimeout):
        return HttpFailure("transport", f"connection to {authority} timed out")
    detail = getattr(code, "value", None)
    suffix = f": {detail}" if isinstance(detail, str) and detail else ""
    return HttpFailure("transport", f"request to {authority} failed: {_name(code)}{suffix}")


def _name(value) -> str:
    """`ErrorCode_TlsCertificateError(...)` -> `TlsCertificateError`: the variant, no payload."""
    name = type(value).__name__
    return name.split("_", 1)[1] if "_" in name else name

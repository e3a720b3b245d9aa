"""A local stand-in for "API Gateway HTTP API + Lambda" that runs the REAL entrypoint.

The Lambda image runs ``python -m awslambdaric app.handler``. Docker (and so ``sam local``)
is not always available, so this module runs exactly that command as a subprocess and
implements, on 127.0.0.1, the two services around it:

* a Lambda **Runtime API** (the subset awslambdaric 4.x uses; ``AWS_LAMBDA_RUNTIME_API``
  points the child at it)::

      GET  /2018-06-01/runtime/invocation/next          blocks until an event is queued
      POST /2018-06-01/runtime/invocation/{id}/response
      POST /2018-06-01/runtime/invocation/{id}/error    (header Lambda-Runtime-Function-Error-Type)
      POST /2018-06-01/runtime/init/error

  ``/next`` answers with the event and ``Lambda-Runtime-Aws-Request-Id``,
  ``Lambda-Runtime-Deadline-Ms``, ``Lambda-Runtime-Invoked-Function-Arn`` and
  ``Lambda-Runtime-Trace-Id``. One invocation at a time, like one Lambda instance.

* an **HTTP front** shaped like an API Gateway HTTP API ($default route, payload format 2.0):
  any request becomes a v2.0 event, the function's response is translated back (statusCode,
  headers, cookies, base64 bodies); ``payload_version="1.0"`` (``--payload-version 1.0``) sends
  REST API proxy events instead, which is what template.yaml deploys. Requests whose event would
  exceed Lambda's 6 MB payload limit get 413 without invoking; an invocation over ``timeout``
  (default 29 s, API Gateway's) gets 504; over ``function_timeout`` (the function's own Timeout,
  10 s in template.yaml; off by default) it is a function error. After either the instance is
  recycled, as Lambda does. A function error, init error, crash or malformed response gets
  ``502 {"message": "Internal server error"}``.

The child's environment: COLDSTART_*, AWS_* and POWERTOOLS_* variables from this process
(plus PATH, HOME, LANG, TMPDIR, proxies), the usual Lambda variables
(AWS_LAMBDA_FUNCTION_NAME, ..._MEMORY_SIZE, ..._VERSION, AWS_REGION, _HANDLER,
LAMBDA_TASK_ROOT, TZ=:UTC, ...), cwd = task root, PYTHONPATH = task root + layer/ + repo
root. Its stdout/stderr (Powertools JSON logs, EMF metrics, awslambdaric error reports) go
to ``log_path``; ``verbose=True`` also streams them to this process's stderr.

Library use::

    with LocalLambda(env={"COLDSTART_RELEASE_URI": "build/demo/releases"}) as fn:
        urllib.request.urlopen(fn.url + "/health")     # over HTTP, via the front
        fn.invoke(http_api_event("GET", "/health"))    # raw event in, raw response out
        fn.init_seconds                                # spawn -> first /next poll (cold start)

CLI (``python -m local.lambda_api --help``; ``python -m infra serve`` runs it on the demo release)::

    python -m local.lambda_api serve --port 8080 [--release-uri URI] [--verbose]
    python -m local.lambda_api invoke events/health_http.json [--release-uri URI]

stdlib only (awslambdaric and the function's own dependencies run in the child).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping

from local.procs import HOST, ChildOwner, check_port_free, log_tail, spawn, stop_group, wait_for_stop_signal

__all__ = [
    "DEFAULT_TIMEOUT",
    "FunctionError",
    "InitError",
    "InvocationTimeout",
    "LocalLambda",
    "LocalLambdaError",
    "MAX_PAYLOAD_BYTES",
    "PayloadTooLarge",
    "http_api_event",
    "rest_api_event",
    "translate_response",
]

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_DIR = ROOT / "function"
LAYER_DIR = ROOT / "layer"
DEFAULT_LOG = ROOT / "build" / "local_lambda" / "lambda.log"

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda synchronous invoke: request and response payloads
DEFAULT_TIMEOUT = 29.0  # API Gateway's integration timeout
DEFAULT_INIT_TIMEOUT = 60.0
STOP_GRACE_SECONDS = 2.0
ACCOUNT_ID = "000000000000"
RUNTIME_PREFIX = "/2018-06-01/runtime"
_DRAIN_LIMIT = 64 * 1024 * 1024  # bigger request bodies are not read at all (connection closed)

# API Gateway's own error bodies (the function never sees these requests / its errors are hidden)
_APIGW_ERRORS = {
    413: {"message": "Request Entity Too Large"},
    502: {"message": "Internal server error"},
    504: {"message": "Endpoint request timed out"},
}

_ENV_PREFIXES = ("COLDSTART_", "AWS_", "POWERTOOLS_")
_ENV_NAMES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
              "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR")
# set by this module, or would switch awslambdaric into another mode (multi-concurrency,
# SnapStart hooks, framed telemetry logs) if inherited from the calling environment
_ENV_DROP_PREFIX = "AWS_LAMBDA_"
_ENV_KEEP_LAMBDA = ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL")
_ENV_DROP = ("AWS_EXECUTION_ENV", "_LAMBDA_TELEMETRY_LOG_FD", "_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET")


# ------------------------------------------------------------------------ errors
class LocalLambdaError(RuntimeError):
    """The local Lambda could not start or invoke."""


class InitError(LocalLambdaError):
    """The function failed during init (import of the handler module), crashed before its
    first ``/next`` poll, or did not finish init within ``init_timeout``.

    ``error`` is the payload the runtime posted to ``/init/error`` (errorType, errorMessage,
    stackTrace) when it did; ``log_tail`` the end of the child's output."""

    def __init__(self, message: str, error: dict | None = None, log_tail: str = ""):
        super().__init__(message)
        self.error = error or {}
        self.log_tail = log_tail


class FunctionError(LocalLambdaError):
    """The invocation failed: the handler raised (payload from ``/invocation/{id}/error``),
    the runtime exited mid-invocation, or the response exceeded the payload limit."""

    def __init__(self, payload: dict, error_type: str | None = None):
        self.payload = payload
        self.error_type = error_type or payload.get("errorType") or "Unhandled"
        super().__init__(f"{self.error_type}: {payload.get('errorMessage', '')}")


class InvocationTimeout(LocalLambdaError):
    """No response within the timeout; the instance is recycled (next invoke is a cold start)."""


class PayloadTooLarge(LocalLambdaError):
    """The event is over MAX_PAYLOAD_BYTES once serialised (Lambda's RequestTooLargeException)."""


# ------------------------------------------------------------------------ helpers
def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


def _read_body(rfile, headers, limit: int) -> tuple[bytes | None, int]:
    """Read a request body (Content-Length or chunked). Returns (body, size); body is None when
    size > limit (the excess is read and discarded up to _DRAIN_LIMIT so the client sees the
    reply instead of a reset; beyond that, size is -1 and nothing more is read)."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        parts, size = [], 0
        while True:
            line = rfile.readline(65537)
            try:
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise ValueError("bad chunk size") from None
            if n == 0:
                while rfile.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                break
            size += n
            if size > _DRAIN_LIMIT:
                return None, -1
            chunk = rfile.read(n)
            rfile.readline(3)
            if size <= limit:
                parts.append(chunk)
        return (b"".join(parts) if size <= limit else None), size
    length = int(headers.get("Content-Length") or 0)
    if length < 0:
        raise ValueError("negative Content-Length")
    if length <= limit:
        return rfile.read(length), length
    if length > _DRAIN_LIMIT:
        return None, -1
    left = length
    while left > 0:
        got = rfile.read(min(left, 1 << 20))
        if not got:
            break
        left -= len(got)
    return None, length


def _event_body(body: bytes | str | None) -> tuple[str | None, bool]:
    """(body as API Gateway passes it, isBase64Encoded): text when valid UTF-8, else base64."""
    if isinstance(body, (bytes, bytearray)):
        try:
            return bytes(body).decode("utf-8"), False
        except UnicodeDecodeError:
            return base64.b64encode(body).decode("ascii"), True
    return body, False


def _header_pairs(headers: Mapping[str, str] | list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])


def http_api_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
    query: str = "",
    source_ip: str = HOST,
    host: str = "localhost",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event (``$default`` stage, route "METHOD /path").

    Header names are lower-cased and repeated headers joined with ","; ``cookie`` headers
    become the ``cookies`` list. The body is passed as text when it is valid UTF-8, else
    base64 with ``isBase64Encoded: true``; no body (None) leaves ``body`` out."""
    method = method.upper()
    raw_path = path or "/"
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _header_pairs(headers):
        key = str(name).lower()
        if key == "cookie":
            cookies += [c.strip() for c in str(value).split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else str(value)
    now = time.time()
    rid = request_id or base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")
    route_key = f"{method} {raw_path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = merged
    if query:
        params: dict[str, str] = {}
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[k] = f"{params[k]},{v}" if k in params else v
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": merged.get("host", host),
        "domainPrefix": merged.get("host", host).split(".")[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": rid,
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    text, is_b64 = _event_body(body)
    if text is not None:
        event["body"] = text
    event["isBase64Encoded"] = is_b64
    return event


def rest_api_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
    query: str = "",
    source_ip: str = HOST,
    host: str = "localhost",
    request_id: str | None = None,
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0), what template.yaml's ProfileApi sends.

    ``resource`` is the path itself (the stack has one resource per route); headers keep their
    case (``headers`` holds the last value, ``multiValueHeaders`` all). Bodies that are not valid
    UTF-8 are base64 with ``isBase64Encoded: true`` (a REST API does that only for its
    binaryMediaTypes; the stack sets none, so there such bodies would arrive mangled)."""
    method = method.upper()
    path = path or "/"
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in _header_pairs(headers):
        single[str(name)] = str(value)
        multi.setdefault(str(name), []).append(str(value))
    qs_single: dict[str, str] = {}
    qs_multi: dict[str, list[str]] = {}
    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
        qs_single[k] = v
        qs_multi.setdefault(k, []).append(v)
    now = time.time()
    lower = {k.lower(): v for k, v in single.items()}
    body, is_b64 = _event_body(body)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": qs_single or None,
        "multiValueQueryStringParameters": qs_multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainName": lower.get("host", host),
            "requestId": request_id or str(uuid.uuid4()),
            "extendedRequestId": request_id or secrets.token_hex(8),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": lower.get("user-agent", ""), "accessKey": None,
                         "accountId": None, "caller": None, "user": None, "userArn": None,
                         "cognitoIdentityPoolId": None, "cognitoIdentityId": None,
                         "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None},
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def translate_response(result: Any, payload_version: str = "2.0") -> tuple[int, list[tuple[str, str]], bytes]:
    """A Lambda response → (status, headers, body bytes), as API Gateway maps it.

    A dict with ``statusCode`` is a proxy response (headers, multiValueHeaders, cookies (2.0),
    body, isBase64Encoded). Payload 2.0 takes anything else as JSON for a 200
    ``application/json`` response; 1.0 (REST) requires the proxy shape.
    Raises ValueError for a malformed proxy response (API Gateway answers 502 then)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        if payload_version == "1.0":
            raise ValueError("malformed Lambda proxy response: no statusCode")
        body = result if isinstance(result, str) else json.dumps(result, separators=(",", ":"))
        return 200, [("Content-Type", "application/json")], body.encode("utf-8")
    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"malformed Lambda proxy response: statusCode {status!r}")
    out: list[tuple[str, str]] = []
    headers = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    cookies = (result.get("cookies") or []) if payload_version == "2.0" else []
    if not isinstance(headers, dict) or not isinstance(multi, dict) or not isinstance(cookies, list):
        raise ValueError("malformed Lambda proxy response: headers/multiValueHeaders/cookies")
    for k, v in headers.items():
        if str(k).lower() not in _HOP_BY_HOP:
            out.append((str(k), _header_value(v)))
    for k, values in multi.items():
        if str(k).lower() in _HOP_BY_HOP or str(k).lower() in {h.lower() for h, _ in out}:
            continue
        for v in values if isinstance(values, list) else [values]:
            out.append((str(k), _header_value(v)))
    out += [("Set-Cookie", str(c)) for c in cookies]
    body = result.get("body")
    if body is None:
        data = b""
    elif not isinstance(body, str):
        raise ValueError("malformed Lambda proxy response: body is not a string")
    elif result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (ValueError, TypeError):
            raise ValueError("malformed Lambda proxy response: body is not valid base64") from None
    else:
        data = body.encode("utf-8")
    return status, out, data


# ------------------------------------------------------------------------ state
class _Invocation:
    def __init__(self, payload: bytes, timeout: float, function_arn: str):
        self.id = str(uuid.uuid4())
        self.payload = payload
        self.deadline_ms = int((time.time() + timeout) * 1000)
        self.function_arn = function_arn
        self.trace_id = _trace_id()
        self.done = threading.Event()
        self.cancelled = False
        self.taken = False
        self.kind: str | None = None  # "response" | "error"
        self.body = b""
        self.error_type: str | None = None


class _Child:
    """One execution environment: the awslambdaric process and what it told the Runtime API."""

    def __init__(self, generation: int):
        self.generation = generation
        self.proc: subprocess.Popen | None = None
        self.spawned_at = 0.0
        self.first_poll = threading.Event()
        self.first_poll_at: float | None = None
        self.init_error: dict | None = None
        self.init_error_type: str | None = None
        self.log_offset = 0
        self.tee: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, owner: "LocalLambda"):
        self.owner = owner
        self.stopping = False
        super().__init__(addr, handler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)) or self.stopping:
            return  # a client (or a killed runtime) hung up: not worth a traceback
        super().handle_error(request, client_address)


# ------------------------------------------------------------------------ Runtime API
class _RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the native client (curl) keeps its connection alive
    server_version = "local-lambda-runtime"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stalls
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _reply(self, status: int, payload: Any = None, headers: Mapping[str, str] | None = None,
               raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload if payload is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        owner = self.server.owner
        owner._record_runtime_call("GET", self.path, dict(self.headers.items()))
        if self.path == f"{RUNTIME_PREFIX}/invocation/next":
            return owner._serve_next(self)
        self._reply(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})

    def do_POST(self):
        owner = self.server.owner
        try:
            body, size = _read_body(self.rfile, self.headers, MAX_PAYLOAD_BYTES)
        except ValueError as e:
            self.close_connection = True
            return self._reply(400, {"errorMessage": str(e), "errorType": "InvalidRequest"})
        owner._record_runtime_call("POST", self.path, dict(self.headers.items()))
        if self.path == f"{RUNTIME_PREFIX}/init/error":
            return owner._on_init_error(self, body or b"")
        prefix = f"{RUNTIME_PREFIX}/invocation/"
        if self.path.startswith(prefix):
            rest = self.path[len(prefix):]
            request_id, _, action = rest.partition("/")
            if action in ("response", "error"):
                return owner._on_result(self, request_id, action, body, size)
        self._reply(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})


# ------------------------------------------------------------------------ HTTP front
class _FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-apigw"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stalls
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - access lines go through owner.access_log
        pass

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, request_id: str) -> None:
        self.send_response(status)
        names = {k.lower() for k, _ in headers}
        for k, v in headers:
            self.send_header(k, v)
        if "content-type" not in names and body:
            self.send_header("Content-Type", "application/json")
        self.send_header("apigw-requestid", request_id)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _apigw_error(self, status: int, request_id: str) -> None:
        body = json.dumps(_APIGW_ERRORS[status]).encode()
        self._send(status, [("Content-Type", "application/json")], body, request_id)

    def _handle(self):
        owner = self.server.owner
        t0 = time.monotonic()
        request_id = base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")
        status, note = 0, ""
        try:
            try:
                body, size = _read_body(self.rfile, self.headers, MAX_PAYLOAD_BYTES)
            except ValueError:
                self.close_connection = True
                status = 400
                return self._send(400, [], json.dumps({"message": "Bad Request"}).encode(), request_id)
            if body is None:  # over the limit: never reaches the function
                if size < 0:
                    self.close_connection = True
                status, note = 413, "payload over 6 MB, not invoked"
                return self._apigw_error(413, request_id)
            split = urllib.parse.urlsplit(self.path)
            make_event = rest_api_event if owner.payload_version == "1.0" else http_api_event
            event = make_event(  # an empty body is left out (v1: null), as API Gateway does
                self.command, split.path, body or None,
                list(self.headers.items()), split.query, self.client_address[0],
                host=f"{HOST}:{self.server.server_address[1]}", request_id=request_id,
            )
            try:
                result = owner.invoke(event)
                status, headers, data = translate_response(result, owner.payload_version)
            except PayloadTooLarge:
                status, note = 413, "event over 6 MB, not invoked"
                return self._apigw_error(413, request_id)
            except InvocationTimeout as e:
                status, note = 504, str(e)
                return self._apigw_error(504, request_id)
            except (LocalLambdaError, ValueError) as e:  # init/function error, crash, malformed response
                status, note = 502, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                return self._apigw_error(502, request_id)
            self._send(status, headers, data, request_id)
        finally:
            if owner.access_log is not None and status:
                ms = (time.monotonic() - t0) * 1000
                owner.access_log(f"{self.command} {self.path} {status} {ms:.1f} ms" + (f"  ({note})" if note else ""))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


# ------------------------------------------------------------------------ LocalLambda
class LocalLambda(ChildOwner):
    """``python -m awslambdaric HANDLER`` behind a local Runtime API and an HTTP API-like front.

    ``env`` adds/overrides variables for the function (e.g. COLDSTART_RELEASE_URI); ``task_root``
    is the function directory (cwd and first PYTHONPATH entry; default ``function/``).
    ``timeout`` is API Gateway's integration timeout: past it the front answers 504 and
    ``invoke`` raises InvocationTimeout. ``function_timeout`` is the function's own Timeout
    (template.yaml: 10 s); when set below ``timeout`` it is the deadline the runtime sees, and
    exceeding it is a function error ("Task timed out", 502), as in Lambda. Either way the
    instance is then recycled (the next invoke is a cold start). ``init_timeout`` bounds init
    (spawn → first ``/next`` poll). ``payload_version`` "2.0" (HTTP API, default) or "1.0"
    (REST API proxy events, what the stack deploys). ``port``/``runtime_port`` 0
    pick free ports. ``kill_with_parent`` makes the kernel SIGKILL the child if this process
    dies (the child is spawned from a dedicated long-lived thread, so that is safe with
    servers that handle requests on short-lived threads).
    """

    def __init__(
        self,
        handler: str = "app.handler",
        task_root: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        port: int = 0,
        runtime_port: int = 0,
        timeout: float = DEFAULT_TIMEOUT,
        function_timeout: float | None = None,
        init_timeout: float = DEFAULT_INIT_TIMEOUT,
        payload_version: str = "2.0",
        log_path: str | os.PathLike | None = None,
        verbose: bool = False,
        function_name: str = "coldstart",
        memory_mb: int = 1024,
        python: str | None = None,
        kill_with_parent: bool = True,
        access_log: Callable[[str], None] | None = None,
    ) -> None:
        self.handler = handler
        self.task_root = Path(task_root).resolve() if task_root is not None else FUNCTION_DIR
        self.extra_env = dict(env or {})
        self.timeout = float(timeout)
        self.function_timeout = float(function_timeout) if function_timeout is not None else None
        if payload_version not in ("1.0", "2.0"):
            raise ValueError("payload_version must be '1.0' (REST API) or '2.0' (HTTP API)")
        self.payload_version = payload_version
        self.init_timeout = float(init_timeout)
        self.verbose = verbose
        self.function_name = function_name
        self.memory_mb = int(memory_mb)
        self.python = python or sys.executable
        self.kill_with_parent = kill_with_parent
        self.access_log = access_log
        self._log_path = Path(log_path).resolve() if log_path is not None else DEFAULT_LOG
        self._requested = (port, runtime_port)
        self._front: _Server | None = None
        self._runtime: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._spawner: concurrent.futures.ThreadPoolExecutor | None = None
        self._child: _Child | None = None
        self._generation = 0
        self._queue: "queue.Queue[_Invocation]" = queue.Queue()
        self._current: _Invocation | None = None
        self._state_lock = threading.Lock()
        self._invoke_lock = threading.Lock()
        self._log = None
        self._log_lock = threading.Lock()
        self._started = False
        self.init_seconds: float | None = None  # last init: spawn -> first /next poll
        self.cold_starts = 0
        self.invocations = 0
        self.runtime_calls: list[tuple[str, str, dict]] = []  # (method, path, headers) of POSTs, last 100

    # ---------------------------------------------------------------- properties
    @property
    def url(self) -> str:
        if self._front is None:
            raise LocalLambdaError("not started")
        return f"http://{HOST}:{self._front.server_address[1]}"

    @property
    def port(self) -> int:
        return self._front.server_address[1] if self._front else self._requested[0]

    @property
    def runtime_api(self) -> str:
        """host:port of the Runtime API, as in AWS_LAMBDA_RUNTIME_API."""
        if self._runtime is None:
            raise LocalLambdaError("not started")
        return f"{HOST}:{self._runtime.server_address[1]}"

    @property
    def log_path(self) -> Path:
        return self._log_path

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self._region()}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def pid(self) -> int | None:
        child = self._child
        return child.proc.pid if child is not None and child.alive else None

    @property
    def running(self) -> bool:
        return self._started

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> "LocalLambda":
        """Start the Runtime API, the front and the function; return once init is done (the
        runtime's first ``/next`` poll). Raises InitError (with the child's message and log
        tail) if init fails."""
        if self._started:
            return self
        try:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self._log_path, "ab", buffering=0)
            self._runtime = self._serve(_RuntimeHandler, self._requested[1], "runtime-api")
            self._front = self._serve(_FrontHandler, self._requested[0], "front")
            self._spawner = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="local-lambda-spawner")
            self._stop_at_exit(True)
            self._started = True
            self._ensure_child()
        except BaseException:
            self.stop()
            raise
        return self

    def _serve(self, handler, port: int, name: str) -> _Server:
        server = _Server((HOST, port), handler, self)
        t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                             name=f"local-lambda-{name}", daemon=True)
        t.start()
        self._threads.append(t)
        return server

    def stop(self) -> None:
        """Stop the function (SIGTERM, SIGKILL after 2 s) and both servers. Idempotent."""
        self._started = False
        for server in (self._runtime, self._front):
            if server is not None:
                server.stopping = True
        with self._state_lock:
            child, self._child = self._child, None
            current, self._current = self._current, None
        if current is not None:
            current.cancelled = True
            current.done.set()
        self._drain_queue()
        if child is not None:
            self._kill(child)
        for attr in ("_front", "_runtime"):
            server = getattr(self, attr)
            if server is not None:
                server.shutdown()
                server.server_close()
                setattr(self, attr, None)
        for t in self._threads:
            t.join(timeout=2)
        self._threads = []
        if self._spawner is not None:
            self._spawner.shutdown(wait=True)
            self._spawner = None
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None
        self._stop_at_exit(False)

    def __repr__(self) -> str:
        state = f"{self.url} pid={self.pid}" if self._started else "stopped"
        return f"<LocalLambda {self.handler} {state}>"

    def banner(self) -> str:
        return f"coldstart API on {self.url}  (POST /profile, GET /health)"

    # ---------------------------------------------------------------- child process
    def _region(self) -> str:
        env = {**os.environ, **self.extra_env}
        return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"

    def child_env(self) -> dict[str, str]:
        """The function's environment (without AWS_LAMBDA_RUNTIME_API until started)."""
        env = {}
        for k, v in os.environ.items():
            if k in _ENV_DROP or (k.startswith(_ENV_DROP_PREFIX) and k not in _ENV_KEEP_LAMBDA):
                continue
            if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES):
                env[k] = v
        region = self._region()
        env.update({
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", region),
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{secrets.token_hex(16)}",
            "_HANDLER": self.handler,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(str(p) for p in (self.task_root, LAYER_DIR, ROOT)),
        })
        env.update(self.extra_env)
        if self._runtime is not None:
            env["AWS_LAMBDA_RUNTIME_API"] = self.runtime_api
        return env

    def _write_log(self, data: bytes) -> None:
        with self._log_lock:
            if self._log is not None:
                self._log.write(data)

    def _spawn(self, child: _Child) -> None:
        """Runs on the spawner thread (PR_SET_PDEATHSIG is per thread: a short-lived request
        thread would take the child down with it when it exits)."""
        cmd = [self.python, "-m", "awslambdaric", self.handler]
        env = self.child_env()
        with self._log_lock:
            if self._log is None:
                raise LocalLambdaError("stopped")
            self._log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} init #{child.generation}: "
                            f"{' '.join(cmd)} (cwd {self.task_root})\n".encode())
            child.log_offset = self._log.tell()
            out = subprocess.PIPE if self.verbose else self._log
            child.spawned_at = time.monotonic()
            child.proc = spawn(cmd, self._log, cwd=self.task_root, env=env,
                               kill_with_parent=self.kill_with_parent, stdout=out)
        if self.verbose:
            child.tee = threading.Thread(target=self._tee, args=(child.proc.stdout,), daemon=True,
                                         name="local-lambda-tee")
            child.tee.start()

    def _tee(self, stream) -> None:
        for line in iter(stream.readline, b""):
            self._write_log(line)
            try:
                sys.stderr.buffer.write(line)
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        stream.close()

    def _kill(self, child: _Child, grace: float = STOP_GRACE_SECONDS) -> None:
        proc = child.proc
        if proc is None:
            return
        stop_group(proc, grace)  # the whole group: anything the function forked goes too
        if child.tee is not None:
            child.tee.join(timeout=2)

    def _ensure_child(self) -> _Child:
        """The live, initialised child; spawns one (a cold start) when there is none."""
        child = self._child
        if child is not None and child.alive and child.first_poll.is_set():
            return child
        if child is not None:
            self._kill(child)
        if not self._started or self._spawner is None:
            raise LocalLambdaError("LocalLambda is not started")
        with self._state_lock:
            self._generation += 1
            child = _Child(self._generation)
            self._child = child
        self._drain_queue()
        self._spawner.submit(self._spawn, child).result()
        deadline = child.spawned_at + self.init_timeout
        while not child.first_poll.wait(0.02):
            exited = child.proc.poll() is not None
            if child.init_error is not None or exited:
                if not exited:  # awslambdaric exits(1) right after posting init/error
                    try:
                        child.proc.wait(3)
                    except subprocess.TimeoutExpired:
                        pass
                self._kill(child)
                raise self._init_failure(child)
            if time.monotonic() > deadline:
                self._kill(child)
                raise self._init_failure(child, timed_out=True)
        self.init_seconds = child.first_poll_at - child.spawned_at
        self.cold_starts += 1
        self._write_log(f"==== init #{child.generation} done in {self.init_seconds:.3f} s\n".encode())
        return child

    def _init_failure(self, child: _Child, timed_out: bool = False) -> InitError:
        tail = log_tail(self._log_path, child.log_offset)
        if timed_out:
            what = f"did not finish within {self.init_timeout:g} s (no /next poll)"
        elif child.init_error is not None:
            err = child.init_error
            what = f"failed: {err.get('errorType') or child.init_error_type}: {err.get('errorMessage', '')}"
        else:
            what = f"failed: the runtime exited with code {child.proc.returncode} before its first /next poll"
        msg = (f"function init {what}\n  handler {self.handler}, task root {self.task_root}\n"
               f"  log {self._log_path} (tail):\n{tail}")
        return InitError(msg, child.init_error, tail)

    def _drain_queue(self) -> None:
        while True:
            try:
                self._queue.get_nowait().cancelled = True
            except queue.Empty:
                return

    # ---------------------------------------------------------------- Runtime API side
    def _record_runtime_call(self, method: str, path: str, headers: dict) -> None:
        self.runtime_calls.append((method, path, headers))
        del self.runtime_calls[:-100]

    def _serve_next(self, h: _RuntimeHandler) -> None:
        child = self._child
        generation = child.generation if child is not None else -1
        if child is not None and not child.first_poll.is_set():
            child.first_poll_at = time.monotonic()
            child.first_poll.set()
        while True:
            if h.server.stopping or self._child is None or self._child.generation != generation:
                h.close_connection = True  # this environment is gone: leave the poll hanging up
                return
            try:
                inv = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if inv.cancelled:
                continue
            inv.taken = True
            with self._state_lock:
                self._current = inv
            h._reply(200, raw=inv.payload, headers={
                "Lambda-Runtime-Aws-Request-Id": inv.id,
                "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
                "Lambda-Runtime-Trace-Id": inv.trace_id,
            })
            return

    def _on_init_error(self, h: _RuntimeHandler, body: bytes) -> None:
        child = self._child
        try:
            err = json.loads(body.decode("utf-8")) if body else {}
        except ValueError:
            err = {"errorMessage": body.decode("utf-8", "replace")}
        if child is not None:
            child.init_error_type = h.headers.get("Lambda-Runtime-Function-Error-Type")
            child.init_error = err if isinstance(err, dict) else {"errorMessage": str(err)}
        h._reply(202, {"status": "OK"})

    def _on_result(self, h: _RuntimeHandler, request_id: str, action: str, body: bytes | None, size: int) -> None:
        with self._state_lock:
            inv = self._current
            if inv is None or inv.id != request_id or inv.done.is_set():
                h._reply(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
                return
            self._current = None
        if action == "response" and body is None:  # the runtime gets 413 and exits; the caller an error
            inv.kind, inv.error_type = "error", "Function.ResponseSizeTooLarge"
            inv.body = json.dumps({"errorMessage": f"Response payload size ({size} bytes) exceeded maximum "
                                   f"allowed payload size ({MAX_PAYLOAD_BYTES} bytes).",
                                   "errorType": "Function.ResponseSizeTooLarge"}).encode()
            inv.done.set()
            h._reply(413, {"errorMessage": "Payload Too Large", "errorType": "RequestEntityTooLarge"})
            return
        inv.kind = action
        inv.body = body or b""
        inv.error_type = h.headers.get("Lambda-Runtime-Function-Error-Type") if action == "error" else None
        inv.done.set()
        h._reply(202, {"status": "OK"})

    # ---------------------------------------------------------------- invoke
    def invoke(self, event: Any, timeout: float | None = None) -> Any:
        """Invoke the function once with ``event`` (raw event in, raw Lambda response out).

        Raises PayloadTooLarge (event over 6 MB serialised), InitError (a cold start that
        failed), FunctionError (handler raised / runtime exited / response over 6 MB) or
        InvocationTimeout. Calls are serialised: one invocation at a time."""
        payload = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"event is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
        inv = self._invoke_payload(payload, self.timeout if timeout is None else float(timeout))
        text = inv.body.decode("utf-8", "replace")
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None if inv.kind == "error" else text
        if inv.kind == "error":
            payload_obj = data if isinstance(data, dict) else {"errorMessage": text}
            raise FunctionError(payload_obj, inv.error_type)
        return data

    def _invoke_payload(self, payload: bytes, timeout: float) -> _Invocation:
        t0 = time.monotonic()
        fn_timeout = self.function_timeout if self.function_timeout is not None and self.function_timeout < timeout else None
        if not self._invoke_lock.acquire(timeout=timeout):
            raise InvocationTimeout(f"no free instance within {timeout:g} s (one invocation at a time)")
        try:
            child = self._ensure_child()  # a cold start after a timeout, crash or failed init
            remaining = max(timeout - (time.monotonic() - t0), 0.001)
            if fn_timeout is not None:
                remaining = min(remaining, fn_timeout)  # Lambda's clock starts at the invoke
            inv = _Invocation(payload, remaining, self.function_arn)
            self.invocations += 1
            self._queue.put(inv)
            deadline = time.monotonic() + remaining
            while not inv.done.wait(0.02):
                if not child.alive:
                    inv.cancelled = True
                    code = child.proc.returncode
                    with self._state_lock:
                        if self._current is inv:
                            self._current = None
                    if inv.done.is_set():  # the result arrived just before the exit
                        break
                    inv.kind, inv.error_type = "error", "Runtime.ExitError"
                    inv.body = json.dumps({"errorType": "Runtime.ExitError", "errorMessage":
                                           f"RequestId: {inv.id} Error: Runtime exited with code {code}"}).encode()
                    self._write_log(f"==== runtime exited with code {code} during {inv.id}\n".encode())
                    return inv
                if time.monotonic() > deadline:
                    inv.cancelled = True
                    with self._state_lock:
                        if self._current is inv:
                            self._current = None
                    limit = fn_timeout if fn_timeout is not None else timeout
                    self._write_log(f"==== {inv.id} timed out after {limit:g} s; recycling the instance\n".encode())
                    self._kill(child)  # Lambda resets the environment after a timeout
                    if fn_timeout is None:
                        raise InvocationTimeout(f"no response within {timeout:g} s (API Gateway timeout)")
                    inv.kind, inv.error_type = "error", "Sandbox.Timedout"
                    inv.body = json.dumps({"errorType": "Sandbox.Timedout", "errorMessage":
                                           f"RequestId: {inv.id} Error: Task timed out after {fn_timeout:.2f} seconds"}).encode()
                    return inv
            if inv.kind is None:  # stop() cancelled it
                raise LocalLambdaError("the local Lambda was stopped during the invocation")
            return inv
        finally:
            self._invoke_lock.release()


# ------------------------------------------------------------------------ CLI
def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--release-uri", metavar="URI",
                        help="COLDSTART_RELEASE_URI for the function (s3://bucket/prefix or a local directory); "
                             "default: inherited from the environment")
    common.add_argument("--handler", default="app.handler", help="handler (default app.handler)")
    common.add_argument("--task-root", type=Path, default=FUNCTION_DIR, help="function directory (default function/)")
    common.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra function env (repeatable)")
    common.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"per-invocation timeout in s (default {DEFAULT_TIMEOUT:g}, like API Gateway)")
    common.add_argument("--function-timeout", type=float, metavar="S",
                        help="the function's own Timeout (template.yaml: 10); past it: function error, 502")
    common.add_argument("--payload-version", choices=("2.0", "1.0"), default="2.0",
                        help="event format: 2.0 = HTTP API (default), 1.0 = REST API proxy (what template.yaml deploys)")
    common.add_argument("--init-timeout", type=float, default=DEFAULT_INIT_TIMEOUT,
                        help=f"init (cold start) timeout in s (default {DEFAULT_INIT_TIMEOUT:g})")
    common.add_argument("--log", type=Path, default=DEFAULT_LOG, help=f"function log file (default {DEFAULT_LOG.relative_to(ROOT)})")
    common.add_argument("--verbose", "-v", action="store_true", help="also stream the function's logs to stderr")

    ap = argparse.ArgumentParser(
        prog="python -m local.lambda_api",
        description=("Run the Lambda function locally through its real entrypoint (python -m awslambdaric "
                     "app.handler) against a local Lambda Runtime API, behind an API Gateway HTTP API-like "
                     "front on 127.0.0.1. No Docker needed."),
    )
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="{serve,invoke}")
    serve = sub.add_parser("serve", parents=[common], help="serve HTTP on 127.0.0.1 until Ctrl-C",
                           description="Serve the function over HTTP (API Gateway HTTP API, payload 2.0) until Ctrl-C.")
    serve.add_argument("--port", type=int, default=8080, help="front port (default 8080; 0 = any free)")
    serve.add_argument("--runtime-port", type=int, default=0, help="Runtime API port (default: any free)")
    inv = sub.add_parser("invoke", parents=[common], help="invoke one event file, print the response",
                         description="Start the function, invoke it once with EVENT (a JSON file, - for stdin), "
                                     "print the raw Lambda response as JSON, stop. Exit 1 on a function error.")
    inv.add_argument("event", metavar="EVENT.json")
    args = ap.parse_args(argv)
    for item in args.env:
        if "=" not in item:
            ap.error(f"--env {item!r}: expected KEY=VALUE")
    return args


def _function_env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(item.split("=", 1) for item in args.env)
    if args.release_uri:
        uri = args.release_uri
        if "://" not in uri:
            uri = str(Path(uri).resolve())  # the child runs in function/, not here
        env["COLDSTART_RELEASE_URI"] = uri
    return env


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    env = _function_env(args)
    if not env.get("COLDSTART_RELEASE_URI") and not os.environ.get("COLDSTART_RELEASE_URI") \
            and args.handler == "app.handler":
        print("note: COLDSTART_RELEASE_URI is not set (--release-uri): the service will answer 503 not_ready",
              file=sys.stderr)
    err = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    if args.cmd == "invoke":
        try:
            if args.event == "-":
                event = json.load(sys.stdin)
            else:
                with open(args.event, encoding="utf-8") as f:
                    event = json.load(f)
        except (OSError, ValueError) as e:
            err(f"cannot read event {args.event}: {e}")
            return 2
        fn = LocalLambda(handler=args.handler, task_root=args.task_root, env=env, timeout=args.timeout,
                         function_timeout=args.function_timeout, init_timeout=args.init_timeout,
                         log_path=args.log, verbose=args.verbose)
        try:
            fn.start()
            err(f"init {fn.init_seconds:.3f} s (cold start); function log {fn.log_path}")
            print(json.dumps(fn.invoke(event), indent=2, ensure_ascii=False))
            return 0
        except FunctionError as e:
            print(json.dumps(e.payload, indent=2, ensure_ascii=False))
            err(f"function error: {e}")
            return 1
        except LocalLambdaError as e:
            err(str(e))
            return 1
        finally:
            fn.stop()

    fn = LocalLambda(handler=args.handler, task_root=args.task_root, env=env, port=args.port,
                     runtime_port=args.runtime_port, timeout=args.timeout, function_timeout=args.function_timeout,
                     init_timeout=args.init_timeout, payload_version=args.payload_version,
                     log_path=args.log, verbose=args.verbose, access_log=err)
    try:
        check_port_free(args.port, "the API front")
        fn.start()
    except (LocalLambdaError, OSError) as e:
        err(f"local lambda failed to start: {e}")
        return 1
    try:
        print(fn.banner(), flush=True)
        err(f"init {fn.init_seconds:.3f} s (cold start); Runtime API {fn.runtime_api}; function log {fn.log_path}; "
            "Ctrl-C to stop")
        wait_for_stop_signal()
    finally:
        fn.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

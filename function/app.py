"""AWS Lambda front door: API Gateway REST (payload v1) and HTTP API (v2) → coldstart.service,
through Powertools' event resolvers; SQS profile updates through Powertools' BatchProcessor.

The release loads at init (cold start), not per request. Routing is exact (HTTP API's named
stage is stripped from rawPath the way Powertools does); a missing Content-Type is read as JSON,
an explicit other type is refused. Errors are coldstart's typed errors, mapped to statuses in one
place (coldstart.api.error_response). Logs are structured JSON without request text or ids;
metrics go out as CloudWatch EMF.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any, Dict, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from coldstart.api import (Identity, answer_health, error_body, error_response, log_bug, parse_path_user_id,
                           parse_profile_request, render_profile)
from coldstart.pii import mask_pii
from coldstart.errors import ColdstartError, InvalidRequest, MethodNotAllowed, NotFound, ServiceUnavailable
from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from coldstart.updates import APPLIED, parse_update

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "coldstart"), log_uncaught_exceptions=False)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Coldstart"))

HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
JSON_TYPE = "application/json; charset=utf-8"


def _pseudonyms(settings: ServingSettings):
    """The deployment's pseudonym keys: from the secret (Secrets Manager ARN/name, or ``ssm:/name``
    for a SecureString parameter) read once at init with bounded timeouts, else from the key file."""
    if not settings.pseudonym_secret:
        return None
    from botocore.config import Config

    from aws_lambda_powertools.utilities import parameters
    from coldstart.pseudonyms import Pseudonymizer

    config = Config(connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 2, "mode": "standard"})
    name = settings.pseudonym_secret
    if name.startswith("ssm:"):
        value = parameters.SSMProvider(boto_config=config).get(name[len("ssm:"):], decrypt=True)
    else:
        value = parameters.SecretsProvider(boto_config=config).get(name)
    return Pseudonymizer.from_text(value if isinstance(value, str) else value.decode("ascii"))


SETTINGS = ServingSettings.from_env()
SERVICE = ProfileService(SETTINGS, pseudonyms=_pseudonyms(SETTINGS))
logger.info("init", extra={"ready": SERVICE.health().ready, "release": SERVICE.health().release})
if not SERVICE.health().ready:
    logger.warning("no release loaded at init", extra={"reason": SERVICE.not_ready_reason()})

router = Router()


def _identity(event) -> Identity:
    """The caller as API Gateway's authorizer established it: a JWT (HTTP API) or Cognito (REST)
    subject is a signed-in user; an IAM-signed caller is a trusted backend. Read from the raw event
    defensively: a direct invoke may send any shape."""
    context = event.raw_event.get("requestContext")
    context = context if isinstance(context, dict) else {}
    authorizer = context.get("authorizer")
    if isinstance(authorizer, dict):
        jwt = authorizer.get("jwt")
        claims = jwt.get("claims") if isinstance(jwt, dict) else authorizer.get("claims")
        if isinstance(claims, dict) and isinstance(claims.get("sub"), str) and claims["sub"]:
            return Identity(subject=claims["sub"])
        iam = authorizer.get("iam")
        if isinstance(iam, dict) and iam.get("userArn"):
            return Identity(trusted=True)
    identity = context.get("identity")
    if isinstance(identity, dict) and identity.get("userArn"):  # REST API with AWS_IAM authorization
        return Identity(trusted=True)
    return Identity()


def _json(status: int, body: Dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=JSON_TYPE, headers=dict(HEADERS),
                    body=json.dumps(body, ensure_ascii=False, separators=(",", ":")))


def _body(event) -> Any:
    """The raw body: bytes when the gateway base64-encoded it (strictly, only for a JSON true)."""
    body = event.raw_event.get("body")
    if body is not None and event.raw_event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise InvalidRequest("invalid_encoding", "the body is marked base64 but is not valid base64") from None
    return body


@router.post("/profile")
def post_profile() -> Response:
    event = router.current_event
    request = parse_profile_request(_body(event), event.headers.get("content-type"),
                                    SETTINGS.max_text_chars, SETTINGS.max_k)
    outcome = SERVICE.profile(request, _identity(event))
    metrics.add_metric(name="LatencyMs", unit=MetricUnit.Milliseconds, value=outcome.latency_ms)
    metrics.add_metric(name="CacheHit", unit=MetricUnit.Count, value=1 if outcome.cache == "hit" else 0)
    metrics.add_metric(name="Fallback", unit=MetricUnit.Count, value=1 if outcome.profile.fallback else 0)
    for kind, count in outcome.pii_masked.items():
        metrics.add_metric(name=f"PiiMasked{kind.title().replace('_', '')}", unit=MetricUnit.Count, value=count)
    logger.info("profiled", extra={"top_tag": outcome.profile.top_tag, "fallback": outcome.profile.fallback,
                                   "reason": outcome.profile.reason, "cache": outcome.cache,
                                   "latency_ms": outcome.latency_ms, "pii_masked": outcome.pii_masked,
                                   "release": outcome.index_version, "stored": outcome.stored})
    return _json(200, render_profile(outcome, bool(SETTINGS.expose_neighbors)))


@router.delete("/profile/<user_id>")
def delete_profile(user_id: str) -> Response:
    removed = SERVICE.delete_profile(parse_path_user_id(user_id), _identity(router.current_event))
    metrics.add_metric(name="ProfilesDeleted", unit=MetricUnit.Count, value=1)
    logger.info("profile deleted", extra={"versions_removed": removed})
    return _json(200, {"deleted": True, "versions_removed": removed})


@router.get("/health")
def get_health() -> Response:
    status, body = answer_health(SERVICE)
    if status != 200:  # the reason (it may name locations) is for the operator's log only
        logger.warning("health: not ready", extra={"reason": SERVICE.not_ready_reason()})
    elif body.get("refresh_failed"):
        logger.warning("health: newest release not loaded", extra={"reason": SERVICE.manager.last_error})
    return _json(status, body)


@router.route("/profile", method=["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def profile_wrong_method() -> Response:
    raise MethodNotAllowed("method_not_allowed", "use POST /profile with a JSON body")


@router.route("/health", method=["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def health_wrong_method() -> Response:
    raise MethodNotAllowed("method_not_allowed", "use GET /health")


def _resolver(resolver_class):
    app = resolver_class()
    app.include_router(router)

    @app.exception_handler(ColdstartError)
    def coldstart_error(exc: ColdstartError) -> Response:
        status, body = error_response(exc)
        if isinstance(exc, ServiceUnavailable):  # the reason is for the operator's log only, masked
            logger.warning("unavailable", extra={"code": exc.code, "reason": mask_pii(str(exc)[:300]).text})
        _count_rejection(status, body)
        return _json(status, body)

    @app.exception_handler(Exception)
    def internal_error(exc: Exception) -> Response:  # a bug: type and place only; messages may quote data
        log_bug(exc)
        status, body = error_response(exc)
        _count_rejection(status, body)
        return _json(status, body)

    @app.not_found
    def not_found(exc: Exception) -> Response:
        status, body = error_response(NotFound("not_found", "routes: POST /profile, GET /health, "
                                                            "DELETE /profile/{user_id}"))
        _count_rejection(status, body)
        return _json(status, body)

    return app


def _count_rejection(status: int, body: Dict[str, Any]) -> None:
    metrics.add_metric(name=f"Status{status // 100}xx", unit=MetricUnit.Count, value=1)
    logger.info("rejected", extra={"status": status, "code": body.get("error", {}).get("code")})


REST = _resolver(APIGatewayRestResolver)
HTTP = _resolver(APIGatewayHttpResolver)


def _string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_STRING_MAPS = (("headers", lambda v: isinstance(v, str)), ("multiValueHeaders", _string_list),
                ("queryStringParameters", lambda v: isinstance(v, str)),
                ("multiValueQueryStringParameters", _string_list),
                ("pathParameters", lambda v: isinstance(v, str)))


def _event_problem(event: Any) -> Optional[str]:
    """Why ``event`` is not an API Gateway event we can route (a direct invoke can send anything)."""
    if not isinstance(event, dict):
        return "expected an API Gateway event (a JSON object)"
    if "isBase64Encoded" in event and not isinstance(event["isBase64Encoded"], bool):
        return "isBase64Encoded must be true or false"
    for field, value_ok in _STRING_MAPS:  # hypothesis findings: Powertools joins and splits these values as strings
        value = event.get(field)
        if value is not None and (not isinstance(value, dict) or not all(
                isinstance(k, str) and value_ok(v) for k, v in value.items())):
            return f"{field} must be an object of {'string lists' if value_ok is _string_list else 'strings'}"
    if event.get("cookies") is not None and not _string_list(event.get("cookies")):
        return "cookies must be a list of strings"
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        return "the body must be a string"
    context = event.get("requestContext")
    if context is not None and not isinstance(context, dict):
        return "requestContext must be an object"
    if event.get("version") == "2.0":
        http = (context or {}).get("http")
        if not isinstance(http, dict) or not isinstance(http.get("method"), str) \
                or not isinstance(event.get("rawPath"), str):
            return "an HTTP API event needs requestContext.http.method and rawPath"
        if not isinstance((context or {}).get("stage", "$default"), str):
            return "requestContext.stage must be a string"
    elif not isinstance(event.get("httpMethod"), str) or not isinstance(event.get("path"), str):
        return "a REST API event needs httpMethod and path"
    return None


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    problem = _event_problem(event)
    if problem is not None:
        _count_rejection(400, {"error": {"code": "invalid_event"}})
        return {"statusCode": 400, "headers": {"Content-Type": JSON_TYPE, **HEADERS}, "isBase64Encoded": False,
                "body": json.dumps(error_body("invalid_event", f"not an API Gateway event: {problem}"),
                                   ensure_ascii=False)}
    if event.get("version") == "2.0":
        return HTTP.resolve(_stage_as_routed(event), context)
    return REST.resolve(event, context)


def _stage_as_routed(event: Dict[str, Any]) -> Dict[str, Any]:
    """HTTP API with a named stage puts it in rawPath (``/prod/profile``) and Powertools strips
    ``/{stage}`` from rawPath without looking. `sam local generate-event` (and a direct invoke) may
    carry a stage with a rawPath that lacks it: route that path as it is instead of cutting it."""
    context = event.get("requestContext") or {}
    stage = context.get("stage", "$default")
    raw = event["rawPath"]
    if stage == "$default" or raw == f"/{stage}" or raw.startswith(f"/{stage}/"):
        return event if "stage" in context else {**event, "requestContext": {**context, "stage": "$default"}}
    return {**event, "requestContext": {**context, "stage": "$default"}}


# ---------------------------------------------------------------- profile updates (SQS)

UPDATES = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _apply_update(record) -> str:
    """One SQS message. Any exception reports it in batchItemFailures: SQS redelivers it, and after
    maxReceiveCount the redrive policy parks it in the dead-letter queue, where an operator sees it.
    That holds for malformed (poison) messages too: nothing is dropped silently."""
    try:
        message = parse_update(record.body)
    except ColdstartError as exc:
        metrics.add_metric(name="UpdatesInvalid", unit=MetricUnit.Count, value=1)
        logger.warning("update invalid; left for the dead-letter queue",
                       extra={"message_id": record.message_id, "reason": exc.code})
        raise
    try:
        outcome = SERVICE.apply_update(message)
    except Exception as exc:  # transient (or a bug): retried; type only, messages may quote data
        metrics.add_metric(name="UpdatesFailed", unit=MetricUnit.Count, value=1)
        logger.error("update failed", extra={"message_id": record.message_id, "error_type": type(exc).__name__})
        raise
    metrics.add_metric(name="UpdatesApplied" if outcome == APPLIED else "UpdatesStale", unit=MetricUnit.Count,
                       value=1)
    logger.info("update", extra={"message_id": record.message_id, "outcome": outcome, "version": message.version})
    return outcome


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def update_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    """SQS batch of profile updates ``{"user_id", "fields", "version"}`` (coldstart.updates)."""
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        logger.error("update: not an SQS event")
        return {"batchItemFailures": []}
    records = [r for r in event["Records"] if isinstance(r, dict) and r.get("messageId")]
    if len(records) != len(event["Records"]):
        logger.error("update: records without a messageId cannot be reported; dropped",
                     extra={"count": len(event["Records"]) - len(records)})
        metrics.add_metric(name="UpdatesInvalid", unit=MetricUnit.Count, value=len(event["Records"]) - len(records))
    return process_partial_response(event={"Records": records}, record_handler=_apply_update, processor=UPDATES,
                                    context=context)

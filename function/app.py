"""AWS Lambda front door: API Gateway REST (payload v1) and HTTP API (v2) → coldstart.service.

The release loads at init (cold start), not per request. Logs are structured JSON without
any request text; metrics go out as CloudWatch EMF (latency, cache hits, fallbacks, masked PII).
"""
from __future__ import annotations

import base64
import json
import os
from typing import Any, Dict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from coldstart.service import ProfileService
from coldstart.settings import ServingSettings
from coldstart.updates import APPLIED, InvalidUpdate, apply_update, parse_update

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "coldstart"), log_uncaught_exceptions=False)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Coldstart"))

SERVICE = ProfileService(ServingSettings.from_env())
logger.info("init", extra={"ready": SERVICE.manager is not None and SERVICE.manager.current is not None,
                           "release": getattr(getattr(SERVICE.manager, "current", None), "version", None)})

HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store",
           "X-Content-Type-Options": "nosniff"}


class _BadEvent(ValueError):
    """The event is not in an API Gateway shape (a direct invoke can send anything)."""


def _request_parts(event: Dict[str, Any]):
    """(method, path, content_type, body bytes|str) for v1 and v2 events."""
    if event.get("version") == "2.0":
        context = event.get("requestContext", {})
        http = context.get("http", {}) if isinstance(context, dict) else None
        if not isinstance(http, dict):
            raise _BadEvent("requestContext.http must be an object")
        method = http.get("method", "")
        path = event.get("rawPath") or ""
    else:
        method = event.get("httpMethod") or ""
        path = event.get("path") or event.get("resource") or ""
    if not isinstance(method, str) or not isinstance(path, str):
        raise _BadEvent("the method and the path must be strings")
    headers = event.get("headers") or {}
    if not isinstance(headers, dict):
        raise _BadEvent("headers must be an object")
    content_type = next((v for k, v in headers.items() if str(k).lower() == "content-type"), None)
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True)
        except (ValueError, TypeError):
            body = b"\xff"  # surfaces as invalid_encoding, 400
    return method.upper(), path, content_type, body


def _response(status: int, body: Dict[str, Any]) -> Dict[str, Any]:
    return {"statusCode": status, "headers": HEADERS, "isBase64Encoded": False,
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if not isinstance(event, dict):
        return _response(400, {"error": {"code": "invalid_event", "message": "expected an API Gateway event"}})
    try:
        method, path, content_type, body = _request_parts(event)
    except _BadEvent as exc:
        return _response(400, {"error": {"code": "invalid_event", "message": f"not an API Gateway event: {exc}"}})
    status, payload, result = SERVICE.handle(method, path, body, content_type)
    if status >= 400:
        metrics.add_metric(name=f"Status{status // 100}xx", unit=MetricUnit.Count, value=1)
        logger.info("rejected", extra={"status": status, "code": payload.get("error", {}).get("code")})
    if result is not None:
        b = result.body
        metrics.add_metric(name="LatencyMs", unit=MetricUnit.Milliseconds, value=b["latency_ms"])
        metrics.add_metric(name="CacheHit", unit=MetricUnit.Count, value=1 if b["cache"] == "hit" else 0)
        metrics.add_metric(name="Fallback", unit=MetricUnit.Count, value=1 if b["fallback"] else 0)
        for kind, count in result.pii_counts.items():
            metrics.add_metric(name=f"PiiMasked{kind.title().replace('_', '')}", unit=MetricUnit.Count, value=count)
        logger.info("profiled", extra={"status": status, "top_tag": b["top_tag"], "fallback": b["fallback"],
                                       "cache": b["cache"], "latency_ms": b["latency_ms"],
                                       "pii_masked": result.pii_counts, "release": b["index_version"]})
    return _response(status, payload)


# ---------------------------------------------------------------- profile updates (SQS)

@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def update_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    """SQS batch of profile updates ``{"user_id", "fields", "version"}`` (coldstart.updates).

    A malformed message is logged (its id and what is wrong, never its content) and dropped:
    retrying cannot fix it. A message that fails for any other reason (S3 or the release
    unavailable, a bug) is listed in ``batchItemFailures``: SQS redelivers only that one, and
    after maxReceiveCount the redrive policy moves it to the dead-letter queue.
    """
    failures = []
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        logger.error("update: not an SQS event")
        return {"batchItemFailures": []}
    for record in records:
        message_id = record.get("messageId") if isinstance(record, dict) else None
        if not message_id:
            logger.error("update: record without a messageId dropped")
            metrics.add_metric(name="UpdatesInvalid", unit=MetricUnit.Count, value=1)
            continue
        try:
            message = parse_update(record.get("body"))
        except InvalidUpdate as exc:
            logger.warning("update dropped", extra={"message_id": message_id, "reason": str(exc)})
            metrics.add_metric(name="UpdatesInvalid", unit=MetricUnit.Count, value=1)
            continue
        try:
            if SERVICE.profiler is None or SERVICE.profile_store is None:
                raise RuntimeError("no release or no COLDSTART_PROFILE_STORE_URI")
            outcome = apply_update(SERVICE.profiler, SERVICE.profile_store, message, SERVICE.settings.max_text_chars)
        except Exception as exc:  # transient (or a bug): retry this message only; type only, messages may quote data
            failures.append({"itemIdentifier": message_id})
            metrics.add_metric(name="UpdatesFailed", unit=MetricUnit.Count, value=1)
            logger.error("update failed", extra={"message_id": message_id, "error_type": type(exc).__name__})
            continue
        metrics.add_metric(name="UpdatesApplied" if outcome == APPLIED else "UpdatesStale", unit=MetricUnit.Count,
                           value=1)
        logger.info("update", extra={"message_id": message_id, "outcome": outcome, "version": message.version})
    return {"batchItemFailures": failures}

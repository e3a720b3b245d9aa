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

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "coldstart"), log_uncaught_exceptions=False)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Coldstart"))

SERVICE = ProfileService(ServingSettings.from_env())
logger.info("init", extra={"ready": SERVICE.manager is not None and SERVICE.manager.current is not None,
                           "release": getattr(getattr(SERVICE.manager, "current", None), "version", None)})

HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store",
           "X-Content-Type-Options": "nosniff"}


def _request_parts(event: Dict[str, Any]):
    """(method, path, content_type, body bytes|str) for v1 and v2 events."""
    if event.get("version") == "2.0":
        method = event.get("requestContext", {}).get("http", {}).get("method", "")
        path = event.get("rawPath") or ""
    else:
        method = event.get("httpMethod") or ""
        path = event.get("path") or event.get("resource") or ""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True)
        except (ValueError, TypeError):
            body = b"\xff"  # surfaces as invalid_encoding, 400
    return method.upper(), path, headers.get("content-type"), body


def _response(status: int, body: Dict[str, Any]) -> Dict[str, Any]:
    return {"statusCode": status, "headers": HEADERS, "isBase64Encoded": False,
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if not isinstance(event, dict):
        return _response(400, {"error": {"code": "invalid_event", "message": "expected an API Gateway event"}})
    method, path, content_type, body = _request_parts(event)
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

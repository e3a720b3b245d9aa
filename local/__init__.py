"""Local stand-ins for the cloud, for the demo, ``make serve`` and the tests (never deployed).

* ``local.s3``         a real S3-compatible server (SeaweedFS ``weed mini``) on 127.0.0.1;
* ``local.lambda_api`` the Lambda's real entrypoint (``python -m awslambdaric app.handler``) behind a
                       local Lambda Runtime API and an API Gateway-shaped HTTP front;
* ``local.procs``      what both need from a child process: own process group, death with the parent,
                       atexit stop, log tails, free ports.

They live outside ``infra/`` (the batch jobs) because nothing in a deployment runs them.
stdlib + boto3 only: importable without paddle.
"""

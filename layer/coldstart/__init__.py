"""coldstart: turn a new user's sign-up text into an interest profile.

The package is the shared core used by the Lambda (function/), the kiosk (edge/)
and the batch jobs (infra/). Nothing here imports paddle: serving must stay light.
Runs on Python 3.9+ (kiosks run Paddle Lite, whose wheels stop at 3.9/3.10).
"""
__version__ = "0.1.0"

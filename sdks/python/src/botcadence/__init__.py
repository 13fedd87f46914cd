"""Python client for the Botcadence API.

    from botcadence import Client

    client = Client('YOUR_API_KEY')
    workflows = client.workflows.list()
"""

from ._client import Client
from ._errors import (
    BotcadenceConnectionError,
    BotcadenceError,
    BotcadenceTimeoutError,
    WebhookVerificationError,
)
from ._operations import OPERATIONS, resolve_operation
from ._signatures import sign_payload, sign_standard_webhook, verify_signature, verify_standard_webhook
from ._transport import NOT_GIVEN, USER_AGENT
from ._version import __version__

__all__ = [
    "Client",
    "BotcadenceError",
    "BotcadenceConnectionError",
    "BotcadenceTimeoutError",
    "WebhookVerificationError",
    "verify_signature",
    "verify_standard_webhook",
    "sign_payload",
    "sign_standard_webhook",
    "OPERATIONS",
    "resolve_operation",
    "NOT_GIVEN",
    "USER_AGENT",
    "__version__",
]

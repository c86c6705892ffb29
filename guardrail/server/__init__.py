"""``guardrail serve``: the local engine behind the Azure AI Content Safety REST API.

``pip install 'guardrail[server]'`` (Starlette + uvicorn). :func:`create_app` builds the
ASGI app; ``guardrail serve`` runs it with uvicorn.
"""

from ._app import API_VERSIONS, create_app

__all__ = ["API_VERSIONS", "create_app"]

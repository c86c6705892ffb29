"""The service's error shape: ``{"error": {"code", "message", "target"?}}``, never a traceback."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from .._exceptions import (
    ConflictError,
    EmptyTextError,
    GuardrailError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
)

__all__ = ["ApiError", "error_response", "from_guardrail"]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.target = status, code, message, target


def error_response(status: int, code: str, message: str, target: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if target:
        body["target"] = target
    return JSONResponse({"error": body}, status_code=status)


def from_guardrail(exc: GuardrailError) -> ApiError:
    if isinstance(exc, NotFoundError):
        return ApiError(404, "NotFound", str(exc))
    if isinstance(exc, ConflictError):
        return ApiError(409, "Conflict", str(exc))
    if isinstance(exc, (EmptyTextError, LimitExceededError, InvalidInputError)):
        return ApiError(400, "InvalidRequestBody", str(exc))
    return ApiError(500, "InternalServerError", "the local engine could not answer; see the server log")

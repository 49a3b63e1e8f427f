"""Errors the emulated Bot API answers with."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": code, "description": description}``.

    ``violation`` marks errors that a correct bot never provokes (malformed or spec-breaking
    requests), as opposed to conditions of the world such as a user who blocked the bot; the
    sandbox records violations so a test can assert there were none.
    """

    def __init__(
        self,
        code: int,
        description: str,
        *,
        violation: bool = False,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str, *, violation: bool = True) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}", violation=violation)


def forbidden(detail: str) -> ApiError:
    # Being blocked or not started is a fact of the world, not a bug in the bot's request.
    return ApiError(403, f"Forbidden: {detail}", violation=False)


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        parameters={"retry_after": retry_after},
    )

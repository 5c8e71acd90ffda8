"""Typed failures: the ApplicationError `type` names match core/errors.ts; both take the non-retryable ones from schemas/constants.json."""
from __future__ import annotations

from temporalio.exceptions import ApplicationError

from .generated.constants import NON_RETRYABLE_ERROR_TYPES


def typed_failure(error_type: str, message: str, **details) -> ApplicationError:
    """An ApplicationError the TS workflow sees with `type`; non-retryable when retrying cannot help."""
    return ApplicationError(message, details, type=error_type, non_retryable=error_type in NON_RETRYABLE_ERROR_TYPES)


def invalid_payload(schema: str, problems: list[str]) -> ApplicationError:
    shown = "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
    return typed_failure("SchemaValidationError", f"payload does not match schema {schema}: {shown}", problems=problems)

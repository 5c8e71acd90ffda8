import pytest
from temporalio.exceptions import ApplicationError

from trainers.schemas import schema_problems, validate

REF = {"sha256": "a" * 64, "bytes": 3, "media_type": "text/plain"}


def test_valid_payload_passes():
    assert validate("ArtifactRef", REF) is REF


def test_cross_file_refs_resolve():
    probe = {"node_artifact": REF, "simulate_failure": "none"}
    assert schema_problems("PythonProbeRequest", probe) == []
    assert schema_problems("PythonProbeRequest", {**probe, "node_artifact": {**REF, "sha256": "x"}})


def test_invalid_payload_is_a_non_retryable_typed_failure():
    with pytest.raises(ApplicationError) as caught:
        validate("ArtifactRef", {**REF, "bytes": -1})
    assert caught.value.type == "SchemaValidationError"
    assert caught.value.non_retryable

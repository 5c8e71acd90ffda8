"""trainers/temporal_connection.py: the Python worker's TLS / mTLS / API-key options, the rules of core/temporal.ts."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.service import TLSConfig

from trainers.temporal_connection import connect_options


@pytest.fixture
def pems(tmp_path):
    for name, text in (("ca.pem", b"ca pem"), ("client.pem", b"cert pem"), ("client.key", b"key pem")):
        (tmp_path / name).write_bytes(text)
    return tmp_path


def options(env: dict[str, str]) -> dict:
    return connect_options({"TEMPORAL_ADDRESS": "temporal.example:7233", **env})


def test_nothing_configured_is_plaintext_to_the_address():
    assert options({}) == {"target_host": "temporal.example:7233"}
    # Compose passes unset settings as empty strings: still nothing configured.
    empty = {name: "" for name in ("TEMPORAL_TLS", "TEMPORAL_API_KEY", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_NAME")}
    assert options(empty) == {"target_host": "temporal.example:7233"}


def test_mtls_from_files_reaches_the_sdk(pems):
    mtls = options(
        {
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pems / "ca.pem"),
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pems / "client.pem"),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pems / "client.key"),
            "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
        }
    )
    assert mtls == {
        "target_host": "temporal.example:7233",
        "tls": TLSConfig(server_root_ca_cert=b"ca pem", client_cert=b"cert pem", client_private_key=b"key pem", domain="temporal.internal"),
    }


def test_an_api_key_turns_tls_on_and_is_passed():
    keyed = options({"TEMPORAL_API_KEY": "secret"})
    assert keyed["api_key"] == "secret"
    assert isinstance(keyed["tls"], TLSConfig)
    assert isinstance(options({"TEMPORAL_TLS": "true"})["tls"], TLSConfig)


@pytest.mark.parametrize(
    "env, problem",
    [
        ({"TEMPORAL_TLS": "false", "TEMPORAL_TLS_SERVER_CA_CERT_DATA": "ca"}, "contradicts"),
        ({"TEMPORAL_TLS": "false", "TEMPORAL_API_KEY": "secret"}, "in clear"),
        ({"TEMPORAL_TLS_CLIENT_CERT_DATA": "cert"}, "both"),
        ({"TEMPORAL_TLS_CLIENT_KEY_DATA": "key"}, "both"),
        ({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "/nonexistent/ca.pem"}, "cannot read"),
        ({"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "/x", "TEMPORAL_TLS_SERVER_CA_CERT_DATA": "x"}, "not both"),
        ({"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "true"}, "not supported"),
    ],
)
def test_contradictions_are_refused_never_downgraded_to_plaintext(env, problem):
    with pytest.raises(ApplicationError, match=problem) as refused:
        options(env)
    assert refused.value.type == "InvalidRequest"

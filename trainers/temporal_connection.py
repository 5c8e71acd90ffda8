"""How the Python worker reaches Temporal: address, TLS (mTLS with a client certificate) and an API key.

The variables are Temporal's own environment configuration, read by temporalio.envconfig, and the
same the TypeScript clients and worker read (core/temporal.ts documents them): TEMPORAL_ADDRESS,
TEMPORAL_TLS, TEMPORAL_TLS_SERVER_CA_CERT_PATH|_DATA, TEMPORAL_TLS_CLIENT_CERT_PATH|_DATA,
TEMPORAL_TLS_CLIENT_KEY_PATH|_DATA, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY.

On top of the SDK's reading, the rules core/temporal.ts applies, so that no setting quietly leaves the
connection in plaintext: TEMPORAL_TLS=false with certificates or an API key, half a client pair, an
unreadable file or TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is a typed InvalidRequest. Config files
(temporal.toml) are not read: the environment is the one source, in both languages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from temporalio.envconfig import ClientConfigProfile
from temporalio.service import TLSConfig

from . import config
from .errors import typed_failure


def _config_error(message: str):
    return typed_failure("InvalidRequest", f"Temporal connection settings: {message}")


def _set(env: Mapping[str, str], prefix: str) -> bool:
    return bool((env.get(f"{prefix}_PATH") or "").strip() or (env.get(f"{prefix}_DATA") or "").strip())


def connect_options(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Keyword arguments for temporalio.client.Client.connect: target_host, tls, api_key."""
    if (env.get("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION") or "").strip().lower() in ("true", "1"):
        raise _config_error("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported: give the server CA (TEMPORAL_TLS_SERVER_CA_CERT_PATH) and, if needed, TEMPORAL_TLS_SERVER_NAME")
    for prefix in ("TEMPORAL_TLS_SERVER_CA_CERT", "TEMPORAL_TLS_CLIENT_CERT", "TEMPORAL_TLS_CLIENT_KEY"):
        if (env.get(f"{prefix}_PATH") or "").strip() and (env.get(f"{prefix}_DATA") or "").strip():
            raise _config_error(f"set {prefix}_PATH or {prefix}_DATA, not both")
    if _set(env, "TEMPORAL_TLS_CLIENT_CERT") != _set(env, "TEMPORAL_TLS_CLIENT_KEY"):
        raise _config_error("mTLS needs both TEMPORAL_TLS_CLIENT_CERT_* and TEMPORAL_TLS_CLIENT_KEY_*; only one is set")
    try:
        # Empty means unset (compose passes ${VAR:-} through as ""), as in core/temporal.ts; the SDK would read "" as a path.
        profile = ClientConfigProfile.load(disable_file=True, override_env_vars={name: value for name, value in env.items() if value.strip()})
    except Exception as err:  # the SDK's reader names the variable it could not parse
        raise _config_error(str(err)) from err
    tls = profile.tls
    tls_material = tls is not None and any((tls.server_root_ca_cert, tls.client_cert, tls.server_name))
    api_key = (profile.api_key or "").strip() or None
    options: dict[str, Any] = {"target_host": profile.address or config.temporal_address()}
    if tls is not None and tls.disabled:
        if tls_material:
            raise _config_error("TEMPORAL_TLS=false contradicts the TEMPORAL_TLS_* certificate settings; remove one or the other")
        if api_key:
            raise _config_error("TEMPORAL_API_KEY over a plaintext connection (TEMPORAL_TLS=false) would send the key in clear")
        return options
    if tls is not None or api_key:
        try:
            sdk_tls = tls.to_connect_tls_config() if tls is not None else TLSConfig()
        except OSError as err:
            raise _config_error(f"cannot read a TEMPORAL_TLS_* file: {err}") from err
        options["tls"] = sdk_tls
    if api_key:
        options["api_key"] = api_key
    return options

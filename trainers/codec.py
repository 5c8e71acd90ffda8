"""Payload protection for the Python worker: the AES-256-GCM codec of core/codec.ts, byte for byte.

Wire format (shared with TypeScript):
    metadata["encoding"]          = b"binary/encrypted"
    metadata["encryption-key-id"] = key id, UTF-8
    metadata["encryption-format"] = b"aes-256-gcm/aad-v1"
    data                          = nonce (12 random bytes) || AES-256-GCM ciphertext || tag (16 bytes)
    plaintext                     = the original Payload, protobuf-serialised
    associated data               = those three metadata entries, sorted by name, each as
                                    u32be(name length) name u32be(value length) value

Keys: LLMLOOP_CODEC_KEYS="id1:<base64 32 bytes>,id2:..." (any listed key decrypts) and
LLMLOOP_CODEC_KEY_ID (encrypts; the first listed when unset). No keys = no codec. With keys, decoding
refuses plaintext payloads and first-format ciphertexts (no format entry, no associated data) unless
LLMLOOP_CODEC_ACCEPT_LEGACY=1, the setting for migrating old histories.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import struct
from typing import Iterable, Mapping

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from .errors import typed_failure

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
FORMAT_METADATA = "encryption-format"
SEALED_FORMAT = b"aes-256-gcm/aad-v1"
BOUND_METADATA = sorted(["encoding", FORMAT_METADATA, KEY_ID_METADATA])
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32


def _config_error(message: str):
    return typed_failure("InvalidRequest", f"payload codec configuration: {message}")


@dataclasses.dataclass(frozen=True)
class CodecKeys:
    encrypt_with: str
    keys: Mapping[str, bytes]
    # Decode plaintext payloads and first-format ciphertexts too (LLMLOOP_CODEC_ACCEPT_LEGACY=1, for migrating old histories).
    accept_legacy: bool = False


def codec_keys_from_env(env: Mapping[str, str] = os.environ) -> CodecKeys | None:
    spec = (env.get("LLMLOOP_CODEC_KEYS") or "").strip()
    if not spec:
        return None
    keys: dict[str, bytes] = {}
    for entry in spec.split(","):
        key_id, separator, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not separator or not key_id:
            raise _config_error(f"entries of LLMLOOP_CODEC_KEYS are id:base64key, got {entry[:20]!r}…")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as err:
            raise _config_error(f"key {key_id!r} is not base64: {err}") from err
        if len(key) != KEY_BYTES:
            raise _config_error(f"key {key_id!r} decodes to {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        if key_id in keys:
            raise _config_error(f"key id {key_id!r} is listed twice")
        keys[key_id] = key
    encrypt_with = (env.get("LLMLOOP_CODEC_KEY_ID") or "").strip() or next(iter(keys))
    if encrypt_with not in keys:
        raise _config_error(f"LLMLOOP_CODEC_KEY_ID {encrypt_with!r} is not in LLMLOOP_CODEC_KEYS")
    legacy = (env.get("LLMLOOP_CODEC_ACCEPT_LEGACY") or "").strip()
    if legacy not in ("", "0", "1"):
        raise _config_error(f"LLMLOOP_CODEC_ACCEPT_LEGACY is 0 or 1, got {legacy!r}")
    return CodecKeys(encrypt_with, keys, accept_legacy=legacy == "1")


def _associated_data(metadata: Mapping[str, bytes]) -> bytes:
    """The sealed metadata entries, canonical (sorted, length-prefixed), as core/codec.ts builds them."""
    parts = []
    for name in BOUND_METADATA:
        for item in (name.encode(), metadata.get(name, b"")):
            parts.append(struct.pack(">I", len(item)) + item)
    return b"".join(parts)


class AesGcmPayloadCodec(PayloadCodec):
    def __init__(self, config: CodecKeys):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._encrypt_with = config.encrypt_with
        self._accept_legacy = config.accept_legacy
        self._ciphers = {key_id: AESGCM(key) for key_id, key in config.keys.items()}

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._encrypt_with]
        encoded = []
        for payload in payloads:
            metadata = {"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: self._encrypt_with.encode(), FORMAT_METADATA: SEALED_FORMAT}
            nonce = os.urandom(NONCE_BYTES)
            # AESGCM.encrypt returns ciphertext || tag, the same layout as Node's cipher.final() + getAuthTag().
            sealed = nonce + cipher.encrypt(nonce, payload.SerializeToString(), _associated_data(metadata))
            encoded.append(Payload(metadata=metadata, data=sealed))
        return encoded

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        from cryptography.exceptions import InvalidTag

        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
                # Whoever can write to history must not slip in a payload the keys never sealed.
                if not self._accept_legacy:
                    raise _config_error(
                        f"refused a plaintext payload (encoding {payload.metadata.get('encoding', b'').decode(errors='replace')!r}): with LLMLOOP_CODEC_KEYS set every payload"
                        " must be sealed; LLMLOOP_CODEC_ACCEPT_LEGACY=1 reads payloads from before encryption"
                    )
                decoded.append(payload)
                continue
            format_ = payload.metadata.get(FORMAT_METADATA)
            legacy_allowed = format_ is None and self._accept_legacy
            if format_ != SEALED_FORMAT and not legacy_allowed:
                shown = "legacy, no associated data" if format_ is None else format_.decode(errors="replace")
                raise _config_error(
                    f"refused an encrypted payload of format {shown!r} (this codec writes {SEALED_FORMAT.decode()!r}; LLMLOOP_CODEC_ACCEPT_LEGACY=1 reads the legacy one)"
                )
            key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise _config_error(f"payload is encrypted with key {key_id!r}, which is not in LLMLOOP_CODEC_KEYS")
            if len(payload.data) < NONCE_BYTES + TAG_BYTES:
                raise typed_failure("CorruptDocument", "encrypted payload is truncated")
            try:
                associated = None if format_ is None else _associated_data(payload.metadata)
                plaintext = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], associated)
            except InvalidTag as err:
                raise typed_failure("CorruptDocument", f"encrypted payload failed authentication with key {key_id!r}") from err
            decoded.append(Payload.FromString(plaintext))
        return decoded


def data_converter_from_env(env: Mapping[str, str] = os.environ) -> DataConverter:
    """The SDK's default converter; with keys configured, the codec, and failure messages and stacks
    moved into a payload so the codec seals them too (as core/codec.ts does)."""
    keys = codec_keys_from_env(env)
    if not keys:
        return DataConverter.default
    return dataclasses.replace(DataConverter.default, payload_codec=AesGcmPayloadCodec(keys), failure_converter_class=DefaultFailureConverterWithEncodedAttributes)

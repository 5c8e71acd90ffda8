"""Payload protection for the Python worker: the AES-256-GCM codec of core/codec.ts, byte for byte.

Wire format (shared with TypeScript):
    metadata["encoding"]          = b"binary/encrypted"
    metadata["encryption-key-id"] = key id, UTF-8
    data                          = nonce (12 random bytes) || AES-256-GCM ciphertext || tag (16 bytes)
    plaintext                     = the original Payload, protobuf-serialised

Keys: LLMLOOP_CODEC_KEYS="id1:<base64 32 bytes>,id2:..." (any listed key decrypts) and
LLMLOOP_CODEC_KEY_ID (encrypts; the first listed when unset). No keys = no codec.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from typing import Iterable, Mapping

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from .errors import typed_failure

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32


def _config_error(message: str):
    return typed_failure("InvalidRequest", f"payload codec configuration: {message}")


@dataclasses.dataclass(frozen=True)
class CodecKeys:
    encrypt_with: str
    keys: Mapping[str, bytes]


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
    return CodecKeys(encrypt_with, keys)


class AesGcmPayloadCodec(PayloadCodec):
    def __init__(self, config: CodecKeys):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._encrypt_with = config.encrypt_with
        self._ciphers = {key_id: AESGCM(key) for key_id, key in config.keys.items()}

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._encrypt_with]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            # AESGCM.encrypt returns ciphertext || tag, the same layout as Node's cipher.final() + getAuthTag().
            sealed = nonce + cipher.encrypt(nonce, payload.SerializeToString(), None)
            encoded.append(Payload(metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: self._encrypt_with.encode()}, data=sealed))
        return encoded

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        from cryptography.exceptions import InvalidTag

        decoded = []
        for payload in payloads:
            # Payloads written before encryption was enabled stay readable.
            if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
                decoded.append(payload)
                continue
            key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise _config_error(f"payload is encrypted with key {key_id!r}, which is not in LLMLOOP_CODEC_KEYS")
            if len(payload.data) < NONCE_BYTES + TAG_BYTES:
                raise typed_failure("CorruptDocument", "encrypted payload is truncated")
            try:
                plaintext = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
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

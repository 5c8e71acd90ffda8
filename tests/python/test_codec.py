"""trainers/codec.py: the AES-256-GCM payload codec, including a payload sealed by core/codec.ts."""
from __future__ import annotations

import asyncio
import base64

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import ApplicationError

from trainers.codec import AesGcmPayloadCodec, codec_keys_from_env, data_converter_from_env

KEY_7 = base64.b64encode(bytes([7]) * 32).decode()
KEY_9 = base64.b64encode(bytes([9]) * 32).decode()
# Sealed by core/codec.ts with key id k1 = 32 bytes of 7: a json/plain payload of {"marker":"from typescript"}.
FROM_TYPESCRIPT = "l6n3OL+YuqsiGzSanvnvt3kvqn006MAZBpTY+K6yG8u6ZUER5fwSSk2og5uLUUmb2PoXPMw5Us34UlEBNPJP4tC1LRwcPvbLJBTSjx1OVVVDeQ=="


def codec(keys: str, key_id: str | None = None) -> AesGcmPayloadCodec:
    env = {"LLMLOOP_CODEC_KEYS": keys, **({"LLMLOOP_CODEC_KEY_ID": key_id} if key_id else {})}
    return AesGcmPayloadCodec(codec_keys_from_env(env))


def plain(text: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text)


def test_round_trip_hides_the_plaintext_and_names_the_key():
    [sealed] = asyncio.run(codec(f"k1:{KEY_7}").encode([plain(b'"secret marker"')]))
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert b"secret marker" not in sealed.SerializeToString()
    assert asyncio.run(codec(f"k1:{KEY_7}").decode([sealed])) == [plain(b'"secret marker"')]


def test_decodes_what_typescript_sealed():
    sealed = Payload(metadata={"encoding": b"binary/encrypted", "encryption-key-id": b"k1"}, data=base64.b64decode(FROM_TYPESCRIPT))
    assert asyncio.run(codec(f"k1:{KEY_7}").decode([sealed])) == [plain(b'{"marker":"from typescript"}')]


def test_rotation_keeps_old_payloads_readable_and_plaintext_passes_through():
    [old] = asyncio.run(codec(f"k1:{KEY_7}").encode([plain(b"1")]))
    rotated = codec(f"k1:{KEY_7},k2:{KEY_9}", key_id="k2")
    [new] = asyncio.run(rotated.encode([plain(b"2")]))
    assert new.metadata["encryption-key-id"] == b"k2"
    assert asyncio.run(rotated.decode([old, new, plain(b"3")])) == [plain(b"1"), plain(b"2"), plain(b"3")]


def test_wrong_or_missing_keys_and_tampering_fail_typed():
    [sealed] = asyncio.run(codec(f"k1:{KEY_7}").encode([plain(b"x")]))
    with pytest.raises(ApplicationError, match="not in LLMLOOP_CODEC_KEYS") as missing:
        asyncio.run(codec(f"k2:{KEY_9}").decode([sealed]))
    assert missing.value.type == "InvalidRequest"
    with pytest.raises(ApplicationError, match="failed authentication") as wrong:
        asyncio.run(codec(f"k1:{KEY_9}").decode([sealed]))
    assert wrong.value.type == "CorruptDocument"
    tampered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(ApplicationError, match="failed authentication"):
        asyncio.run(codec(f"k1:{KEY_7}").decode([tampered]))


@pytest.mark.parametrize(
    "keys, key_id, problem",
    [
        ("k1", None, "id:base64key"),
        (f"k1:{base64.b64encode(b'short').decode()}", None, "needs 32"),
        (f"k1:{KEY_7},k1:{KEY_9}", None, "listed twice"),
        (f"k1:{KEY_7}", "k9", "not in LLMLOOP_CODEC_KEYS"),
        ("k1:not base64!", None, "not base64"),
    ],
)
def test_bad_configuration_is_reported(keys, key_id, problem):
    with pytest.raises(ApplicationError, match=problem):
        codec(keys, key_id)


def test_no_keys_means_the_default_converter():
    assert data_converter_from_env({}).payload_codec is None
    sealed = data_converter_from_env({"LLMLOOP_CODEC_KEYS": f"k1:{KEY_7}"})
    assert isinstance(sealed.payload_codec, AesGcmPayloadCodec)
    assert isinstance(sealed.failure_converter, DefaultFailureConverterWithEncodedAttributes)

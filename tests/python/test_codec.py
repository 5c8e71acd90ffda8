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
# Sealed by core/codec.ts with key id k1 = 32 bytes of 7: a json/plain payload of {"marker":"from typescript"},
# in today's format (associated data) and in the first one (none, no format entry).
FROM_TYPESCRIPT = "IkLJOdflu6C/SNw8dCdEU7aYaF/WjHPJcELXS69H5Eu1TLG/qOYjh1DTLoOPUvdM3yd8p50w+fjfmx6HId0cwg6cGDroAWrCGt2CkHIfl/lX1Q=="
FROM_TYPESCRIPT_LEGACY = "l6n3OL+YuqsiGzSanvnvt3kvqn006MAZBpTY+K6yG8u6ZUER5fwSSk2og5uLUUmb2PoXPMw5Us34UlEBNPJP4tC1LRwcPvbLJBTSjx1OVVVDeQ=="


def codec(keys: str, key_id: str | None = None, accept_legacy: bool = False) -> AesGcmPayloadCodec:
    env = {"LLMLOOP_CODEC_KEYS": keys, **({"LLMLOOP_CODEC_KEY_ID": key_id} if key_id else {}), **({"LLMLOOP_CODEC_ACCEPT_LEGACY": "1"} if accept_legacy else {})}
    return AesGcmPayloadCodec(codec_keys_from_env(env))


def sealed_metadata(key_id: bytes, format_: bytes | None = None) -> dict[str, bytes]:
    return {"encoding": b"binary/encrypted", "encryption-key-id": key_id, **({"encryption-format": format_} if format_ else {})}


def plain(text: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text)


def test_round_trip_hides_the_plaintext_and_names_the_key():
    [sealed] = asyncio.run(codec(f"k1:{KEY_7}").encode([plain(b'"secret marker"')]))
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert sealed.metadata["encryption-format"] == b"aes-256-gcm/aad-v1"
    assert b"secret marker" not in sealed.SerializeToString()
    assert asyncio.run(codec(f"k1:{KEY_7}").decode([sealed])) == [plain(b'"secret marker"')]


def test_decodes_what_typescript_sealed_its_associated_data_included():
    sealed = Payload(metadata=sealed_metadata(b"k1", b"aes-256-gcm/aad-v1"), data=base64.b64decode(FROM_TYPESCRIPT))
    assert asyncio.run(codec(f"k1:{KEY_7}").decode([sealed])) == [plain(b'{"marker":"from typescript"}')]


def test_rotation_keeps_old_payloads_readable():
    [old] = asyncio.run(codec(f"k1:{KEY_7}").encode([plain(b"1")]))
    rotated = codec(f"k1:{KEY_7},k2:{KEY_9}", key_id="k2")
    [new] = asyncio.run(rotated.encode([plain(b"2")]))
    assert new.metadata["encryption-key-id"] == b"k2"
    assert asyncio.run(rotated.decode([old, new])) == [plain(b"1"), plain(b"2")]


def test_plaintext_and_first_format_payloads_are_refused_unless_migrating():
    legacy = Payload(metadata=sealed_metadata(b"k1"), data=base64.b64decode(FROM_TYPESCRIPT_LEGACY))
    with pytest.raises(ApplicationError, match="plaintext payload") as refused:
        asyncio.run(codec(f"k1:{KEY_7}").decode([plain(b"3")]))
    assert refused.value.type == "InvalidRequest"
    with pytest.raises(ApplicationError, match="legacy"):
        asyncio.run(codec(f"k1:{KEY_7}").decode([legacy]))
    migrating = codec(f"k1:{KEY_7}", accept_legacy=True)
    assert asyncio.run(migrating.decode([plain(b"3"), legacy])) == [plain(b"3"), plain(b'{"marker":"from typescript"}')]
    [fresh] = asyncio.run(migrating.encode([plain(b"4")]))
    assert fresh.metadata["encryption-format"] == b"aes-256-gcm/aad-v1"
    unknown = Payload(metadata={**fresh.metadata, "encryption-format": b"aes-128-cbc"}, data=fresh.data)
    with pytest.raises(ApplicationError, match="aes-128-cbc"):
        asyncio.run(migrating.decode([unknown]))
    with pytest.raises(ApplicationError, match="0 or 1"):
        codec_keys_from_env({"LLMLOOP_CODEC_KEYS": f"k1:{KEY_7}", "LLMLOOP_CODEC_ACCEPT_LEGACY": "yes"})


def test_the_metadata_is_bound_relabelled_or_downgraded_payloads_fail():
    # The same key under two ids: only the associated data tells them apart.
    both = codec(f"k1:{KEY_7},k2:{KEY_7}", key_id="k1", accept_legacy=True)
    [sealed] = asyncio.run(both.encode([plain(b"x")]))
    relabelled = Payload(metadata={**sealed.metadata, "encryption-key-id": b"k2"}, data=sealed.data)
    with pytest.raises(ApplicationError, match="failed authentication") as failed:
        asyncio.run(both.decode([relabelled]))
    assert failed.value.type == "CorruptDocument"
    downgraded = Payload(metadata={k: v for k, v in sealed.metadata.items() if k != "encryption-format"}, data=sealed.data)
    with pytest.raises(ApplicationError, match="failed authentication"):
        asyncio.run(both.decode([downgraded]))


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

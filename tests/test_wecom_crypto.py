"""WXBizMsgCrypt against every public vector, and refusal of every kind of tampering."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.wecom.crypto import CryptoError, WXBizMsgCrypt, aes_key, signature
from bot.channels.wecom.xmlmsg import XmlError, encrypted_field, parse_message

VECTORS = json.loads(
    (Path(__file__).parent / "data" / "wecom_callback_vectors.json").read_text("utf-8")
)


def _crypt(v: dict) -> WXBizMsgCrypt:
    return WXBizMsgCrypt(v["token"], v["encoding_aes_key"], v["receive_id"])


def _id(v: dict) -> str:
    return f"{v['source_repo']}:{v['source_test']}"[:70]


@pytest.mark.parametrize("v", VECTORS, ids=_id)
def test_vector_signature_checks_and_decrypts(v):
    crypt = _crypt(v)
    assert signature(v["token"], v["timestamp"], v["nonce"], v["encrypted"]) == v["msg_signature"]
    plain = crypt.verify_and_decrypt(v["msg_signature"], v["timestamp"], v["nonce"], v["encrypted"])
    assert plain == v["decrypted_plaintext_observed"]
    if v.get("expected_plaintext"):
        assert plain == v["expected_plaintext"]
    if v.get("expected_fields"):
        fields = parse_message(plain)
        for name, value in v["expected_fields"].items():
            assert fields[name] == value


@pytest.mark.parametrize("v", [v for v in VECTORS if v.get("post_body")], ids=_id)
def test_vector_post_body_envelope(v):
    assert encrypted_field(v["post_body"].encode()) == v["encrypted"]


@pytest.mark.parametrize("v", [v for v in VECTORS if v.get("random16")], ids=_id)
def test_vector_encryption_is_byte_exact(v):
    crypt = _crypt(v)
    prefix = v["random16"].encode()
    assert crypt.encrypt(v["expected_plaintext"], prefix) == v["encrypted"]
    reply = crypt.encrypt_reply(v["expected_plaintext"], v["timestamp"], v["nonce"], prefix)
    assert reply == v["expected_reply_xml"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=20), st.text(max_size=20))
def test_any_query_values_are_checked_or_refused(sig, timestamp, nonce):
    v = VECTORS[0]
    with pytest.raises(CryptoError):
        _crypt(v).verify_and_decrypt(sig, timestamp, nonce, v["encrypted"])


def test_wrong_nonce_is_refused_as_in_wechatpy():
    v = VECTORS[0]
    with pytest.raises(CryptoError) as exc:
        _crypt(v).verify_and_decrypt(
            v["msg_signature"], v["timestamp"], "437374424", v["encrypted"]
        )
    assert exc.value.reason == "bad_signature"


@pytest.mark.parametrize("v", VECTORS, ids=_id)
def test_tampered_signature_is_refused(v):
    sig = v["msg_signature"]
    bad = ("0" if sig[0] != "0" else "1") + sig[1:]
    with pytest.raises(CryptoError, match="bad_signature"):
        _crypt(v).verify_and_decrypt(bad, v["timestamp"], v["nonce"], v["encrypted"])


@pytest.mark.parametrize("v", VECTORS, ids=_id)
def test_tampered_ciphertext_is_refused_even_when_resigned(v):
    raw = bytearray(base64.b64decode(v["encrypted"]))
    raw[20] ^= 0x01  # inside the length / message area of the first blocks
    forged = base64.b64encode(bytes(raw)).decode()
    crypt = _crypt(v)
    # The original signature no longer matches ...
    with pytest.raises(CryptoError, match="bad_signature"):
        crypt.verify_and_decrypt(v["msg_signature"], v["timestamp"], v["nonce"], forged)
    # ... and even someone holding the token cannot make the garbled plaintext pass.
    sig = signature(v["token"], v["timestamp"], v["nonce"], forged)
    with pytest.raises(CryptoError):
        crypt.verify_and_decrypt(sig, v["timestamp"], v["nonce"], forged)


def _encrypt_raw(key: bytes, plain: bytes) -> str:
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def _frame(msg: bytes, receive_id: bytes) -> bytes:
    return b"R" * 16 + len(msg).to_bytes(4, "big") + msg + receive_id


@pytest.mark.parametrize("pad", [0, 33, 255])
def test_out_of_range_padding_is_refused(pad):
    v = VECTORS[0]
    key = aes_key(v["encoding_aes_key"])
    plain = _frame(b"hello", v["receive_id"].encode())
    plain += b"\x00" * (31 - len(plain) % 32) + bytes([pad])
    with pytest.raises(CryptoError, match="bad_padding"):
        _crypt(v).decrypt(_encrypt_raw(key, plain))


def test_inconsistent_padding_bytes_are_refused():
    v = VECTORS[0]
    key = aes_key(v["encoding_aes_key"])
    plain = _frame(b"hello", v["receive_id"].encode())
    amount = 32 - len(plain) % 32
    assert amount >= 2
    plain += bytes([amount]) * (amount - 2) + bytes([amount - 1, amount])
    with pytest.raises(CryptoError, match="bad_padding"):
        _crypt(v).decrypt(_encrypt_raw(key, plain))


@pytest.mark.parametrize("v", VECTORS, ids=_id)
def test_wrong_receive_id_is_refused(v):
    other = WXBizMsgCrypt(v["token"], v["encoding_aes_key"], v["receive_id"] + "x")
    with pytest.raises(CryptoError, match="bad_receive_id"):
        other.verify_and_decrypt(v["msg_signature"], v["timestamp"], v["nonce"], v["encrypted"])


def test_length_field_past_the_end_is_refused():
    v = VECTORS[0]
    key = aes_key(v["encoding_aes_key"])
    plain = b"R" * 16 + (5000).to_bytes(4, "big") + b"hi" + v["receive_id"].encode()
    amount = 32 - len(plain) % 32
    with pytest.raises(CryptoError, match="bad_length"):
        _crypt(v).decrypt(_encrypt_raw(key, plain + bytes([amount]) * amount))


@pytest.mark.parametrize(
    "garbage", ["", "not base64!!", "QUJD", base64.b64encode(b"x" * 17).decode()]
)
def test_garbage_ciphertext_is_refused(garbage):
    with pytest.raises(CryptoError):
        _crypt(VECTORS[0]).decrypt(garbage)


def test_round_trip_with_chinese_text_and_random_prefix():
    crypt = _crypt(VECTORS[3])
    a = crypt.encrypt("<xml><Content>今天走访了张三</Content></xml>")
    b = crypt.encrypt("<xml><Content>今天走访了张三</Content></xml>")
    assert a != b  # a fresh random prefix each time
    assert crypt.decrypt(a) == crypt.decrypt(b) == "<xml><Content>今天走访了张三</Content></xml>"
    assert len(base64.b64decode(a)) % 32 == 0


def test_bad_encoding_aes_key_is_a_clear_error():
    with pytest.raises(ValueError, match="43"):
        WXBizMsgCrypt("t", "short", "corp")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_body_is_an_envelope_or_an_xml_error(body):
    with contextlib.suppress(XmlError):
        encrypted_field(body)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300), st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
    )
)
def test_any_ciphertext_decrypts_or_is_refused(encrypted):
    with contextlib.suppress(CryptoError):
        _crypt(VECTORS[0]).decrypt(encrypted)

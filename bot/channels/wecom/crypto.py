"""WXBizMsgCrypt: WeCom's callback signature and AES-256-CBC message encryption.

The scheme, exactly as Tencent's reference sample implements it:
- signature = SHA-1 hex of the sorted, concatenated token, timestamp, nonce and ciphertext;
- key = base64-decoded EncodingAESKey + "=" (32 bytes), IV = its first 16 bytes;
- plaintext = 16 random bytes + 4-byte big-endian length + message + receive id,
  PKCS#7-padded to 32-byte blocks, then base64.

Unlike the sample, decryption checks every pad byte and the length field, so a tampered
ciphertext is refused rather than parsed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16


class CryptoError(Exception):
    """A callback failed a check. `reason` is safe to log; the content never is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """The msg_signature WeCom sends: SHA-1 over the four strings, sorted and joined."""
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def _pad(data: bytes) -> bytes:
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CryptoError("bad_padding")
    amount = data[-1]
    if not 1 <= amount <= BLOCK or amount > len(data) or data[-amount:] != bytes([amount]) * amount:
        raise CryptoError("bad_padding")
    return data[:-amount]


class WXBizMsgCrypt:
    """Signs, encrypts and decrypts WeCom callback messages for one app."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        # cryptography only here: checking a key (`aes_key`, `bangfu wecom sync`'s settings
        # check) does not import it, a quarter of that command's start.
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self.token = token
        self.key = aes_key(encoding_aes_key)
        self.receive_id = receive_id
        self._new_cipher = lambda: Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def _cipher(self) -> Cipher[modes.CBC]:
        return self._new_cipher()

    def check_signature(
        self, msg_signature: str, timestamp: str, nonce: str, encrypted: str
    ) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        # As bytes: compare_digest refuses str with non-ASCII characters (a forged query).
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode("utf-8")):
            raise CryptoError("bad_signature")

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        """Base64 ciphertext of `message`; `random16` fixes the prefix (for test vectors)."""
        prefix = os.urandom(16) if random16 is None else random16
        if len(prefix) != 16:
            raise ValueError("random prefix must be 16 bytes")
        body = message.encode("utf-8")
        plain = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode("utf-8")
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(_pad(plain)) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The message inside a ciphertext, after checking padding, length and receive id."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("bad_base64") from None
        if not raw or len(raw) % 16:
            raise CryptoError("bad_length")
        dec = self._cipher().decryptor()
        content = _unpad(dec.update(raw) + dec.finalize())
        if len(content) < 20:
            raise CryptoError("bad_length")
        (length,) = struct.unpack(">I", content[16:20])
        if 20 + length > len(content):
            raise CryptoError("bad_length")
        body = content[20 : 20 + length]
        if not hmac.compare_digest(content[20 + length :], self.receive_id.encode("utf-8")):
            raise CryptoError("bad_receive_id")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("bad_encoding") from None

    def verify_and_decrypt(
        self, msg_signature: str, timestamp: str, nonce: str, encrypted: str
    ) -> str:
        """VerifyURL / DecryptMsg: the signature first, then the plaintext."""
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt_reply(
        self, message: str, timestamp: str, nonce: str, random16: bytes | None = None
    ) -> str:
        """EncryptMsg: a passive reply envelope, byte for byte as the reference sample."""
        encrypted = self.encrypt(message, random16)
        sig = signature(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml>\n<Encrypt><![CDATA[{encrypted}]]></Encrypt>\n"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>\n"
            f"<TimeStamp>{timestamp}</TimeStamp>\n"
            f"<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
        )

"""Password hashing (argon2id) and one-time initial passwords."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# No 0/O, 1/l/I: the initial password is read aloud or copied from a phone screen.
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MIN_LENGTH = 10


@functools.cache
def no_account_hash() -> str:
    """Verified against when the account does not exist, so both answers take as long.

    Made once, when the console starts (a whole hash's time: `bangfu user` never needs it).
    """
    return _hasher.hash("bangfu-no-such-account")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, spend the same time and say no."""
    try:
        return (
            _hasher.verify(stored_hash or no_account_hash(), password) and stored_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def initial_password(length: int = 14) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def password_mark(password_hash: str) -> str:
    """A short fingerprint of the stored hash, kept in the session: when the password
    changes (here or by `bangfu user reset`), sessions signed in before stop working."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]

"""Password hashing with argon2id (argon2-cffi's defaults are argon2id, RFC 9106 low-memory)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when an account does not exist, so a wrong username costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("jixiao-no-such-account")
MIN_LENGTH = 8


def configure(time_cost: int | None = None, memory_cost: int | None = None) -> None:
    """Change the hashing cost (the test suite lowers it; production keeps argon2-cffi's defaults)."""
    global _hasher, _DUMMY_HASH
    if time_cost is None and memory_cost is None:
        return
    _hasher = PasswordHasher(time_cost=time_cost or _hasher.time_cost, memory_cost=memory_cost or _hasher.memory_cost)
    _DUMMY_HASH = _hasher.hash("jixiao-no-such-account")


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password: {len(password)} characters is too short; use at least {MIN_LENGTH}")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; constant work whether or not there is a hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)

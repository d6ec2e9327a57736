"""What a user name and a password must be, and the password hash (argon2id).

- A user name: 1 to NAME_LENGTH characters (the width of every column that stores one), no control or
  invisible formatting characters (a newline or a right-to-left override would forge lines in the audit log
  or disguise a name), no spaces at either end.
- A password: at least MIN_PASSWORD characters and not guessable from zxcvbn's lists (the 30,000 most common
  leaked passwords, English words, names, keyboard patterns, dates; its top score, 4: at least 10^10 guesses), as
  NIST SP 800-63B asks: length and a blocklist, no composition rules. Score 3 let a word, a year and two marks
  through (`Summer2024!!`, 3 x 10^8 guesses: the first thing a guesser tries); a few unrelated words score 4.
"""
from __future__ import annotations

import functools
import os
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..store.schema import NAME_LENGTH

# MONITOR_TEST_CHEAP_HASHES=1 is for the test suite only (tests/conftest.py sets it): argon2id at its lowest cost,
# because the suite makes and checks hundreds of passwords, at 0.3 s of CPU each at the recommended cost. Never in a
# real installation: the web warns at start, and a hash made so is remade at the recommended cost at its account's
# next sign-in without the variable (needs_rehash).
CHEAP_FOR_TESTS = os.environ.get("MONITOR_TEST_CHEAP_HASHES") == "1"
HASHER = (PasswordHasher(time_cost=1, memory_cost=8, parallelism=1) if CHEAP_FOR_TESTS
          else PasswordHasher())  # argon2id with the library's current recommended cost
MIN_PASSWORD = 12
MIN_SCORE = 4  # zxcvbn: 4 "very unguessable: strong protection from offline slow-hash scenario" (>= 10^10)
CONTEXT_WORDS = ("monitor", "ketamine", "esketamine", "spravato", "clinic", "nurse", "clinician", "tester", "admin")


class AuthError(ValueError):
    """A sign-in or account change that cannot be done; the message is safe to show."""


def check_username(name: str) -> str:
    """The name as stored (NFC), or AuthError saying what is wrong with it."""
    name = normalised(name)
    if not name or len(name) > NAME_LENGTH:
        raise AuthError(f"a user name of 1 to {NAME_LENGTH} characters is needed")
    if name != name.strip():
        raise AuthError("a user name cannot start or end with a space")
    if not all(char == " " or char.isprintable() for char in name):
        raise AuthError("a user name cannot contain control or invisible characters")
    return name


def printable(text: str, limit: int = NAME_LENGTH) -> str:
    """Text someone typed, fit for the audit log: control and formatting characters shown as '?', clipped."""
    return "".join(char if char == " " or char.isprintable() else "?" for char in text[:limit])


def check_password(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
    from zxcvbn import zxcvbn  # its word lists take a moment to load: only when a password is set

    verdict = zxcvbn(password[:100], user_inputs=[username, *CONTEXT_WORDS])  # the first 100 decide it already
    if verdict["score"] < MIN_SCORE:
        hint = verdict["feedback"]["warning"] or "it is made of common words, names or patterns"
        raise AuthError(f"this password is too easy to guess ({hint.rstrip('.')}): a few unrelated words or a "
                        "longer phrase will do")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """One argon2 verification: the same cost whatever the outcome."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """A hash made at another cost than ours (the library's recommendation went up, or a test's cheap one)."""
    return HASHER.check_needs_rehash(password_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash of a random secret nobody knows: verified against when the name is unknown, inactive or throttled,
    so that answer takes as long as a wrong password (no timing tells which names exist)."""
    return HASHER.hash(secrets.token_urlsafe(32))


def normalised(name: str) -> str:
    """The form a typed name is compared in (NFC: the same letters typed two ways are one name)."""
    return unicodedata.normalize("NFC", name)

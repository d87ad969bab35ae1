"""Passwords, API tokens and secrets at rest.

- Passwords are stored as scrypt hashes (stdlib ``hashlib.scrypt``, a memory-hard
  KDF); the format is ``scrypt$n$r$p$salt$hash`` so parameters can change later.
- API tokens are 256-bit random strings; only their sha256 is stored, which is
  enough for a secret with that much entropy and keeps each request cheap.
- Secrets that must be read back (tracker passwords) are encrypted with Fernet
  (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the instance's key.
- The files issuesync keeps are its user's alone (:func:`private_home`, and the
  process umask :data:`PROCESS_UMASK` that the entry points set), and its logs carry
  no credentials (:class:`RedactingFilter`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
from fnmatch import fnmatchcase
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from issuesync.domain.redaction import redact
from issuesync.errors import ConfigurationError

_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
TOKEN_PREFIX = "isy_"  # noqa: S105 - a prefix that marks tokens, not a secret


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in a self-describing format."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return "$".join(
        [
            "scrypt",
            str(_SCRYPT_N),
            str(_SCRYPT_R),
            str(_SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the stored hash (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def generate_password() -> str:
    """A random password for a generated admin account."""
    return secrets.token_urlsafe(18)


def generate_token() -> str:
    """A new API token; show it once, store only :func:`token_digest` of it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


class SecretBox:
    """Encrypts and decrypts secrets at rest with the instance's key."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
            self._key = base64.urlsafe_b64decode(key.encode())
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                "ISSUESYNC_SECRET_KEY is not a valid key: it must be 32 url-safe base64-encoded "
                "bytes (make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc

    def encrypt(self, plaintext: str) -> str:
        """The ciphertext of ``plaintext``, as text."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def signature(self, purpose: str, data: str) -> str:
        """An HMAC-SHA256 of ``data`` for ``purpose`` under a key derived from the instance's.

        For links handed to people outside issuesync (an attachment's content, say):
        whoever holds the link may follow it; nobody can make one up.
        """
        key = hmac.new(self._key, f"issuesync:{purpose}".encode(), hashlib.sha256).digest()
        mac = hmac.new(key, data.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode()

    def signed(self, purpose: str, data: str, signature: str) -> bool:
        """Whether ``signature`` is :meth:`signature` of ``data`` for ``purpose``."""
        return hmac.compare_digest(self.signature(purpose, data), signature)

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of ``ciphertext``; a wrong key is a configuration error."""
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "a stored secret cannot be decrypted: ISSUESYNC_SECRET_KEY is not the key "
                "it was encrypted with"
            ) from exc


def load_or_create_secret_key(home: Path, configured: str | None) -> str:
    """The configured key, or the one kept in ``<home>/secret.key`` (made on first start)."""
    if configured:
        return configured
    path = home / "secret.key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    # Create the file readable by its owner only, before any key is written into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


# --- files: private to the service's user ------------------------------------------------------

PROCESS_UMASK = 0o077  # what issuesync creates is its user's alone: folders 0700, files 0600
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
# The generated password of the first administrator, kept for its user (as Jenkins's
# initialAdminPassword) until they delete it: nothing reads it back.
INITIAL_ADMIN_PASSWORD = "initial-admin-password"  # noqa: S105 - a file name, not a secret
# What issuesync keeps in its home: the SQLite database with its -wal, -shm and write
# lock, the key of the secrets at rest, attachments, and data/ (message files, blobs).
OWN_ENTRIES = ("issuesync.db*", "secret.key", INITIAL_ADMIN_PASSWORD, "attachments", "data")


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this user only from its first byte.

    The text goes to a new 0600 file beside ``path`` that then replaces it, so a
    reader never finds half of it, nor another user a moment when it was open.
    """
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def private_home(home: Path, database_file: Path | None = None) -> list[Path]:
    """Create ``home`` private to this user (0700), or make an existing one private.

    What issuesync keeps in it (:data:`OWN_ENTRIES`: its database with the ``-wal``
    and ``-shm``, the secret key, attachments, message files and blobs in transit)
    loses the rights of its group and of others; a folder of these found open (as an
    older version left it) is walked all the way down, so a start costs a look at a
    few entries, not at every attachment. Symbolic links are not followed, and other
    files a person put in the home are left as they are (the home's 0700 keeps others
    out of them). ``database_file`` (an SQLite file kept elsewhere) is created 0600
    when it does not exist yet, so that SQLite gives its ``-wal`` and ``-shm`` the same
    mode, and tightened with them when it does. Returns what was tightened (for a
    warning), or could not be (another user's file: listed too).
    """
    home.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    own = [e for e in sorted(home.iterdir()) if any(fnmatchcase(e.name, n) for n in OWN_ENTRIES)]
    tightened = [path for path in (home, *own) if _tighten(path)]
    for folder in list(tightened):  # the loose ones found at the top
        if folder != home and folder.is_dir() and not folder.is_symlink():
            tightened += [path for path in _everything_in(folder) if _tighten(path)]
    if database_file is not None:
        if not database_file.exists():
            database_file.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
            os.close(os.open(database_file, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
        if home.resolve() not in database_file.resolve().parents:
            companions = (database_file.with_name(database_file.name + s) for s in ("-wal", "-shm"))
            tightened += [p for p in (database_file, *companions) if p.exists() and _tighten(p)]
    return tightened


def _everything_in(folder: Path) -> list[Path]:
    found = []
    for parent, folders, files in os.walk(folder):  # does not follow symbolic links
        found += [Path(parent, name) for name in (*folders, *files)]
    return found


def _tighten(path: Path) -> bool:
    """Drop the group's and others' rights of ``path``; whether it had any."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:  # removed meanwhile (a message moved on)
        return False
    if stat.S_ISLNK(mode) or not mode & 0o077:
        return False
    try:
        path.chmod(stat.S_IMODE(mode) & 0o700)
    except OSError:
        return True  # not ours to change: reported all the same
    return True


# --- logs: no credentials ---------------------------------------------------------------------

MAX_LOGGED_TEXT = 20_000  # characters of one log record's message, and of its traceback


class RedactingFilter(logging.Filter):
    """Takes credentials out of every record a handler writes (``redact``).

    Installed on the process's log handlers by the entry point (``logs.configure_logging``): the
    adapters' edge already redacts what trackers say; this is the net under it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message and traceback in place; always keep the record.

        A structlog event (its message a dict) is left to the formatter's processor
        (``logs.redact_event``), which redacts each of its texts.
        """
        if isinstance(record.msg, dict):
            return True
        record.msg = redact(record.getMessage(), limit=MAX_LOGGED_TEXT)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, limit=MAX_LOGGED_TEXT)
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Put a :class:`RedactingFilter` on every handler of ``logger`` (default: the root)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

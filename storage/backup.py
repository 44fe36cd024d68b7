"""Backups and restores of the whole database, while the bot keeps running.

SQLite: SQLite's online backup API copies a consistent snapshot (writers go on meanwhile,
in WAL mode) into a new file. PostgreSQL: `pg_dump --format=custom`, restored with
`pg_restore --clean`; with a schema (several deployments in one database), that schema
only, at both ends. Backup files are created owner-only (they hold personal data) and
appear under their name only when complete.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import create_private_file, sqlite_path


class BackupError(Exception):
    """A backup or restore could not be made: `key` names the text (ops.*) saying why."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _temp_beside(target: Path) -> Path:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    os.chmod(tmp, 0o600)
    return Path(tmp)


def _sqlite_copy(src: str, dest: str) -> None:
    """Copy database `src` into database `dest` with the online backup API."""
    source = sqlite3.connect(src)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _pg_env(url: str) -> dict[str, str]:
    """libpq's environment for `url`: the password stays out of the command line."""
    u = make_url(url)
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", u.host),
        ("PGPORT", u.port),
        ("PGUSER", u.username),
        ("PGPASSWORD", u.password),
        ("PGDATABASE", u.database),
    ):
        if value is not None:
            env[var] = str(value)
    return env


def _run_pg_tool(args: list[str], url: str) -> str:
    """Run a PostgreSQL client tool on `url`'s database; its output."""
    tool = args[0]
    if shutil.which(tool) is None:
        raise BackupError("ops.tool_missing", tool=tool)
    done = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError("ops.tool_failed", tool=tool, detail=done.stderr.strip()[-500:])
    return done.stdout


def _only(schema: str | None) -> list[str]:
    return [f"--schema={schema}"] if schema else []


def backup(url: str, dest: Path, *, overwrite: bool = False, schema: str | None = None) -> None:
    """Write a backup of the database at `url` (PostgreSQL: of `schema` only, if given)."""
    if dest.exists() and not overwrite:
        raise BackupError("ops.file_exists", path=str(dest))
    if not dest.parent.is_dir():
        raise BackupError("ops.no_directory", path=str(dest.parent))
    tmp = _temp_beside(dest)
    try:
        if make_url(url).get_backend_name() == "sqlite":
            src = sqlite_path(url)
            if src is None or not Path(src).is_file():
                raise BackupError("ops.no_database_file", path=str(src))
            _sqlite_copy(src, str(tmp))
        else:
            _run_pg_tool(
                ["pg_dump", "--format=custom", "--no-owner", *_only(schema), f"--file={tmp}"], url
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def restore(url: str, source: Path, *, schema: str | None = None) -> None:
    """Replace everything in the database at `url` (PostgreSQL: in `schema` only, if given)
    with the backup in `source`.

    Stop the bot first: a running process would keep writing into what is being replaced.
    """
    if not source.is_file():
        raise BackupError("ops.no_backup_file", path=str(source))
    if make_url(url).get_backend_name() == "sqlite":
        dest = sqlite_path(url)
        if dest is None:
            raise BackupError("ops.not_a_file_url")
        create_private_file(dest)
        # Through SQLite, not a file copy: a leftover -wal file must not be replayed on top.
        _sqlite_copy(str(source), dest)
    else:
        if schema:
            _schema_ready(url, source, schema)
        _run_pg_tool(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
             *_only(schema), f"--dbname={_libpq_dbname(url)}", str(source)],
            url,
        )  # fmt: skip


def _schema_ready(url: str, source: Path, schema: str) -> None:
    """Refuse a backup with no table of `schema` (restored with --schema it would change
    nothing, silently), and create the schema if it is missing: pg_restore's --schema
    leaves out the schema itself."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise ValueError(f"not a schema name: {schema!r}")
    listing = _run_pg_tool(["pg_restore", "--list", f"--schema={schema}", str(source)], url)
    if " TABLE DATA " not in listing:
        raise BackupError("ops.schema_not_in_backup", schema=schema, path=str(source))
    create = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = "
        f"'{schema}') THEN CREATE SCHEMA {schema}; END IF; END $$"
    )  # looked up first: CREATE SCHEMA IF NOT EXISTS needs the right to create schemas
    _run_pg_tool(["psql", "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-c", create], url)


def _libpq_dbname(url: str) -> str:
    # pg_restore needs --dbname; the connection details come from the environment.
    return str(make_url(url).database or "")

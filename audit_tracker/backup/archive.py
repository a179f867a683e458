"""Create, verify and restore a backup archive.

One ZIP file:

- ``manifest.json``: the format, the Alembic revision, the engine it came from, then every
  member with its size and SHA-256 (and each table's row count);
- ``db/NNN_<table>.jsonl``: one JSON object per row, tables in the order of their foreign keys,
  rows in primary-key order, values in a portable form (ISO dates, enum values, decimals as
  text, bytes in base64), so that a SQLite backup restores into PostgreSQL and back;
- ``objects/<namespace>/<key>``: every stored object of every storage namespace, byte for byte.

The rows are read in one read transaction (repeatable read on PostgreSQL, one ``BEGIN`` on
SQLite), so the archive is one consistent moment of the database. The restore writes the rows
with Core statements, so the journal's session hook sees nothing: the journal's own rows and its
head are restored as they were, and its chain verifies after the restore as before.

Messages are French: the commands print them as they are.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Engine,
    Enum,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Time,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)

from ..clock import utcnow
from ..domain.errors import DomainError
from ..journal.chain import HEAD
from ..models.evidence import SEARCH_TABLE
from ..storage import CHUNK, Storage
from ..storage.archives import SuspiciousArchive, open_zip

FORMAT = 1
MANIFEST = "manifest.json"
#: A backup holds every proof: far above the 200 MB of an upload, still a bound for the guard.
MAX_TOTAL = 64 * 1024**3
MAX_MANIFEST = 64 * 1024 * 1024
INSERT_BATCH = 500
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


class BackupRefused(DomainError):
    """An archive that cannot be trusted or an instance that cannot receive it (French)."""


@dataclass
class Summary:
    """What an archive holds: rows per table, objects per namespace, the schema's revision."""

    revision: str
    dialect: str
    created_at: str
    tables: dict[str, int] = field(default_factory=dict)
    objects: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# -- values ---------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column_type: Any) -> Any:
    """How to turn a column's portable value back into what its type binds."""
    if isinstance(column_type, DateTime):
        aware = bool(column_type.timezone)

        def to_datetime(value: str) -> datetime:
            moment = datetime.fromisoformat(value)
            if aware and moment.tzinfo is None:  # SQLite keeps aware timestamps naive, in UTC
                moment = moment.replace(tzinfo=UTC)
            return moment

        return to_datetime
    if isinstance(column_type, Date):
        return date.fromisoformat
    if isinstance(column_type, Time):
        return time.fromisoformat
    if isinstance(column_type, Enum) and column_type.enum_class is not None:
        enum_class = column_type.enum_class
        return lambda value: enum_class(value) if column_type.values_callable else enum_class[value]
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        return Decimal if column_type.asdecimal else float
    if isinstance(column_type, LargeBinary):
        return base64.b64decode
    return None


def _decoders(table: Table) -> dict[str, Any]:
    found = {}
    for column in table.columns:
        if isinstance(column.type, JSON):
            continue
        decode = _decoder(column.type)
        if decode is not None:
            found[column.name] = decode
    return found


# -- create ---------------------------------------------------------------------------------


def tables_in_order(metadata: MetaData) -> list[Table]:
    """Parents before children: the order rows can be inserted in with foreign keys checked."""
    return list(metadata.sorted_tables)


@contextlib.contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction for the whole archive: every table of the same moment."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield connection
        elif engine.dialect.name == "sqlite":
            # pysqlite opens no transaction for a SELECT: take it by hand, so that the shared
            # lock (or the WAL snapshot) is held from the first table to the last.
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")
        else:
            with connection.begin():
                yield connection


def alembic_revision(connection: Connection) -> str:
    """The schema's revision, as Alembic wrote it; empty when the database was never migrated."""
    if not inspect(connection).has_table("alembic_version"):
        return ""
    return str(connection.scalar(text("SELECT version_num FROM alembic_version")) or "")


class _HashingWriter:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)


def create(engine: Engine, metadata: MetaData, storages: Mapping[str, Storage],
           target: Path) -> Summary:
    """Write the archive ``target`` (a new file: written beside it, then renamed into place)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    members: list[dict[str, Any]] = []
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED,
                             allowZip64=True) as archive:
            with read_snapshot(engine) as connection:
                summary = Summary(revision=alembic_revision(connection),
                                  dialect=engine.dialect.name,
                                  created_at=utcnow().isoformat())
                for number, table in enumerate(tables_in_order(metadata), start=1):
                    name = f"db/{number:03d}_{table.name}.jsonl"
                    rows = 0
                    with archive.open(name, "w", force_zip64=True) as handle:
                        writer = _HashingWriter(handle)
                        order = list(table.primary_key.columns) or list(table.columns)
                        for row in connection.execute(select(table).order_by(*order)):
                            record = {key: _encode(value) for key, value in row._mapping.items()}
                            writer.write(json.dumps(record, ensure_ascii=False,
                                                    sort_keys=True).encode() + b"\n")
                            rows += 1
                    summary.tables[table.name] = rows
                    members.append({"name": name, "table": table.name, "rows": rows,
                                    "size": writer.size, "sha256": writer.digest.hexdigest()})
            for namespace, storage in storages.items():
                count = 0
                for key in sorted(storage.keys()):
                    name = f"objects/{namespace}/{key}"
                    with archive.open(name, "w", force_zip64=True) as handle:
                        writer = _HashingWriter(handle)
                        for chunk in storage.open_chunks(key):
                            writer.write(chunk)
                    members.append({"name": name, "namespace": namespace, "key": key,
                                    "size": writer.size, "sha256": writer.digest.hexdigest()})
                    count += 1
                summary.objects[namespace] = count
            manifest = {"format": FORMAT, "application": "audit_tracker",
                        "created_at": summary.created_at, "alembic_revision": summary.revision,
                        "dialect": summary.dialect, "members": members}
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        partial.chmod(0o600)  # the archive holds every proof and every account
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary


# -- verify ---------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return (not name.startswith("/") and "\\" not in name
            and all(_SAFE_PART.match(part) and part not in (".", "..") for part in parts))


@contextlib.contextmanager
def open_archive(path: Path) -> Iterator[tuple[zipfile.ZipFile, dict[str, Any]]]:
    """The archive behind the zip-bomb guard, with its manifest checked for shape and names."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as error:
        raise BackupRefused(f"Archive illisible : {error.strerror or error}.") from None
    with handle:
        try:
            archive = open_zip(handle, path.stat().st_size, max_total=MAX_TOTAL)
        except SuspiciousArchive as error:
            raise BackupRefused(f"Archive refusée : {error.reason}") from None
        except (zipfile.BadZipFile, OSError, ValueError):
            raise BackupRefused(
                "Archive illisible : ce n’est pas une archive ZIP valide.") from None
        with archive:
            yield archive, _manifest(archive)


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise BackupRefused("Archive refusée : le manifeste (manifest.json) manque.") from None
    if info.file_size > MAX_MANIFEST:
        raise BackupRefused("Archive refusée : manifeste démesuré.")
    try:
        manifest = json.loads(archive.read(info))
    except (ValueError, zipfile.BadZipFile, OSError):
        raise BackupRefused("Archive refusée : manifeste illisible.") from None
    if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
            or not isinstance(manifest.get("members"), list)):
        raise BackupRefused("Archive refusée : manifeste d’un format inconnu.")
    for member in manifest["members"]:
        if (not isinstance(member, dict) or not isinstance(member.get("name"), str)
                or not _safe_name(member["name"])
                or not isinstance(member.get("sha256"), str)
                or not isinstance(member.get("size"), int)):
            raise BackupRefused("Archive refusée : entrée du manifeste invalide ou chemin "
                                "dangereux.")
        if "namespace" in member and member["name"] != (
                f"objects/{member['namespace']}/{member.get('key')}"):
            raise BackupRefused("Archive refusée : objet dont le nom ne suit pas sa clé.")
    return manifest


def _hash_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with archive.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify(path: Path) -> tuple[Summary, list[str]]:
    """Every member read back and hashed against the manifest; the problems, in French."""
    problems: list[str] = []
    with open_archive(path) as (archive, manifest):
        summary = _summary(manifest)
        listed = {member["name"] for member in manifest["members"]}
        present = {info.filename for info in archive.infolist()} - {MANIFEST}
        for name in sorted(present - listed):
            problems.append(f"fichier absent du manifeste : {name}")
        for member in manifest["members"]:
            name = member["name"]
            if name not in present:
                problems.append(f"fichier manquant : {name}")
                continue
            try:
                digest, size = _hash_member(archive, name)
            except (zipfile.BadZipFile, OSError, EOFError):
                problems.append(f"fichier illisible (archive abîmée) : {name}")
                continue
            if digest != member["sha256"] or size != member["size"]:
                problems.append(f"empreinte différente (fichier altéré) : {name}")
                continue
            if "table" in member and _count_lines(archive, name) != member.get("rows"):
                problems.append(f"nombre de lignes différent : {name}")
    return summary, problems


def _count_lines(archive: zipfile.ZipFile, name: str) -> int | None:
    count = 0
    try:
        for line in _lines(archive, name):
            json.loads(line)
            count += 1
    except ValueError:
        return None
    return count


def _lines(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with archive.open(name) as handle:
        for line in handle:
            if line.strip():
                yield line


def _summary(manifest: dict[str, Any]) -> Summary:
    summary = Summary(revision=str(manifest.get("alembic_revision") or ""),
                      dialect=str(manifest.get("dialect") or ""),
                      created_at=str(manifest.get("created_at") or ""))
    for member in manifest["members"]:
        if "table" in member:
            summary.tables[str(member["table"])] = int(member.get("rows") or 0)
        elif "namespace" in member:
            namespace = str(member["namespace"])
            summary.objects[namespace] = summary.objects.get(namespace, 0) + 1
    return summary


# -- restore --------------------------------------------------------------------------------


def non_empty(connection: Connection, metadata: MetaData,
              storages: Mapping[str, Storage]) -> list[str]:
    """What already holds data (tables with rows, namespaces with objects): a restore needs none."""
    found = []
    for table in tables_in_order(metadata):
        query = select(func.count()).select_from(table)
        if table.name == HEAD.name:  # the migration writes the empty chain's head: not data
            query = query.where(table.c.seq != 0)
        if connection.scalar(query):
            found.append(table.name)
    for namespace, storage in storages.items():
        if next(iter(storage.keys()), None) is not None:
            found.append(f"fichiers « {namespace} »")
    return found


def restore(engine: Engine, metadata: MetaData, storages: Mapping[str, Storage],
            path: Path, tmp_dir: Path) -> Summary:
    """Rows and objects of the archive into an empty, migrated instance, in one transaction."""
    summary, problems = verify(path)
    if problems:
        raise BackupRefused("Archive refusée, rien n’a été restauré : " + " ; ".join(problems[:5])
                            + (" ; …" if len(problems) > 5 else ""))
    tables = {table.name: table for table in tables_in_order(metadata)}
    stored: list[tuple[Storage, str]] = []
    try:
        with open_archive(path) as (archive, manifest), engine.begin() as connection:
            revision = alembic_revision(connection)
            if not revision:
                raise BackupRefused("Base non migrée : lancez « flask db upgrade » (ou « flask "
                                    "setup » sans démo) avant de restaurer.")
            if revision != summary.revision:
                raise BackupRefused(
                    f"Versions de schéma différentes : l’archive est en {summary.revision}, "
                    f"la base en {revision}. Restaurez avec la version de l’application qui a "
                    "fait la sauvegarde.")
            occupied = non_empty(connection, metadata, storages)
            if occupied:
                raise BackupRefused(
                    "Restauration refusée : l’instance n’est pas vide (" + ", ".join(occupied[:6])
                    + ("…" if len(occupied) > 6 else "")
                    + "). Restaurez dans une instance neuve, migrée et sans données.")
            unknown = sorted(set(summary.tables) - set(tables))
            if unknown:
                raise BackupRefused("Archive d’une autre version : tables inconnues "
                                    + ", ".join(unknown) + ".")
            # The empty chain's head the migration wrote gives way to the archive's.
            connection.execute(delete(tables[HEAD.name]).where(tables[HEAD.name].c.seq == 0))
            for member in manifest["members"]:
                if "table" in member:
                    _insert_rows(connection, tables[member["table"]], archive, member["name"])
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection, tables.values())
            if engine.dialect.name == "sqlite" and inspect(connection).has_table(SEARCH_TABLE):
                # The FTS5 table is no model (so not in the archive): rebuilt from the proofs.
                connection.execute(text(
                    f"INSERT INTO {SEARCH_TABLE} (rowid, body) "  # noqa: S608
                    "SELECT id, search_text FROM evidence"))
            for member in manifest["members"]:
                if "namespace" in member:
                    storage = storages.get(member["namespace"])
                    if storage is None:
                        raise BackupRefused(
                            f"Espace de stockage inconnu : « {member['namespace']} ».")
                    _put_object(storage, str(member["key"]), archive, member, tmp_dir)
                    stored.append((storage, str(member["key"])))
    except BaseException:
        for storage, key in stored:  # the rows rolled back: their files go too
            with contextlib.suppress(Exception):
                storage.delete(key)
        raise
    return summary


def _insert_rows(connection: Connection, table: Table, archive: zipfile.ZipFile,
                 name: str) -> None:
    decoders = _decoders(table)
    columns = {column.name for column in table.columns}
    batch: list[dict[str, Any]] = []
    for line in _lines(archive, name):
        record = json.loads(line)
        row = {}
        for key, value in record.items():
            if key not in columns:
                raise BackupRefused(f"Colonne inconnue {table.name}.{key} dans l’archive.")
            decode = decoders.get(key)
            row[key] = decode(value) if decode is not None and value is not None else value
        batch.append(row)
        if len(batch) >= INSERT_BATCH:
            connection.execute(insert(table), batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)


def _reset_sequences(connection: Connection, tables: Any) -> None:
    """PostgreSQL's counters after the highest restored id, so the next row gets a fresh one."""
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer) or column.autoincrement is False:
                continue
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name})
            if sequence:
                highest = func.max(column)
                connection.execute(select(func.setval(
                    sequence, func.coalesce(highest, 1), highest.is_not(None))))


def _put_object(storage: Storage, key: str, archive: zipfile.ZipFile, member: dict[str, Any],
                tmp_dir: Path) -> None:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tmp_dir, delete=False) as spool:
        local = Path(spool.name)
        digest = hashlib.sha256()
        with archive.open(member["name"]) as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                spool.write(chunk)
    try:
        if digest.hexdigest() != member["sha256"]:
            raise BackupRefused(f"Empreinte différente à la restauration : {member['name']}.")
        storage.put(key, local)
    finally:
        local.unlink(missing_ok=True)

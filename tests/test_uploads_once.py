"""Uploads written once: the multipart file part is streamed into the product's spool folder
while hashed (``uploads.StreamingRequest``), never into a Werkzeug temporary file first."""

from __future__ import annotations

import hashlib
import io
import os

from sqlalchemy import select

from audit_tracker.extensions import db
from audit_tracker.models import EvidenceVersion, Role
from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir

# ------------------------------------------------------------------- uploads written once


def test_an_upload_is_written_once_into_the_spool_and_hashed_on_the_way(
        app, client, auth, make_user, monkeypatch, tmp_path):
    """No Werkzeug temporary file: the multipart part lands in the product's spool folder, and
    that very file (same inode) becomes the stored object, with the right SHA-256."""
    import werkzeug.formparser

    from audit_tracker.storage import spool

    def no_werkzeug_spool(*args, **kwargs):
        raise AssertionError("Werkzeug spooled the upload to a file of its own")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_werkzeug_spool)
    monkeypatch.setattr(werkzeug.formparser, "default_stream_factory", no_werkzeug_spool)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    monkeypatch.setattr("tempfile.tempdir", str(system_tmp))
    parts = []
    real_init = spool.SpooledPart.__init__

    def tracking_init(self, tmp_dir):
        real_init(self, tmp_dir)
        parts.append((self.path, os.fstat(self.fileno()).st_ino))

    monkeypatch.setattr(spool.SpooledPart, "__init__", tracking_init)
    auth.login(make_user(Role.QUALITY_LEAD))
    content = ("Compte rendu du comité de pilotage, ligne de texte assez longue.\n" * 40_000
               ).encode()  # 2.6 MB: far over Werkzeug's 500 KB in-memory threshold
    response = client.post("/preuves/nouvelle", data={
        "kind": "fichier", "site_id": "0", "title": "Compte rendu",
        "file": (io.BytesIO(content), "compte-rendu.txt")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    version = db.session.scalar(select(EvidenceVersion))
    assert version.sha256 == hashlib.sha256(content).hexdigest()
    assert version.size == len(content)
    assert len(parts) == 1
    spooled_path, inode = parts[0]
    assert spooled_path.parent == upload_tmp_dir(app)
    store = storage_for(app, EVIDENCE)
    stored = store._path(version.storage_key)
    assert stored.read_bytes() == content
    assert stored.stat().st_ino == inode  # renamed into the storage, never copied
    assert list(system_tmp.iterdir()) == []
    assert list(upload_tmp_dir(app).iterdir()) == []


def test_a_refused_upload_leaves_nothing_in_the_spool(app, client, auth, make_user):
    auth.login(make_user(Role.QUALITY_LEAD))
    response = client.post("/preuves/nouvelle", data={
        "kind": "fichier", "site_id": "0", "title": "Programme",
        "file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 600_000), "programme.exe")})
    assert response.status_code == 200
    assert "refus" in response.get_data(as_text=True).lower()
    assert list(upload_tmp_dir(app).iterdir()) == []
    assert db.session.scalar(select(EvidenceVersion)) is None


def test_the_api_upload_is_written_once_too(app, client, make_user, token_for, monkeypatch):
    import werkzeug.formparser

    def no_werkzeug_spool(*args, **kwargs):
        raise AssertionError("Werkzeug spooled the upload to a file of its own")

    monkeypatch.setattr(werkzeug.formparser, "SpooledTemporaryFile", no_werkzeug_spool)
    user = make_user(Role.QUALITY_LEAD)
    content = b"date;entrees\n" + b"2018-01;12\n" * 100_000
    response = client.post("/api/v1/evidence", headers=token_for(user), data={
        "title": "Tableau", "file": (io.BytesIO(content), "tableau.csv")})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert response.get_json()["versions"][0]["sha256"] == hashlib.sha256(content).hexdigest()
    assert list(upload_tmp_dir(app).iterdir()) == []


def test_the_multipart_parser_asks_the_server_for_a_mib_at_a_time(app, client, make_user,
                                                                   token_for):
    """Werkzeug's parser reads 64 KiB at a time; gunicorn answered each such read by copying what
    it had read ahead into a new buffer. Through ``LargeReadsParser`` the server's stream is
    asked for 1 MiB at a time, and the file still arrives whole."""
    from werkzeug.test import EnvironBuilder

    from audit_tracker.storage import CHUNK

    class RecordingInput(io.RawIOBase):
        """The server's input stream, noting how much each read asked for."""

        def __init__(self, inner):
            self.inner, self.asked = inner, []

        def readable(self):
            return True

        def seekable(self):
            return True

        def seek(self, offset, whence=io.SEEK_SET):
            return self.inner.seek(offset, whence)

        def readinto(self, buffer):
            self.asked.append(len(buffer))
            return self.inner.readinto(buffer)

    user = make_user(Role.QUALITY_LEAD)
    content = b"date;entrees\n" + b"2018-01;12\n" * 300_000  # 3.3 MB
    form = EnvironBuilder(method="POST", data={
        "title": "Tableau", "file": (io.BytesIO(content), "tableau.csv")}).get_environ()
    recording = RecordingInput(form["wsgi.input"])

    response = client.post("/api/v1/evidence", headers=token_for(user), input_stream=recording,
                           content_type=form["CONTENT_TYPE"])

    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert response.get_json()["versions"][0]["sha256"] == hashlib.sha256(content).hexdigest()
    assert max(recording.asked) == CHUNK
    assert len(recording.asked) <= 6  # not the 50-odd reads of 64 KiB
    assert list(upload_tmp_dir(app).iterdir()) == []

"""Flask's request, with multipart file parts streamed into the product's spool folder.

Werkzeug's default keeps a part in memory up to 500 KB and then spools it to a temporary file of
its own; the evidence service then copied that into its spool while hashing: every upload was
written twice. Here the parser writes each file part once, straight into ``upload_tmp_dir``,
hashed on the way (``storage.spool.SpooledPart``); the service takes that file as it is. Parts
nobody kept are removed when the request closes.

The parser reads its stream 64 KiB at a time. Behind gunicorn, that read (up to 1 MiB ahead)
is answered by copying the rest of what the server holds into a new buffer, read after read:
a 500 MB upload was copied some eight times over in the server before the parser saw it. The
parser reads through a 1 MiB buffer instead, so that the server is asked once per MiB.
"""

from __future__ import annotations

import io
from typing import IO, Any

from flask import Flask, Request, current_app
from werkzeug.formparser import FormDataParser

from .storage import CHUNK, upload_tmp_dir
from .storage.spool import SpooledPart


class LargeReadsParser(FormDataParser):
    """Werkzeug's form parser, its multipart stream read through a 1 MiB buffer."""

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str] | None = None,
    ) -> tuple[IO[bytes], Any, Any]:
        # A raw stream only (Werkzeug's LimitedStream, as every server gets here with a size
        # limit set); anything else is read as it comes.
        if mimetype == "multipart/form-data" and isinstance(stream, io.RawIOBase):
            stream = io.BufferedReader(stream, buffer_size=CHUNK)  # type: ignore[assignment]
        return super().parse(stream, mimetype, content_length, options)


class StreamingRequest(Request):
    form_data_parser_class = LargeReadsParser

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        part = SpooledPart(upload_tmp_dir(current_app))
        self.__dict__.setdefault("_spooled_parts", []).append(part)
        return part

    def close(self) -> None:
        super().close()
        for part in self.__dict__.get("_spooled_parts", []):
            part.discard()


def init_uploads(app: Flask) -> None:
    app.request_class = StreamingRequest


__all__: list[Any] = ["LargeReadsParser", "StreamingRequest", "init_uploads"]

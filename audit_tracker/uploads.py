"""Flask's request, with multipart file parts streamed into the product's spool folder.

Werkzeug's default keeps a part in memory up to 500 KB and then spools it to a temporary file of
its own; the evidence service then copied that into its spool while hashing: every upload was
written twice. Here the parser writes each file part once, straight into ``upload_tmp_dir``,
hashed on the way (``storage.spool.SpooledPart``); the service takes that file as it is. Parts
nobody kept are removed when the request closes.
"""

from __future__ import annotations

from typing import IO, Any

from flask import Flask, Request, current_app

from .storage import upload_tmp_dir
from .storage.spool import SpooledPart


class StreamingRequest(Request):
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


__all__: list[Any] = ["StreamingRequest", "init_uploads"]

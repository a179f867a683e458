"""Backups that restore: one archive with the database's rows (portable JSON Lines, one file per
table) and every stored object, checked by a manifest of SHA-256 hashes (``archive.py``)."""

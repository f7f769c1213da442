"""Per-file ingest failure: its message is what the user reads, so it names the reason plainly."""


class FileRejected(Exception):
    pass

"""The HTTP API of cadres-qa (FastAPI). Build it with `rag.api.app.create_app`; nothing runs at import.

The service holds no retrieval or answering logic: every route calls the shared `rag.Assistant`.
"""

"""rag-api: an instrumented demo RAG service for genai-observability-stack."""

__version__ = "0.1.0"

"""Answerers: extractive (default, offline) and LLM (any LangChain chat model), plus refusal."""

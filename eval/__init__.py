"""Evaluation of the report assistant: question sets, retrieval and answer metrics."""

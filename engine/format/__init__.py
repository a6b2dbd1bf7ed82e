"""The knowledge-base format: models, YAML with locations, loading, provenance, case files.

Everything here is about what an author wrote and whether it is valid; nothing here knows
what a condition means (that is `guidekb.engine.semantics`).
"""

"""guidekb's engine: load and verify a knowledge base, evaluate cases on durable_rules, explain.

The public API is re-exported here; everything else is an implementation module.
"""

from engine.answer import Answer
from engine.cases import load_case, validate_case
from engine.errors import CaseError, GuidekbError, KnowledgeBaseError, Problem, ProblemsError
from engine.evaluation import Engine
from engine.explanation import explain
from engine.knowledge import KnowledgeBase
from engine.loading import load_knowledge_base

__all__ = [
    "Answer",
    "CaseError",
    "Engine",
    "GuidekbError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Problem",
    "ProblemsError",
    "explain",
    "load_case",
    "load_knowledge_base",
    "validate_case",
]

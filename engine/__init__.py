"""guidekb's engine: load and verify a knowledge base, evaluate cases on durable_rules, explain.

The public API is re-exported here; everything else is an implementation module.
"""

from guidekb.engine.errors import CaseError, GuidekbError, KnowledgeBaseError, Problem, ProblemsError
from guidekb.engine.format.cases import load_case, validate_case
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.answer import Answer
from guidekb.engine.runtime.evaluation import Engine
from guidekb.engine.runtime.explanation import explain

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

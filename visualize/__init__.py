"""Decision charts and rule graphs of a knowledge base, for educators and authors.

Imports `engine`; `engine` never imports this package. The public API:

* `build_diagram(kb, focus=None)`: the reduced decision diagram (guidekb.visualize.decisions), and
  `compact_diagram(kb, focus=None)`: the same in the question order that keeps it smallest;
* `chart_book(kb)`: one chart, or one per group of codes when the whole is too big;
* `knowledge_graph(kb)` and its queries `leading_to`, `never_firing_rules`, `unread_facts`;
* `chart(kb, view, fmt, focus=None)` and `write_all(kb, folder)`: files in every format.
"""

from guidekb.visualize.chartbook import ChartBook, chart_book
from guidekb.visualize.decisions import Diagram, build_diagram
from guidekb.visualize.errors import GraphvizMissing, UnknownCode, VisualizeError
from guidekb.visualize.export import FORMATS, VIEWS, chart, write_all
from guidekb.visualize.graph import knowledge_graph, leading_to, never_firing_rules, unread_facts
from guidekb.visualize.ordering import compact_diagram

__all__ = [
    "FORMATS", "VIEWS", "ChartBook", "Diagram", "GraphvizMissing", "UnknownCode", "VisualizeError",
    "build_diagram", "chart", "chart_book", "compact_diagram", "knowledge_graph", "leading_to",
    "never_firing_rules", "unread_facts", "write_all",
]

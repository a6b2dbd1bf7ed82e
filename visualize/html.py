"""One self-contained HTML page: the chart as inline SVG beside a panel of its sources.

Every node of the chart links to an anchor of the side panel (`#rule-<id>`, `#fact-<name>`,
`#code-<code>`); clicking it scrolls the panel there and `:target` highlights the rule, its
verbatim quotes and where they stand in the source. The page has no script at all and
fetches nothing: it works offline, from a file, in any browser, and KB text can only ever be
text in it (every piece is escaped with `guidekb.visualize.escaping.html_text`).
"""

from __future__ import annotations

from guidekb.engine.format.conditions import facts_read
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.models import Rule
from guidekb.visualize import style
from guidekb.visualize.escaping import html_text as t

_CSS = """
* { box-sizing: border-box; }
body { margin: 0; font-family: Helvetica, Arial, sans-serif; color: #212121; }
header { padding: 12px 20px; border-bottom: 1px solid #ddd; }
header h1 { margin: 0; font-size: 20px; }
header p { margin: 4px 0 0; color: #555; font-size: 13px; }
main { display: flex; height: calc(100vh - 70px); }
.chart { flex: 3; overflow: auto; padding: 10px; }
.chart svg { width: 100%; height: auto; }
.panel { flex: 1; min-width: 320px; max-width: 480px; overflow: auto; padding: 10px 16px;
         border-left: 1px solid #ddd; background: #fafafa; font-size: 13px; }
.panel h2 { font-size: 15px; border-bottom: 1px solid #ccc; padding-bottom: 2px; margin-top: 24px; }
.panel article { padding: 6px 8px; margin: 6px 0; border-radius: 6px; }
.panel article:target { background: #fff4cc; outline: 2px solid #b8860b; }
.panel h3 { font-size: 14px; margin: 0 0 4px; }
.meta { color: #666; font-size: 12px; margin: 0 0 4px; }
blockquote { margin: 6px 0; padding: 4px 8px; border-left: 3px solid #2e7d32; background: #fff;
             font-style: italic; }
.donot { color: #b71c1c; font-weight: bold; }
.hint { color: #555; }
.chart h2 { font-size: 16px; margin: 24px 0 4px; }
.chart nav { font-size: 13px; }
.patient { font-size: 14px; margin: 6px 0; padding: 6px 10px; border-left: 4px solid #000;
           background: #f5f5f5; }
.patient ol { margin: 4px 0 0; }
li.on-path > strong.step { background: #000; color: #fff; padding: 0 4px; border-radius: 3px; }
strong.reached { outline: 2px solid #000; padding: 0 3px; }
@media print { main { display: block; height: auto; } .panel { max-width: none; border: 0; }
               .page, .panel { break-before: page; } .page { break-inside: avoid; }
               .page svg { max-height: 24cm; } h2 { break-after: avoid; } nav { break-inside: avoid; }
               #overview { break-before: auto; } }
"""


def _charts(svg: str | list[tuple[str, str]], overview: str | None = None) -> str:
    if isinstance(svg, str):
        return _svg_body(svg)
    toc = "".join(f'<li><a href="#chart-{k}">{t(heading)}</a></li>' for k, (heading, _) in enumerate(svg, 1))
    first = "" if overview is None else (
        f'<section class="page" id="overview"><h2>Overview: the clinical pathway</h2>'
        f"{_own_ids(_svg_body(overview), 0)}</section>")
    sections = "".join(f'<section class="page" id="chart-{k}"><h2>{t(heading)}</h2>'
                       f"{_own_ids(_svg_body(body), k)}</section>"
                       for k, (heading, body) in enumerate(svg, 1))
    return f'{first}<nav><ol>{toc}</ol></nav>{sections}'


def _own_ids(svg: str, k: int) -> str:
    """Graphviz numbers the elements of every SVG from 1; several SVGs in one page need
    distinct ids."""
    return svg.replace(' id="', f' id="c{k}-')


def _svg_body(svg: str) -> str:
    """The <svg> element of a graphviz SVG file, without its XML prolog and doctype."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _rule_article(kb: KnowledgeBase, rule: Rule) -> str:
    effects: list[str] = []
    if rule.then.recommend:
        effects.append("Recommends: " + "; ".join(
            f'<a href="#{style.code_anchor(c)}">{t(kb.outcomes[c].text)}</a>' for c in rule.then.recommend))
    for ban in rule.then.forbid:
        effects.append(f'<span class="donot">{style.DO_NOT}:</span> <a href="#{style.code_anchor(ban.code)}">'
                       f"{t(kb.outcomes[ban.code].text)}</a> ({t(ban.reason)})")
    if rule.then.derive:
        effects.append("Concludes: " + ", ".join(
            f'<a href="#{style.fact_anchor(d)}">{t(d)}</a>' for d in rule.then.derive))
    where = kb.rule_locations.get(rule.id)
    quotes = []
    for p in rule.provenance:
        doc = kb.documents[p.source]
        refs = f", refs {t(', '.join(map(str, p.refs)))}" if p.refs else ""
        quotes.append(f"<blockquote>“{t(p.quote)}”</blockquote>"
                      f'<p class="meta">— <a href="#source-{t(p.source)}">{t(doc.title)}</a>, '
                      f"section “{t(p.section)}”{refs}</p>")
    interpretation = (f'<p class="meta">Interpretation: {t(rule.interpretation)}</p>'
                      if rule.interpretation else "")
    return (f'<article id="{style.rule_anchor(rule.id)}"><h3>{t(rule.title)}</h3>'
            f'<p class="meta">rule {t(rule.id)}{" · " + t(str(where)) if where else ""}</p>'
            + "".join(f"<p>{e}</p>" for e in effects) + "".join(quotes) + interpretation + "</article>")


def _fact_article(kb: KnowledgeBase, name: str) -> str:
    spec = kb.facts[name]
    readers = [r for r in kb.rules if name in facts_read(r.when)]
    domain = ""
    if spec.values:
        domain = "Values: " + ", ".join(t(v) for v in spec.values)
    elif spec.type == "integer":
        domain = f"Integer from {spec.min} to {spec.max}" + (f" ({t(spec.unit)})" if spec.unit else "")
    else:
        domain = "yes or no"
    kind = "conclusion drawn by rules" if spec.derived else "case fact"
    used = ", ".join(f'<a href="#{style.rule_anchor(r.id)}">{t(r.id)}</a>' for r in readers) or "no rule"
    return (f'<article id="{style.fact_anchor(name)}"><h3>{t(spec.question or name)}</h3>'
            f'<p class="meta">{t(name)} · {kind}</p><p>{t(spec.description)}</p><p>{domain}</p>'
            f"<p>Read by: {used}</p></article>")


def _code_article(kb: KnowledgeBase, code: str) -> str:
    recommending = [r.id for r in kb.rules if code in r.then.recommend]
    forbidding = [r.id for r in kb.rules if code in (p.code for p in r.then.forbid)]

    def links(ids: list[str]) -> str:
        return ", ".join(f'<a href="#{style.rule_anchor(i)}">{t(i)}</a>' for i in ids)

    lines = [f"<p>Recommended by {links(recommending)}</p>" if recommending else "",
             f'<p><span class="donot">Forbidden</span> by {links(forbidding)}</p>' if forbidding else ""]
    return (f'<article id="{style.code_anchor(code)}"><h3>{t(kb.outcomes[code].text)}</h3>'
            f'<p class="meta">code {t(code)}</p>{"".join(lines)}</article>')


def _source_article(kb: KnowledgeBase, source_id: str) -> str:
    doc = kb.documents[source_id]
    url = f'<p class="meta">{t(doc.url)}</p>' if doc.url else ""
    return (f'<article id="source-{t(source_id)}"><h3>{t(doc.title)}</h3>'
            f'<p class="meta">{t(doc.publisher)}, {t(str(doc.date))}</p>{url}</article>')


def html_page(kb: KnowledgeBase, svg: str | list[tuple[str, str]], view: str,
              overview: str | None = None) -> str:
    """The page: title, the chart's SVG (already escaped by graphviz) and the source panel.

    `svg` may be a list of (heading, svg) for a book of charts: each gets its own section,
    listed at the top, and starts a new page when printed; `overview` (an SVG) comes first."""
    title = t(kb.manifest.title)
    panel = ['<p class="hint">Click a question, an action or a rule in the chart to see its rule '
             "and the verbatim source quotes here. “unknown” on an arrow means the fact is not "
             "recorded for the patient.</p>",
             "<h2>Rules</h2>", *(_rule_article(kb, r) for r in kb.rules),
             "<h2>Recommendations and prohibitions</h2>", *(_code_article(kb, c) for c in kb.outcomes),
             "<h2>Facts</h2>", *(_fact_article(kb, f) for f in kb.facts),
             "<h2>Sources</h2>", *(_source_article(kb, s) for s in kb.documents)]
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title} — {t(view)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{title}</h1><p>{t(kb.id)} version {t(kb.version)} · {t(view)}</p></header>\n"
            f'<main>\n<section class="chart">\n{_charts(svg, overview)}\n</section>\n'
            f'<aside class="panel">\n{chr(10).join(panel)}\n</aside>\n</main>\n</body>\n</html>\n')


__all__ = ["html_page"]

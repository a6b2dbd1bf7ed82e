"""The source coverage report as a terminal table, Markdown or HTML.

Markdown and HTML are self-contained: each statement links to the rules that encode it,
listed (with their location and quotes) at the end of the same document. Every piece of
knowledge-base or source text is escaped for the format it lands in, after its control, bidi
and zero-width characters are made visible escapes (guidekb.engine.format.inert).
"""

from __future__ import annotations

import html
import re

from rich.console import Console
from rich.table import Table

from guidekb.console import shown
from guidekb.engine.format.inert import inert
from guidekb.engine.qa.source_coverage import SourceCoverage, StatementCoverage

_STATUS_STYLE = {"encoded": "green", "context": "dim", "missing": "bold red"}
_ANCHOR = re.compile(r"[^a-z0-9-]+")


def anchor(rule_id: str) -> str:
    """The in-document anchor of a rule (ids may hold dots, which some renderers dislike)."""
    return "rule-" + _ANCHOR.sub("-", rule_id.lower())


def _refs(row: StatementCoverage) -> str:
    return f" [{', '.join(map(str, row.statement.refs))}]" if row.statement.refs else ""


def _used_rules(report: SourceCoverage) -> list[str]:
    used = {rule for row in report.statements for rule in row.rules}
    return [rule.id for rule in report.kb.rules if rule.id in used]


def summary_line(report: SourceCoverage) -> str:
    return (f"{len(report.statements)} statements: {report.count('encoded')} encoded, "
            f"{report.count('context')} context, {report.count('missing')} missing")


# --- terminal -------------------------------------------------------------------------------


def print_table(console: Console, report: SourceCoverage, show_all: bool = True) -> None:
    for source_id, document in report.kb.documents.items():
        rows = [r for r in report.statements if r.source == source_id]
        if not show_all:
            rows = [r for r in rows if r.status == "missing"]
        table = Table("line", "section", "statement", "status", "rules / reason",
                      title=shown(f"{source_id} ({document.date})"), show_lines=False)
        for row in rows:
            style = _STATUS_STYLE[row.status]
            detail = ", ".join(row.rules) if row.rules else row.reason
            table.add_row(str(row.statement.line), shown(row.statement.section),
                          shown(row.statement.text + _refs(row)),
                          f"[{style}]{row.status}[/{style}]", shown(detail))
        if rows:
            console.print(table)
    for note in report.stale_notes:
        console.print(f"[yellow]note[/yellow]: context.yaml line {note.line} marks a statement "
                      f"that rules now encode (line {note.statement.line} of "
                      f"{shown(note.statement.source)}); the note can go")
    colour = "red" if report.missing else "green"
    console.print(f"[{colour}]{shown(summary_line(report))}[/{colour}]")


# --- Markdown -------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no raw HTML, no line breaks, no
    control or invisible characters (shown as escapes, whose backslash is then escaped)."""
    text = html.escape(inert(" ".join(text.split())), quote=False)
    for char in "\\|*_`[]":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def to_markdown(report: SourceCoverage) -> str:
    kb = report.kb
    out = [f"# Source coverage: {_md(kb.id)} {_md(kb.version)}", "", _md(summary_line(report)), "",
           "| source | encoded | context | missing |", "|---|---:|---:|---:|"]
    for source_id in kb.documents:
        out.append(f"| {_md(source_id)} | {report.count('encoded', source_id)} | "
                   f"{report.count('context', source_id)} | {report.count('missing', source_id)} |")
    for source_id, document in kb.documents.items():
        out += ["", f"## {_md(source_id)}", "", f"*{_md(document.title)}* ({document.date})", "",
                "| line | section | statement | status | rules / reason |", "|---:|---|---|---|---|"]
        for row in (r for r in report.statements if r.source == source_id):
            detail = (", ".join(f"[{_md(r)}](#{anchor(r)})" for r in row.rules)
                      if row.rules else _md(row.reason))
            status = f"**{row.status}**" if row.status == "missing" else row.status
            out.append(f"| {row.statement.line} | {_md(row.statement.section)} | "
                       f"{_md(row.statement.text + _refs(row))} | {status} | {detail} |")
    out += ["", "## Rules", ""]
    for rule_id in _used_rules(report):
        rule = kb.rule(rule_id)
        out += [f'<a id="{anchor(rule_id)}"></a>', f"### {_md(rule_id)}", "",
                f"{_md(rule.title)} ({_md(report.rule_file(rule_id))})", ""]
        for prov in rule.provenance:
            refs = " " + _md(f"[{', '.join(map(str, prov.refs))}]") if prov.refs else ""
            out.append(f"- > {_md(prov.quote)} ({_md(prov.source)}, {_md(prov.section)}{refs})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- HTML -----------------------------------------------------------------------------------


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; max-width: 72rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; vertical-align: top; text-align: left; }
tr.encoded td.status { color: #176317; }
tr.context td.status { color: #666; }
tr.missing td.status { color: #b00020; font-weight: bold; }
blockquote { margin: .3rem 0 .3rem 1rem; color: #333; }
"""


def _h(text: str) -> str:
    return html.escape(inert(text), quote=True)


def to_html(report: SourceCoverage) -> str:
    kb = report.kb
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>Source coverage: {_h(kb.id)} {_h(kb.version)}</title>",
           f"<style>{_CSS}</style></head><body>",
           f"<h1>Source coverage: {_h(kb.id)} {_h(kb.version)}</h1>",
           f"<p>{_h(summary_line(report))}</p>"]
    for source_id, document in kb.documents.items():
        out += [f"<h2>{_h(source_id)}</h2>", f"<p><em>{_h(document.title)}</em> ({document.date})</p>",
                "<table><thead><tr><th>line</th><th>section</th><th>statement</th><th>status</th>"
                "<th>rules / reason</th></tr></thead><tbody>"]
        for row in (r for r in report.statements if r.source == source_id):
            detail = (", ".join(f'<a href="#{anchor(r)}">{_h(r)}</a>' for r in row.rules)
                      if row.rules else _h(row.reason))
            out.append(f'<tr class="{row.status}"><td>{row.statement.line}</td>'
                       f"<td>{_h(row.statement.section)}</td>"
                       f"<td>{_h(row.statement.text + _refs(row))}</td>"
                       f'<td class="status">{row.status}</td><td>{detail}</td></tr>')
        out.append("</tbody></table>")
    out.append("<h2>Rules</h2>")
    for rule_id in _used_rules(report):
        rule = kb.rule(rule_id)
        out += [f'<h3 id="{anchor(rule_id)}">{_h(rule_id)}</h3>',
                f"<p>{_h(rule.title)} <code>{_h(report.rule_file(rule_id))}</code></p>"]
        for prov in rule.provenance:
            refs = f" [{', '.join(map(str, prov.refs))}]" if prov.refs else ""
            out.append(f"<blockquote>{_h(prov.quote)} <small>({_h(prov.source)}, "
                       f"{_h(prov.section)}{_h(refs)})</small></blockquote>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"

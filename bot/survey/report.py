"""The offline monitoring report: index.html with its PNG charts, in one folder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from bot.survey.logic import headline
from bot.survey.questionnaire import Question, Survey
from bot.survey.results import (
    AREA,
    ResponseLike,
    chart_png,
    hidden_note,
    item_label,
    option_label,
    selected,
    share,
    shown,
    stats,
)
from bot.values.i18n import _, format_date, format_number, use_locale

NEEDS = "bisogni"  # the grid whose items group the free-text answers...
NEEDS_TEXT = "servizi_utili"  # ...of this question, under the items rated at the top

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; } .muted { color: #666; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; display: block; margin: 0.8rem 0; }
blockquote { margin: 0.3rem 0; padding: 0.2rem 0.8rem; border-left: 3px solid #9dc3e6;
             white-space: pre-wrap; }
nav ol { columns: 2; column-gap: 2rem; } nav li { break-inside: avoid; margin-bottom: 0.3rem; }
@media print { h2 { break-before: page; } img { break-inside: avoid; } }
"""


def write_report(
    survey: Survey,
    responses: Iterable[ResponseLike],
    out_dir: Path,
    locale: str = "it",
    include_partial: bool = False,
    now: datetime | None = None,
    small: int = 3,
) -> Path:
    """Writes index.html and one PNG per chart into `out_dir`; returns the index's path.
    Counts below `small` are hidden in the tables by area."""
    out_dir.mkdir(parents=True, exist_ok=True)
    every = list(responses)
    results = stats(survey, every, include_partial=include_partial)
    counted = [r.answers for r in selected(every, survey, include_partial=include_partial)]
    with use_locale(locale):
        sections = [totals(results, include_partial)]
        for number, question in enumerate(survey.questions, start=1):
            entry = results["questions"][question.id]
            image = None
            if question.type != "text" and entry["answered"]:
                image = f"{question.id}.png"
                chart = chart_png(survey, entry, question.id, locale, titled=False)
                (out_dir / image).write_bytes(chart)
            sections.append(question_section(number, question, entry, image, locale))
        sections.append(by_area(survey, counted, locale, small))
        sections.append(texts_by_need(survey, counted, locale))
        page = document(survey, results, [s for s in sections if s], locale, now)
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def document(
    survey: Survey,
    results: Mapping[str, Any],
    sections: Sequence[str],
    locale: str,
    now: datetime | None,
) -> str:
    title = escape(survey.title.get(locale))
    generated = _("Rapporto di monitoraggio, generato il {day}.").format(
        day=format_date(now or datetime.now(UTC))
    )
    contents = "".join(
        f'<li><a href="#q-{q.id}">{escape(headline(q.text.get(locale)))}</a></li>'
        for q in survey.questions
    )
    return (
        f'<!doctype html>\n<html lang="{escape(locale)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n"
        f'<p class="muted">{escape(generated)} '
        f"{escape(survey.id)}, v{results['version']}.</p>\n"
        f"<nav><ol>{contents}</ol></nav>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def totals(results: Mapping[str, Any], include_partial: bool) -> str:
    counts = results["responses"]
    partial = (
        _("Risposte parziali (contate nelle tabelle)")
        if include_partial
        else _("Risposte parziali (non contate nelle tabelle)")
    )
    rows = [(_("Risposte completate"), counts["completed"]), (partial, counts["partial"])]
    body = "".join(
        f'<tr><th>{escape(label)}</th><td class="n">{format_number(n)}</td></tr>'
        for label, n in rows
    )
    title = escape(_("Risposte"))
    return f"<section>\n<h2>{title}</h2>\n<table>{body}</table>\n</section>"


def question_section(
    number: int, question: Question, entry: Mapping[str, Any], image: str | None, locale: str
) -> str:
    """A question's heading, how many answered, its chart and its table (or its texts)."""
    text = escape(question.text.get(locale))
    parts = [
        f'<section id="q-{question.id}">',
        f"<h2>{number}. {text}</h2>",
        f'<p class="muted">{escape(answered_line(question, entry))}</p>',
    ]
    if image:
        parts.append(f'<img src="{image}" alt="{text}">')
    if question.type == "grid":
        parts.append(grid_table(question, entry, locale))
    elif question.type == "text":
        parts.append(quotes(entry["texts"]))
    elif question.type == "number":
        parts.append(number_table(entry))
    else:
        parts.append(counts_table(question, entry, locale))
        if entry.get("other"):
            parts += [f"<h3>{escape(option_label(question, 'altro', locale))}</h3>"]
            parts.append(quotes(entry["other"]))
    parts.append("</section>")
    return "\n".join(parts)


def answered_line(question: Question, entry: Mapping[str, Any]) -> str:
    """ "N = 12", and for a multiple choice that one person may count in several rows."""
    line = f"N = {format_number(entry['answered'])}"
    if question.type == "multiple":
        line += " · " + _("più risposte possibili")
    return line


def counts_table(question: Question, entry: Mapping[str, Any], locale: str) -> str:
    total = entry["answered"]
    rows = "".join(
        f"<tr><td>{escape(option_label(question, option, locale))}</td>"
        f'<td class="n">{format_number(n)}</td><td class="n">{share(n, total)}</td></tr>'
        for option, n in entry["counts"].items()
    )
    head = '<tr><th></th><th class="n">N</th><th class="n">%</th></tr>'
    return f"<table>{head}{rows}</table>"


def grid_table(question: Question, entry: Mapping[str, Any], locale: str) -> str:
    scale = [s.id for s in question.scale]
    head = "".join(f'<th class="n">{escape(option_label(question, s, locale))}</th>' for s in scale)
    rows = []
    for item, values in entry["items"].items():
        cells = "".join(
            f'<td class="n">{format_number(values["counts"].get(s, 0))} '
            f"({share(values['counts'].get(s, 0), values['answered'])})</td>"
            for s in scale
        )
        rows.append(
            f"<tr><td>{escape(item_label(question, item, locale))}</td>{cells}"
            f'<td class="n">{format_number(values["answered"])}</td></tr>'
        )
    return f'<table><tr><th></th>{head}<th class="n">N</th></tr>{"".join(rows)}</table>'


def number_table(entry: Mapping[str, Any]) -> str:
    if not entry["answered"]:
        return ""
    cells = "".join(
        f'<tr><th>{key}</th><td class="n">{format_number(entry[key])}</td></tr>'
        for key in ("min", "median", "mean", "max")
    )
    return f"<table>{cells}</table>"


def quotes(texts: Sequence[str]) -> str:
    if not texts:
        none = escape(_("Nessuna risposta."))
        return f'<p class="muted">{none}</p>'
    return "\n".join(f"<blockquote>{escape(text)}</blockquote>" for text in texts)


def by_area(
    survey: Survey, answers: Sequence[Mapping[str, Any]], locale: str, small: int = 3
) -> str:
    """For each single-choice question, a table of counts: options by area; a count below
    `small` reads "< 3"."""
    if not any(q.id == AREA for q in survey.questions):
        return ""
    area = survey.question(AREA)
    areas = area.option_ids()
    head = "".join(f'<th class="n">{escape(option_label(area, a, locale))}</th>' for a in areas)
    total_label = escape(_("Totale"))
    head = f'<tr><th></th>{head}<th class="n">{total_label}</th></tr>'
    tables = []
    for question in survey.questions:
        if question.type not in ("single", "yesno") or question.id == AREA:
            continue
        rows = []
        for option in question.option_ids():
            counts = [
                sum(1 for a in answers if a.get(AREA) == place and a.get(question.id) == option)
                for place in areas
            ]
            total = sum(1 for a in answers if a.get(question.id) == option)
            cells = "".join(f'<td class="n">{escape(shown(n, small))}</td>' for n in counts)
            label = escape(option_label(question, option, locale))
            total_cell = escape(shown(total, small))
            rows.append(f'<tr><td>{label}</td>{cells}<td class="n">{total_cell}</td></tr>')
        tables.append(
            f"<h3>{escape(question.text.get(locale))}</h3>\n<table>{head}{''.join(rows)}</table>"
        )
    title = escape(_("Risposte per area"))
    note = f'<p class="muted">{escape(hidden_note(small))}</p>\n' if small > 1 else ""
    body = note + "\n".join(tables)
    return f'<section id="per-area">\n<h2>{title}</h2>\n{body}\n</section>'


def texts_by_need(survey: Survey, answers: Sequence[Mapping[str, Any]], locale: str) -> str:
    """The free-text services, under each need the respondent rated at the top of the scale."""
    ids = {q.id for q in survey.questions}
    if NEEDS not in ids or NEEDS_TEXT not in ids:
        return ""
    grid = survey.question(NEEDS)
    top = grid.scale[0].id
    groups = []
    for item in grid.items:
        key = f"{grid.id}.{item.id}"
        texts = [str(a[NEEDS_TEXT]) for a in answers if a.get(NEEDS_TEXT) and a.get(key) == top]
        heading = f"{escape(item.label.get(locale))} ({format_number(len(texts))})"
        groups.append(f"<h3>{heading}</h3>\n{quotes(texts)}")
    rest = [
        str(a[NEEDS_TEXT])
        for a in answers
        if a.get(NEEDS_TEXT) and all(a.get(f"{grid.id}.{i.id}") != top for i in grid.items)
    ]
    if rest:
        heading = escape(_("Senza un bisogno indicato"))
        groups.append(f"<h3>{heading}</h3>\n{quotes(rest)}")
    title = _("Servizi utili per ogni bisogno valutato: {level}").format(
        level=option_label(grid, top, locale)
    )
    body = "\n".join(groups)
    return f'<section id="per-bisogno">\n<h2>{escape(title)}</h2>\n{body}\n</section>'

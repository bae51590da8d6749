"""Survey results for staff: counts per question, bar charts (PNG) and a short chat summary."""

from __future__ import annotations

import io
import statistics
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from bot.survey.logic import keys_of as columns_of
from bot.survey.questionnaire import Question, Survey
from bot.values.i18n import _, format_number, format_percent, ngettext, use_locale

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Answers = Mapping[str, Any]
OTHER = "altro"  # the option whose free text goes in "<question>.altro"
AREA = "area"
BAR_COLOR = "#2f6f9f"
# Grid scale colours, strongest first ("molto" ... "per niente").
SCALE_COLORS = ("#1f4e79", "#4f81bd", "#9dc3e6", "#deebf7", "#f2f2f2", "#d9d9d9")


class ResponseLike(Protocol):
    """What the results read of a response (a `SurveyResponse` row, or a test double)."""

    @property
    def survey_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def answers(self) -> dict[str, Any]: ...


# The survey's shape ---------------------------------------------------------------------------


def option_label(question: Question, option_id: str, locale: str) -> str:
    """The label of an option (or grid scale value) in `locale`; the id if it is unknown."""
    if question.type == "yesno":
        with use_locale(locale):
            return {"si": _("Sì"), "no": _("No")}.get(option_id, option_id)
    for option in (*question.options, *question.scale):
        if option.id == option_id:
            return option.label.get(locale)
    return option_id


def item_label(question: Question, item_id: str, locale: str) -> str:
    return next((i.label.get(locale) for i in question.items if i.id == item_id), item_id)


def selected(
    responses: Iterable[ResponseLike],
    survey: Survey,
    area: str | None = None,
    include_partial: bool = False,
) -> list[ResponseLike]:
    """The responses to `survey` that the stats count: completed (or all), in `area`."""
    statuses = ("completed", "partial") if include_partial else ("completed",)
    return [
        r
        for r in responses
        if r.survey_id == survey.id
        and r.status in statuses
        and (area is None or r.answers.get(AREA) == area)
    ]


# Statistics -----------------------------------------------------------------------------------


def stats(
    survey: Survey,
    responses: Iterable[ResponseLike],
    area: str | None = None,
    include_partial: bool = False,
) -> dict[str, Any]:
    """The results as JSON-ready data: each question counts only those who answered it."""
    in_area = [
        r
        for r in responses
        if r.survey_id == survey.id and (area is None or r.answers.get(AREA) == area)
    ]
    counted = selected(in_area, survey, include_partial=include_partial)
    answers = [r.answers for r in counted]
    return {
        "survey": survey.id,
        "version": survey.version,
        "area": area,
        "responses": {
            "completed": sum(r.status == "completed" for r in in_area),
            "partial": sum(r.status == "partial" for r in in_area),
        },
        "questions": {q.id: question_stats(q, answers) for q in survey.questions},
    }


def question_stats(question: Question, answers: Sequence[Answers]) -> dict[str, Any]:
    """One question's entry in `stats()`."""
    if question.type == "grid":
        items = {
            item.id: choice_counts(
                [a[key] for a in answers if (key := f"{question.id}.{item.id}") in a],
                [s.id for s in question.scale],
            )
            for item in question.items
        }
        rated = sum(any(k in a for k in columns_of(question)) for a in answers)
        return {"answered": rated, "items": items}
    values = [a[question.id] for a in answers if question.id in a]
    if question.type == "text":
        return {"answered": len(values), "texts": [str(v) for v in values]}
    if question.type == "number":
        return number_stats([int(v) for v in values])
    if question.type == "multiple":
        chosen = [[v] if isinstance(v, str) else list(v) for v in values]
        result = choice_counts([c for choices in chosen for c in choices], question.option_ids())
        result["answered"] = len(values)
        if question.other:
            key = f"{question.id}.{OTHER}"
            result["other"] = [str(a[key]) for a in answers if a.get(key)]
        return result
    return choice_counts([str(v) for v in values], question.option_ids())


def choice_counts(values: Sequence[str], option_ids: Sequence[str]) -> dict[str, Any]:
    """Every option with its count (zeros too) in definition order; unknown values last."""
    counts = dict.fromkeys(option_ids, 0)
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return {"answered": len(values), "counts": counts}


def number_stats(values: Sequence[int]) -> dict[str, Any]:
    if not values:
        return {"answered": 0, "values": []}
    return {
        "answered": len(values),
        "min": min(values),
        "max": max(values),
        "mean": round(statistics.fmean(values), 2),
        "median": statistics.median(values),
        "values": sorted(values),
    }


def hidden(count: int, small: int) -> bool:
    """A count too small to show in a breakdown by area: it could point at one firm."""
    return 0 < count < small


def shown(count: int, small: int = 0) -> str:
    """A count, or "< 3" when it is hidden."""
    return f"< {small}" if hidden(count, small) else format_number(count)


def hidden_note(small: int) -> str:
    return _(
        "Per non rendere riconoscibile nessuno, i conteggi sotto {count} sono nascosti (< {count})."
    ).format(count=small)


def share(count: int, total: int) -> str:
    """A count as a percentage of `total` in the current locale, one decimal at most."""
    return format_percent(round(count / total, 3) if total else 0)


# Charts ---------------------------------------------------------------------------------------


def chart_png(
    survey: Survey,
    question_stats: Mapping[str, Any],
    question: str,
    locale: str = "it",
    note: str = "",
    titled: bool = True,
    small: int = 0,
) -> bytes:
    """One question's results as a PNG bar chart; `note` (e.g. the area) joins the subtitle;
    counts below `small` are hidden (a breakdown by area). Untitled where the page around it
    says the question and its N (the HTML report)."""
    definition = survey.question(question)
    with use_locale(locale):
        if definition.type == "grid":
            figure = grid_figure(definition, question_stats, locale, small)
        elif definition.type == "number":
            figure = number_figure(question_stats)
        elif definition.type == "text":
            raise ValueError(f"{question}: free-text questions have no chart")
        else:
            figure = bars_figure(definition, question_stats, locale, small)
        subtitle = f"N = {format_number(question_stats['answered'])}"
        if definition.type == "multiple":
            subtitle += " · " + _("più risposte possibili")
        if titled:
            title(figure, definition.text.get(locale), " · ".join(filter(None, [subtitle, note])))
        return png(figure)


def title(figure: Figure, text: str, subtitle: str) -> None:
    wrapped = textwrap.fill(text, 70)
    lines = wrapped.count("\n") + 1
    height = figure.get_figheight()
    figure.suptitle(wrapped, x=0.02, y=0.98, ha="left", va="top", fontsize=12, weight="bold")
    figure.text(0.02, 0.98 - (lines * 0.23 + 0.08) / height, subtitle, va="top", color="#555555")
    figure.subplots_adjust(top=1 - (lines * 0.23 + 0.45) / height)


def bars_figure(
    question: Question, entry: Mapping[str, Any], locale: str, small: int = 0
) -> Figure:
    """Horizontal bars, one per option, each labelled "count (percent)"; a hidden count has
    no bar and reads "< 3"."""
    counts = {o: 0 if hidden(c, small) else c for o, c in entry["counts"].items()}
    labels_of = {o: f"< {small}" for o, c in entry["counts"].items() if hidden(c, small)}
    labels = [textwrap.fill(option_label(question, o, locale), 32) for o in counts]
    total = entry["answered"]
    figure = new_figure((8, 1.6 + 0.5 * len(counts)))
    axes = figure.add_subplot()
    positions = range(len(counts))
    bars = axes.barh(positions, list(counts.values()), color=BAR_COLOR, height=0.6)
    axes.bar_label(
        bars,
        labels=[
            labels_of.get(o) or f"{format_number(c)} ({share(c, total)})" for o, c in counts.items()
        ],
        padding=4,
    )
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.set_xlim(0, max([*counts.values(), 1]) * 1.3)
    bare(axes)
    figure.subplots_adjust(left=0.33, right=0.97, bottom=0.06)
    return figure


def grid_figure(
    question: Question, entry: Mapping[str, Any], locale: str, small: int = 0
) -> Figure:
    """100% stacked bars, one per grid item, one segment per scale value (as the 2020 report's
    figure 4); a hidden count leaves its segment out."""
    items: dict[str, dict[str, Any]] = entry["items"]
    scale = [s.id for s in question.scale]
    figure = new_figure((8, 2.2 + 0.55 * len(items)))
    axes = figure.add_subplot()
    labels = [
        textwrap.fill(item_label(question, i, locale), 28) + f" ({format_number(e['answered'])})"
        for i, e in items.items()
    ]
    left = [0.0] * len(items)
    for index, level in enumerate(scale):
        counts = [e["counts"].get(level, 0) for e in items.values()]
        counts = [0 if hidden(c, small) else c for c in counts]
        totals = [e["answered"] for e in items.values()]
        widths = [c / t * 100 if t else 0.0 for c, t in zip(counts, totals, strict=True)]
        color = SCALE_COLORS[min(index, len(SCALE_COLORS) - 1)]
        bars = axes.barh(
            range(len(items)),
            widths,
            left=left,
            height=0.65,
            color=color,
            edgecolor="white",
            label=option_label(question, level, locale),
        )
        texts = [
            share(c, t) if w >= 7 else "" for c, t, w in zip(counts, totals, widths, strict=True)
        ]
        axes.bar_label(
            bars, labels=texts, label_type="center", color="white" if index < 2 else "black"
        )
        left = [a + w for a, w in zip(left, widths, strict=True)]
    axes.set_yticks(list(range(len(items))), labels)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=len(scale), frameon=False)
    bare(axes)
    figure.subplots_adjust(left=0.33, right=0.97, bottom=0.55 / figure.get_figheight())
    return figure


def number_figure(entry: Mapping[str, Any]) -> Figure:
    figure = new_figure((8, 4))
    axes = figure.add_subplot()
    axes.hist(entry["values"], bins=min(10, max(1, len(set(entry["values"])))), color=BAR_COLOR)
    axes.spines[["top", "right"]].set_visible(False)
    figure.subplots_adjust(left=0.08, right=0.97, bottom=0.1)
    return figure


def new_figure(size: tuple[float, float]) -> Figure:
    """A figure drawn off-screen (Agg): matplotlib is imported only when a chart is drawn."""
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=120)


def bare(axes: Any) -> None:
    """No frame and no x axis: the numbers are written on the bars."""
    axes.spines[["top", "right", "bottom"]].set_visible(False)
    axes.tick_params(axis="x", bottom=False, labelbottom=False)
    axes.tick_params(axis="y", length=0)


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# Chat summary ---------------------------------------------------------------------------------


def summary_text(
    survey: Survey, results: Mapping[str, Any], locale: str = "it", small: int = 0
) -> str:
    """A few lines per question for the staff chat: who answered and the top answers;
    counts below `small` hidden (a breakdown by area)."""
    with use_locale(locale):
        counts = results["responses"]
        lines = [
            f"📊 {survey.title.get(locale)}",
            _("Risposte completate: {completed} · parziali: {partial}").format(
                completed=format_number(counts["completed"]),
                partial=format_number(counts["partial"]),
            ),
        ]
        if results.get("area"):
            area = option_label(survey.question(AREA), results["area"], locale)
            lines.append(_("Area: {area}").format(area=area))
        if small > 1:
            lines.append(hidden_note(small))
        for question in survey.questions:
            entry = results["questions"][question.id]
            answered = shown(entry["answered"], small)
            lines += ["", f"{question.text.get(locale)} (N = {answered})"]
            lines.append(summary_line(question, entry, locale, small=small))
        return "\n".join(lines)


def summary_line(
    question: Question, entry: Mapping[str, Any], locale: str, top: int = 3, small: int = 0
) -> str:
    """The top answers of one question, or how many wrote something."""
    if question.type == "text":
        count = entry["answered"]
        return ngettext("{count} risposta libera", "{count} risposte libere", count).format(
            count=shown(count, small)
        )
    if question.type == "number":
        if not entry["answered"] or hidden(entry["answered"], small):
            return "—"
        if small > 1:  # a minimum or maximum is one firm's figure
            return f"Ø {format_number(entry['mean'])}"
        return f"min {entry['min']} · max {entry['max']} · Ø {format_number(entry['mean'])}"
    if question.type == "grid":
        level = question.scale[0].id
        shares = {
            item: (e["counts"].get(level, 0), e["answered"]) for item, e in entry["items"].items()
        }
        ranked = sorted(shares.items(), key=lambda kv: -(kv[1][0] / kv[1][1] if kv[1][1] else 0))
        parts = [
            f"{item_label(question, i, locale)} "
            + (f"< {small}" if hidden(c, small) else share(c, t))
            for i, (c, t) in ranked
        ]
        return f"{option_label(question, level, locale)}: " + " · ".join(parts)
    ranked_counts = sorted(entry["counts"].items(), key=lambda kv: -kv[1])
    parts = [
        f"{option_label(question, option, locale)} "
        + (f"< {small}" if hidden(count, small) else share(count, entry["answered"]))
        for option, count in ranked_counts[:top]
        if count
    ]
    return " · ".join(parts) or "—"

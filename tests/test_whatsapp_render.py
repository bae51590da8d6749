"""WhatsApp's limits: long texts, buttons, lists, numbered choices, labels, media, templates."""

from __future__ import annotations

from bot.channels.whatsapp.content import Template
from bot.channels.whatsapp.inbound import typed
from bot.channels.whatsapp.render import (
    Wording,
    document_type,
    fit,
    match_choice,
    render,
    split_text,
    template_body,
)
from bot.values.markup import bold, text
from bot.values.messages import Button, Document, Kind, Reply, rows

SITE = "https://smp.example.org"
WORDING = Wording("Scegli", "Rispondi con il numero.", {"✖️ Annulla la richiamata": "✖️ Annulla"})


def options(*labels: str) -> tuple[tuple[Button, ...], ...]:
    return rows(*(Button(label, f"p{n}") for n, label in enumerate(labels)))


def test_a_long_text_is_cut_at_sentences_within_4096() -> None:
    sentence = "Il welfare aziendale non è tassato entro i limiti di legge. "
    pieces = split_text(sentence * 150)
    assert len(pieces) == 3 and all(len(piece) <= 4096 for piece in pieces)
    assert all(piece.endswith("legge.") for piece in pieces)


def test_three_buttons_become_reply_buttons_with_short_forms() -> None:
    reply = Reply(bold("Fatto!"), options("🕑 Sposta", "✖️ Annulla la richiamata"))
    [part] = render(reply, WORDING).parts
    interactive = part.body["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"]["text"] == "*Fatto!*"
    titles = [b["reply"]["title"] for b in interactive["action"]["buttons"]]
    assert titles == ["🕑 Sposta", "✖️ Annulla"]


def test_up_to_ten_become_a_list_whose_rows_keep_the_whole_label() -> None:
    long = "Welfare territoriale e reti di imprese del Pinerolese"
    reply = Reply(text("Di cosa vuoi parlare?"), options("Sì", "No", "Forse", long))
    [part] = render(reply, WORDING).parts
    interactive = part.body["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Scegli"
    row = interactive["action"]["sections"][0]["rows"][3]
    assert row["title"] == "Welfare territoriale e…"  # cut at a word, never mid-word
    assert row["description"] == long


def test_more_than_ten_become_numbered_text_matched_by_number_or_words() -> None:
    towns = [f"Comune {name}" for name in "ABCDEFGHIJKL"]
    rendered = render(Reply(text("Dove?"), options(*towns)), WORDING)
    [part] = rendered.parts
    assert part.body["type"] == "text"
    assert "12. Comune L" in part.body["text"]["body"]
    assert rendered.choices is not None
    assert match_choice("3", rendered.choices) == "p2"
    assert match_choice("comune k", rendered.choices) == "p10"
    assert match_choice("comune", rendered.choices) is None  # ambiguous: the core gets text
    assert typed("12", rendered.choices)["kind"] is Kind.BUTTON


def test_a_long_body_goes_first_on_its_own() -> None:
    summary = "\n".join(f"• Domanda {n}: una risposta abbastanza lunga" for n in range(60))
    parts = render(Reply(text(summary), options("✅ Conferma", "✏️ Cambia")), WORDING).parts
    assert [p.body["type"] for p in parts] == ["text", "interactive"]
    assert len(parts[1].body["interactive"]["body"]["text"]) <= 1024
    head, body = parts[0].body["text"]["body"], parts[1].body["interactive"]["body"]["text"]
    assert f"{head}\n{body}" == summary  # nothing lost, cut at a line


def test_a_single_link_is_a_link_button_beside_others_text() -> None:
    reply = Reply(text("Il modulo"), rows(Button("Apri il modulo di iscrizione", url=SITE)))
    [part] = render(reply, WORDING).parts
    assert part.body["interactive"] == {
        "type": "cta_url",
        "body": {"text": "Il modulo"},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "Apri il modulo di…", "url": SITE},
        },
    }
    both = Reply(text("Il modulo"), rows(Button("Apri", url=SITE), Button("Indietro", "back")))
    [buttons] = render(both, WORDING).parts
    assert buttons.body["interactive"]["type"] == "button"
    assert buttons.body["interactive"]["body"]["text"] == f"Il modulo\n\n🔗 Apri: {SITE}"


def test_typed_words_become_commands() -> None:
    assert typed("STOP")["command"] == "disiscriviti"
    assert typed("Basta!")["command"] == "disiscriviti"
    assert typed("Menu")["command"] == "menu"
    assert typed("/annulla")["command"] == "annulla"


def test_calendar_files_go_as_text_plain_and_templates_on_one_line() -> None:
    invite = Document("richiamata.ics", b"BEGIN:VCALENDAR", "text/calendar", text("La richiamata"))
    [part] = render(invite, WORDING).parts
    assert part.upload is not None and part.upload.mime_type == "text/plain"
    assert part.body["document"] == {"filename": "richiamata.ics", "caption": "La richiamata"}
    assert document_type("application/pdf") == "application/pdf"
    template = Template("sportello_promemoria", "it", ("text",))
    body = template_body(template, Reply(text("Domani alle 9:00\n\nti chiamiamo.")))
    [param] = body["template"]["components"][0]["parameters"]
    assert param["text"] == "Domani alle 9:00 ti chiamiamo."
    assert fit("Annulla", 20, {}) == "Annulla"

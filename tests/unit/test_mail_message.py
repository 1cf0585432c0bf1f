"""A mail's MIME message reads back, in a reader's modern parser, as it was written."""

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtplib.email import extract_recipients, extract_sender, flatten_message

from services.notifications import mime
from services.notifications.documents import files

BODY = "Madame la Maire,\n\nLe dossier AAP-2026-00042 est reçu : 125\u00a0000,00\u00a0€ demandés.\n"


def read(mail: object) -> EmailMessage:
    parsed = message_from_bytes(flatten_message(mail, cte_type="7bit"), policy=policy.default)  # type: ignore[arg-type]
    assert isinstance(parsed, EmailMessage)
    return parsed


def written(**changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "sender": "MILDECA <aap@mildeca.example.fr>",
        "to": [("Marie-Hélène Dupré, maire", "maire@roubaix.example.fr")],
        "cc": [('Préfecture du Nord "BOP 129"', "pref-59@nord.gouv.fr")],
        "subject": "Accusé de réception de votre dossier AAP-2026-00042 – Commune de Roubaix",
        "headers": {"Message-ID": "<n-1@aap.example.fr>", "X-AAP-Template": "acknowledgement"},
        "body": BODY,
    }
    return read(mime.message(**{**fields, **changes}))  # type: ignore[arg-type]


def test_names_and_subject_outside_ascii_read_back_as_written():
    mail = written()
    (to,) = mail["To"].addresses
    (cc,) = mail["Cc"].addresses
    assert (to.display_name, to.addr_spec) == (
        "Marie-Hélène Dupré, maire",
        "maire@roubaix.example.fr",
    )
    assert (cc.display_name, cc.addr_spec) == (
        'Préfecture du Nord "BOP 129"',
        "pref-59@nord.gouv.fr",
    )
    assert mail["Subject"] == (
        "Accusé de réception de votre dossier AAP-2026-00042 – Commune de Roubaix"
    )
    assert mail["From"].addresses[0].addr_spec == "aap@mildeca.example.fr"
    assert mail["Message-ID"] == "<n-1@aap.example.fr>"


def test_the_text_reads_back_whole_and_travels_in_seven_bits():
    mail = written()
    assert mail.get_content() == BODY
    assert mail["Content-Transfer-Encoding"] == "quoted-printable"
    assert flatten_message(
        mime.message(
            sender="aap@mildeca.example.fr",
            to=[("A", "a@b.fr")],
            cc=[],
            subject="s",
            headers={},
            body=BODY,
        )
    ).isascii()


def test_the_envelope_takes_every_recipient_and_the_sender():
    composed = mime.message(
        sender="aap@mildeca.example.fr",
        to=[("Un, deux", "un@b.fr"), ("Trois", "trois@b.fr")],
        cc=[("Quatre", "quatre@b.fr")],
        subject="s",
        headers={},
        body="x",
    )
    assert extract_sender(composed) == "aap@mildeca.example.fr"
    assert extract_recipients(composed) == ["un@b.fr", "trois@b.fr", "quatre@b.fr"]


def test_documents_are_pdf_attachments_after_the_text():
    letter = files.Document(filename="decision-AAP-2026-00042.pdf", content=b"%PDF-1.7 ...")
    mail = written(documents=[letter])
    body = mail.get_body(("plain",))
    assert body is not None and body.get_content() == BODY
    (pdf,) = mail.iter_attachments()
    assert pdf.get_content_type() == "application/pdf"
    assert (pdf.get_filename(), pdf.get_content()) == (letter.filename, letter.content)


@pytest.mark.parametrize("field", ["subject", "name", "header"])
def test_a_line_break_in_a_header_is_refused_naming_the_field(field: str):
    changes: dict[str, object] = {
        "subject": {"subject": "Reçu\r\nBcc: x@y.fr"},
        "name": {"to": [("Maire\nBcc: x@y.fr", "maire@roubaix.example.fr")]},
        "header": {"headers": {"X-AAP-Dossier": "AAP\nBcc: x@y.fr"}},
    }[field]
    with pytest.raises(ValueError, match="line break"):
        written(**changes)

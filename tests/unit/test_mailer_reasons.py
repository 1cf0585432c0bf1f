"""A mail server's refusal is kept (logged, in the mail's row, in `NotificationFailed`) without
the addresses it quotes: those are personal, and sealed only where the platform seals them."""

import pytest

from services.notifications.mailer import without_addresses


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        (
            "(550, b'5.1.1 <h.vasseur@mairie-test.example.fr>: Recipient address rejected')",
            "(550, b'5.1.1 <[adresse]>: Recipient address rejected')",
        ),
        (
            "{'Maire.Roubaix@ville.example.fr': (550, b'unknown user')}",
            "{'[adresse]': (550, b'unknown user')}",
        ),
        ("Connection refused", "Connection refused"),
        (
            "421 4.3.2 service not available (mx.example.fr)",
            "421 4.3.2 service not available (mx.example.fr)",
        ),
    ],
)
def test_a_mail_server_s_refusal_is_kept_without_the_addresses_it_quotes(reason: str, kept: str):
    assert without_addresses(reason) == kept

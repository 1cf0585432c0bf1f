"""Payments: funds committed at signature, instalments, the balance (solde)."""

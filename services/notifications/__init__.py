"""Notifications: the mail each party receives at each step, sent once."""

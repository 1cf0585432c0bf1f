"""The language every service speaks: campaigns, actors and roles, referentials, refusals."""

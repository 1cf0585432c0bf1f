"""`aap`, the operators' and auditors' command line: not a service, it wires them (their `main`)."""

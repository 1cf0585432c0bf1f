"""`python -m cli …` is `aap …`."""

from cli.main import main

main()

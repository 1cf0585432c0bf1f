"""Applications: dossiers filed by communes and intercommunalités."""

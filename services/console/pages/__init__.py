"""The console's pages, by what a person does: their dossiers, a dossier, filing, the campaign's
dashboard and ranking, the audit, the habilitations."""

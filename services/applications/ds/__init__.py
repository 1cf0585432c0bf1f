"""The bridge to Démarches Simplifiées: its client, the mapping of its dossiers, the import."""

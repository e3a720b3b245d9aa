"""Word lists the name and address recognizers use (standard library data, loaded once)."""

"""Pure models and rules: no database, web framework or HTTP client in here."""

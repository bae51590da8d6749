"""The database: engines and migrations, the schema, the registry of personal data."""

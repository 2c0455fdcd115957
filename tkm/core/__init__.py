"""Cross-cutting pieces every domain uses: settings, database, errors, i18n, money."""

"""The partner clients built from proto/ (./scripts/sdk): a module a language, each with a
build() that returns what it made and skips the work when nothing changed."""

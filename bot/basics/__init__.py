"""What every conversation has: greeting and help, language, privacy, staff."""

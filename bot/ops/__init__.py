"""Operations: what Sportello counts (/metrics), log lines without secrets, start-up retries,
and `sportello init`."""

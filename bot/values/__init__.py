"""What every layer speaks: inbound and outbound messages, formatting, button data,
languages and calendar files."""

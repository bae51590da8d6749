"""The FAQ: the knowledge base, the matcher, the desk that answers, and the staff's commands."""

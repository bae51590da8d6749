"""Live handoff: a person of SMP staff takes the conversation from the bot, and gives it back."""

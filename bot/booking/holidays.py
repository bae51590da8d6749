"""Italian national holidays (they live in bot/values/holidays.py, shared with the handoff)."""

from bot.values.holidays import easter, is_holiday, national_holidays

__all__ = ["easter", "is_holiday", "national_holidays"]

"""The messenger bot channel (Bale and Telegram Bot API, on python-telegram-bot)."""

"""The bot's settings: off by default, its secrets refused as placeholders in
production, a webhook secret Telegram accepts, an https URL for production webhooks."""

from __future__ import annotations

import secrets

import pytest

from callcenter.settings import Settings, SettingsError, load_settings, secret_keys


def _real() -> dict[str, str]:
    real = {key: secrets.token_urlsafe(32) for key in secret_keys()}
    real["twilio_auth_token"] = secrets.token_hex(16)
    return real


def test_the_bot_is_off_by_default_and_its_secrets_are_checked() -> None:
    """Tried: production with a placeholder bot token or webhook secret, the bot on
    (refused, naming the key) and off (starts: an unused token is not a risk, and a
    deployment without the bot must not need one)."""
    assert Settings(environment="test").bot_enabled is False
    assert {"bot_token", "bot_webhook_secret"} <= set(secret_keys())
    for key in ("bot_token", "bot_webhook_secret"):
        with pytest.raises(SettingsError, match=key):
            load_settings(environment="production", bot_enabled=True,
                          **{**_real(), key: "change-me"})
        assert load_settings(environment="production",
                             **{**_real(), key: "change-me"}).bot_enabled is False


def test_webhook_secret_charset_and_https_in_production() -> None:
    """Tried: a secret with a space and a slash (Telegram's setWebhook refuses them), a
    production webhook behind http://. Expect both refused, naming the setting."""
    with pytest.raises(SettingsError, match="bot_webhook_secret"):
        load_settings(environment="test", bot_enabled=True,
                      bot_webhook_secret="has space/and-slash")
    with pytest.raises(SettingsError, match="https"):
        load_settings(environment="production", bot_enabled=True, bot_mode="webhook",
                      public_base_url="http://cc.example", **_real())
    Settings(environment="production", bot_enabled=True, bot_mode="webhook",
             public_base_url="https://cc.example", **_real())

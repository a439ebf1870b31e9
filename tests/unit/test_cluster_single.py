"""Several PBXs in settings, the single-PBX settings unchanged, and SQLite's one process
(issue 19)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callcenter.cluster.single import SecondInstance, SingleInstanceGuard, sqlite_lock_path
from callcenter.settings import PbxSettings, Settings, SettingsError, load_settings


def test_the_flat_settings_are_one_pbx_named_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, ami_host="10.0.0.5", ami_port=5039,
                        pbx_log_dir=tmp_path / "logs", pbx_inbound_context="inbound")
    [pbx] = settings.pbx_list()
    assert (pbx.name, pbx.ami_host, pbx.ami_port) == ("default", "10.0.0.5", 5039)
    assert (pbx.log_dir, pbx.inbound_context) == (tmp_path / "logs", "inbound")


def test_a_list_of_pbxs_is_taken_as_it_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, pbxs=[
        {"name": "north", "ami_host": "10.0.1.1"}, {"name": "south", "ami_host": "10.0.2.1"}])
    assert [(p.name, p.ami_host) for p in settings.pbx_list()] == [
        ("north", "10.0.1.1"), ("south", "10.0.2.1")]
    assert isinstance(settings.pbx_list()[0], PbxSettings)


@pytest.mark.parametrize("pbxs", [
    [{"name": "north"}, {"name": "north"}],  # twice
    [{"name": "North Side"}],  # not a key
    [{"name": "x", "ami_port": 0}],
])
def test_wrong_pbx_lists_are_refused(tmp_path: Path, pbxs: list[dict[str, object]]) -> None:
    with pytest.raises(SettingsError, match="pbxs"):
        load_settings(data_dir=tmp_path, pbxs=pbxs)


def test_a_second_instance_on_one_sqlite_file_refuses_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'callcenter.db'}"
    first, second = SingleInstanceGuard(url), SingleInstanceGuard(url)

    async def scenario() -> None:
        await first.start()
        with pytest.raises(SecondInstance, match="PostgreSQL") as refused:
            await second.start()
        assert str(tmp_path / "callcenter.db") in str(refused.value)
        await first.stop()
        await second.start()  # the first gone, the lock is free again
        await second.stop()

    asyncio.run(scenario())


def test_no_lock_for_memory_or_postgres() -> None:
    assert sqlite_lock_path("sqlite://") is None
    assert sqlite_lock_path("postgresql://u@h/db") is None


def test_production_checks_every_pbxs_ami_secret(tmp_path: Path) -> None:
    strong = "Zr8#Lq2$Vn6&Tp4*Wm9@Kc3!Hx7%Bd5^"
    secrets = {"secret_key": strong + "s", "ami_secret": strong + "a",
               "twilio_auth_token": "0123456789abcdef" * 2,
               "shahrbin_api_token": strong + "b", "shahrbin_webhook_secret": strong + "c",
               "media_link_secret": strong + "m"}
    with pytest.raises(SettingsError, match=r"pbxs\.south\.ami_secret"):
        load_settings(data_dir=tmp_path, environment="production", **secrets,
                      pbxs=[{"name": "north", "ami_secret": strong + "n"},
                            {"name": "south", "ami_secret": "dev-ami-secret"}])
    settings = load_settings(data_dir=tmp_path, environment="production", **secrets,
                             pbxs=[{"name": "north", "ami_secret": strong + "n"}])
    assert [p.name for p in settings.pbx_list()] == ["north"]

"""scripts/build-prompts: 8 kHz mono wav from the catalogue, real recordings left alone."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build-prompts"
CATALOGUE = REPO / "config" / "prompts" / "catalogue.yaml"

# espeak-ng and sox are required Debian packages of this project (see REAL_PBX.md):
# no skip when they are missing, the test must fail.


def build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def soxi(flag: str, path: Path) -> str:
    return subprocess.run(
        ["soxi", flag, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SOME = ["--only", "greeting", "--only", "digits/7", "--only", "beep"]


def test_generates_8khz_mono_wav(tmp_path: Path) -> None:
    done = build("--out", str(tmp_path), *SOME)
    assert done.returncode == 0, done.stderr
    for lang in ("fa", "en"):
        for name in ("greeting", "digits/7", "beep"):
            wav = tmp_path / lang / f"{name}.wav"
            assert soxi("-r", wav) == "8000"
            assert soxi("-c", wav) == "1"
            assert soxi("-b", wav) == "16"
            assert float(soxi("-D", wav)) > 0.2
    assert done.stdout.count("generated") == 6
    # Persian and English are different speech
    assert digest(tmp_path / "fa" / "greeting.wav") != digest(tmp_path / "en" / "greeting.wav")


def test_second_run_is_up_to_date(tmp_path: Path) -> None:
    assert build("--out", str(tmp_path), "--lang", "fa", *SOME).returncode == 0
    before = digest(tmp_path / "fa" / "greeting.wav")
    again = build("--out", str(tmp_path), "--lang", "fa", *SOME)
    assert again.returncode == 0
    assert "generated" not in again.stdout
    assert again.stdout.count("up to date") == 3
    assert digest(tmp_path / "fa" / "greeting.wav") == before


def test_real_recording_is_never_overwritten(tmp_path: Path) -> None:
    assert build("--out", str(tmp_path), "--lang", "fa", *SOME).returncode == 0
    greeting = tmp_path / "fa" / "greeting.wav"
    # The municipality's recording, dropped in under the same name.
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(greeting),
         "synth", "1", "sine", "440"],
        check=True,
    )
    real = digest(greeting)
    done = build("--out", str(tmp_path), "--lang", "fa", "--force", *SOME)
    assert done.returncode == 0
    assert "greeting.wav: real recording, kept" in done.stdout
    assert digest(greeting) == real
    assert "digits/7.wav: generated" in done.stdout  # --force still rebuilds generated ones


def test_real_recording_in_another_format_retires_the_generated_wav(tmp_path: Path) -> None:
    assert build("--out", str(tmp_path), "--lang", "fa", *SOME).returncode == 0
    gsm = tmp_path / "fa" / "greeting.gsm"
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", str(gsm), "synth", "1", "sine", "440"], check=True
    )
    done = build("--out", str(tmp_path), "--lang", "fa", *SOME)
    assert done.returncode == 0
    assert not (tmp_path / "fa" / "greeting.wav").exists()
    assert gsm.is_file()
    assert "real recording greeting.gsm, kept" in done.stdout


def test_changed_text_is_regenerated(tmp_path: Path) -> None:
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    own = tmp_path / "catalogue.yaml"
    own.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "sounds"
    args = ["--catalogue", str(own), "--out", str(out), "--lang", "fa", "--only", "goodbye"]
    assert build(*args).returncode == 0
    before = digest(out / "fa" / "goodbye.wav")
    for entry in catalogue["prompts"]:
        if entry["id"] == "goodbye":
            entry["fa"] = "خدانگهدار"
    own.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    done = build(*args)
    assert "goodbye.wav: generated" in done.stdout
    assert digest(out / "fa" / "goodbye.wav") != before


def test_check_reports_missing_prompts(tmp_path: Path) -> None:
    done = build("--out", str(tmp_path), "--lang", "fa", "--check", "--only", "goodbye")
    assert done.returncode == 1
    assert "fa: 1 missing: goodbye" in done.stdout
    assert not (tmp_path / "fa" / "goodbye.wav").exists()


def test_unknown_prompt_id_is_an_error(tmp_path: Path) -> None:
    done = build("--out", str(tmp_path), "--only", "no-such-prompt")
    assert done.returncode == 2
    assert "no-such-prompt" in done.stderr

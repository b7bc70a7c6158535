import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from console.security.crypto import DataCipher, DecryptionError, load_or_create_secret


def _never() -> str:
    raise AssertionError("make() must not be called when a secret already exists")


# load_or_create_secret


def test_configured_secret_wins_and_nothing_is_written(tmp_path: Path) -> None:
    assert "from-env" == load_or_create_secret(tmp_path, "from-env", "secret_key", _never)
    assert [] == list(tmp_path.iterdir())


def test_blank_configured_secret_counts_as_unset(tmp_path: Path) -> None:
    assert "made" == load_or_create_secret(tmp_path, "  ", "secret_key", lambda: "made")


def test_missing_secret_is_created_with_owner_only_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "nested"
    value = load_or_create_secret(data_dir, None, "secret_key", lambda: "generated")
    path = data_dir / "secret_key"
    assert "generated" == value
    assert "generated\n" == path.read_text()
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    assert ["secret_key"] == [p.name for p in data_dir.iterdir()]  # no temp file left


def test_existing_secret_is_read_and_not_regenerated(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path, None, "data_key", lambda: "one")
    second = load_or_create_secret(tmp_path, None, "data_key", _never)
    assert ("one", "one") == (first, second)


def test_secret_file_edited_by_hand_loses_its_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("  hand-made \n\n")
    assert "hand-made" == load_or_create_secret(tmp_path, None, "secret_key", _never)


def test_empty_secret_file_is_an_error_rather_than_a_silent_new_key(tmp_path: Path) -> None:
    (tmp_path / "data_key").write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        load_or_create_secret(tmp_path, None, "data_key", _never)
    assert "\n" == (tmp_path / "data_key").read_text()


def test_process_that_loses_the_creation_race_uses_the_winners_secret(tmp_path: Path) -> None:
    def make_while_another_process_creates_it() -> str:
        (tmp_path / "data_key").write_text("winner\n")
        return "loser"

    value = load_or_create_secret(tmp_path, None, "data_key", make_while_another_process_creates_it)
    assert "winner" == value
    assert "winner\n" == (tmp_path / "data_key").read_text()
    assert ["data_key"] == [p.name for p in tmp_path.iterdir()]


# DataCipher


def test_text_round_trips_including_accents_emoji_and_lone_surrogates() -> None:
    cipher = DataCipher(DataCipher.new_key())
    for text in ["", "Hola, ¿tienen la Tacoma 2022? 🚗", "broken \ud83d surrogate"]:
        assert text == cipher.decrypt(cipher.encrypt(text))


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    cipher = DataCipher(DataCipher.new_key())
    assert "Tacoma" not in cipher.encrypt("me interesa la Tacoma")


def test_optional_variants_pass_none_through() -> None:
    cipher = DataCipher(DataCipher.new_key())
    assert (None, None) == (cipher.encrypt_optional(None), cipher.decrypt_optional(None))
    token = cipher.encrypt_optional("787-555-0123")
    assert "787-555-0123" == cipher.decrypt_optional(token)


def test_new_key_is_a_fresh_fernet_key_each_time() -> None:
    first, second = DataCipher.new_key(), DataCipher.new_key()
    assert first != second
    assert 44 == len(first)
    Fernet(first)  # raises if it were not a valid key


def test_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = DataCipher.new_key(), DataCipher.new_key()
    token_from_old = DataCipher(old).encrypt("antes")
    rotated_config = DataCipher(f"{new}, {old}")
    assert "antes" == rotated_config.decrypt(token_from_old)
    token_from_new = rotated_config.encrypt("después")
    assert "después" == DataCipher(new).decrypt(token_from_new)
    with pytest.raises(DecryptionError):
        DataCipher(old).decrypt(token_from_new)


def test_rotate_reencrypts_with_the_first_key_so_the_old_key_can_go() -> None:
    old, new = DataCipher.new_key(), DataCipher.new_key()
    token = DataCipher(old).encrypt("transcript")
    rotated = DataCipher(f"{new},{old}").rotate(token)
    assert "transcript" == DataCipher(new).decrypt(rotated)


def test_token_from_unknown_key_raises_decryption_error() -> None:
    token = DataCipher(DataCipher.new_key()).encrypt("secret")
    other = DataCipher(DataCipher.new_key())
    with pytest.raises(DecryptionError, match="not in CHARLA_DATA_KEY"):
        other.decrypt(token)
    with pytest.raises(DecryptionError):
        other.rotate(token)


def test_garbage_token_raises_decryption_error() -> None:
    with pytest.raises(DecryptionError):
        DataCipher(DataCipher.new_key()).decrypt("not a token")


@pytest.mark.parametrize(
    "bad",
    ["", "short", "x" * 44, "AAAA,", ",", "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"],
)
def test_bad_key_string_explains_the_format_without_echoing_the_key(bad: str) -> None:
    with pytest.raises(ValueError, match="CHARLA_DATA_KEY must be one or more Fernet keys") as info:
        DataCipher(bad)
    message = str(info.value)
    assert bad.strip(",") == "" or bad.strip(",") not in message
    assert info.value.__cause__ is None


def test_second_key_that_is_bad_is_named_by_position() -> None:
    with pytest.raises(ValueError, match="key #2 is not one"):
        DataCipher(f"{DataCipher.new_key()},oops")


def test_repr_does_not_show_keys() -> None:
    key = DataCipher.new_key()
    assert "DataCipher(<1 key(s)>)" == repr(DataCipher(key))

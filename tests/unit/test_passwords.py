import asyncio

import pytest

from console.security.passwords import PasswordHasher


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=1024)


async def test_right_password_verifies(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("contraseña segura ñ 🚗")
    assert True is await hasher.verify(stored, "contraseña segura ñ 🚗")


async def test_wrong_password_is_false_not_an_exception(hasher: PasswordHasher) -> None:
    stored = await hasher.hash("right horse battery")
    assert False is await hasher.verify(stored, "wrong horse battery")


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=65536,t=3,p=4$AAAA$BBBB",
        "$2b$12$KIXQJZ1m3s1Yx3b6l5f4eOQ4t0Qb8o5h2bYt9zFZcQ1uFz9Q0o5yS",  # bcrypt
    ],
)
async def test_malformed_hash_is_false_not_an_exception(
    hasher: PasswordHasher, malformed: str
) -> None:
    assert False is await hasher.verify(malformed, "anything")


async def test_hashes_are_salted_argon2id(hasher: PasswordHasher) -> None:
    first, second = await hasher.hash("same"), await hasher.hash("same")
    assert first != second
    assert first.startswith("$argon2id$")


async def test_default_parameters_are_argon2_cffi_recommendations() -> None:
    stored = await PasswordHasher().hash("x")
    assert "m=65536,t=3,p=4" == stored.split("$")[3]


async def test_hash_made_with_other_parameters_needs_rehash(hasher: PasswordHasher) -> None:
    cheap = await hasher.hash("x")
    assert (False, True) == (hasher.needs_rehash(cheap), PasswordHasher().needs_rehash(cheap))


def test_malformed_hash_needs_rehash(hasher: PasswordHasher) -> None:
    assert True is hasher.needs_rehash("not a hash")


async def test_hashing_does_not_block_the_event_loop() -> None:
    slow = PasswordHasher()  # default cost: tens of milliseconds of CPU
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    beating = asyncio.create_task(heartbeat())
    await asyncio.gather(slow.hash("a"), slow.hash("b"))
    beating.cancel()
    # on a blocked loop the heartbeat would not run at all until hashing ended
    assert ticks >= 3

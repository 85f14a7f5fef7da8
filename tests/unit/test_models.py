from __future__ import annotations

import pytest

from agents.errors import ModelConfigError
from agents.models import resolve_role_models
from config.agents import load_agents_config
from config.settings import Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "IDEAFORGE_MODEL", "REDIS_URL", "IDEAFORGE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)


def test_no_endpoint_points_every_role_at_the_local_model() -> None:
    settings = Settings(local_model_port=9999)
    models = resolve_role_models(settings, load_agents_config(settings=settings))
    assert {m.base_url for m in models.values()} == {"http://127.0.0.1:9999/v1"}
    assert all(m.local and m.model == settings.local_model for m in models.values())


def test_temperatures_come_from_agents_yaml() -> None:
    settings = Settings(openai_base_url="http://127.0.0.1:1/v1", model="m")
    models = resolve_role_models(settings, load_agents_config(settings=settings))
    assert models["generator"].temperature == 1.0
    assert models["skeptic"].temperature == models["judge"].temperature == 0.2


def test_usual_env_names_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("REDIS_URL", "redis://example.invalid:6380/2")
    monkeypatch.setenv("IDEAFORGE_JUDGE_MODEL", "gpt-4o")
    settings = Settings()
    assert settings.redis_url == "redis://example.invalid:6380/2"
    models = resolve_role_models(settings, load_agents_config(settings=settings))
    assert models["judge"].model == "gpt-4o" and models["generator"].model == "gpt-4o-mini"
    assert not models["judge"].local
    assert "sk-test-secret" not in repr(models["judge"]) and "sk-test-secret" not in repr(settings)


def test_unknown_model_names_get_the_default_model_info() -> None:
    settings = Settings(openai_base_url="http://127.0.0.1:1/v1", model="my-local-llama")
    models = resolve_role_models(settings, load_agents_config(settings=settings))
    assert models["generator"].model_info["structured_output"] is True


def test_a_model_without_json_output_is_refused(tmp_path: pytest.TempPathFactory) -> None:
    settings = Settings(openai_base_url="http://127.0.0.1:1/v1", model="m")
    cfg = load_agents_config(settings=settings)
    cfg.roles["skeptic"].model_info = {"json_output": False, "family": "unknown"}
    with pytest.raises(ModelConfigError, match="JSON output"):
        resolve_role_models(settings, cfg)


def test_the_embedded_model_gets_shorter_answers() -> None:
    settings = Settings(local_max_tokens=300)
    models = resolve_role_models(settings, load_agents_config(settings=settings))
    assert all(m.max_tokens <= 300 for m in models.values())
    hosted = Settings(openai_base_url="http://127.0.0.1:1/v1", model="m", local_max_tokens=300)
    assert resolve_role_models(hosted, load_agents_config(settings=hosted))["generator"].max_tokens == 1200


def test_the_embedded_server_key_is_what_every_role_sends() -> None:
    """IDEAFORGE_LOCAL_MODEL_API_KEY makes the embedded server demand a key: the roles must send it
    (they sent a fixed placeholder, so every local request was refused)."""
    settings = Settings(local_model_api_key="s3cret-local-key")
    models = resolve_role_models(settings, load_agents_config())
    assert {m.api_key for m in models.values()} == {"s3cret-local-key"}
    assert all(m.base_url == settings.local_model_base_url for m in models.values())


def test_a_hosted_endpoint_without_a_model_name_uses_the_hosted_default() -> None:
    settings = Settings(openai_api_key="sk-test", hosted_model="gpt-test-mini")
    models = resolve_role_models(settings, load_agents_config())
    assert {m.model for m in models.values()} == {"gpt-test-mini"}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("redis://u:ab%zzcd@127.0.0.1:6379/0", "write a literal '%' as %25"),
        ("redis://u:100%@127.0.0.1:6379/0", "write a literal '%' as %25"),
        ("redis://127.0.0.1:99999/0", "port that is not a number from 1 to 65535"),
    ],
)
def test_redis_urls_that_redis_py_would_misread_are_named(url: str, words: str) -> None:
    """A lone '%' in a password was sent undecoded ("refused the credentials", misleading); a port
    out of range got the percent-encoding hint, which did not fit."""
    from agents.errors import ConfigError
    from workers.connection import validate_url

    with pytest.raises(ConfigError, match=words) as info:
        validate_url(url)
    assert "ab%zzcd" not in str(info.value) and "100%" not in str(info.value)


def test_a_percent_escape_in_a_password_is_fine() -> None:
    from workers.connection import validate_url

    validate_url("redis://u:ab%2541cd@127.0.0.1:6379/0")  # the password ab%41cd, written right

from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "tongban.rules"
    verbose_name = "规则"

    def ready(self) -> None:
        # Rule modules register their versions when imported.
        from tongban.rules import marriage, time_limits  # noqa: F401

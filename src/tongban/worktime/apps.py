from django.apps import AppConfig


class WorktimeConfig(AppConfig):
    name = "tongban.worktime"
    verbose_name = "工作日与时限"

    def ready(self) -> None:
        from tongban.worktime import signals  # noqa: F401  (connects the receivers)

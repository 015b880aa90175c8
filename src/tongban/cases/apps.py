from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tongban.cases"
    verbose_name = "办件"

    def ready(self) -> None:
        # Register the handlers for case.* messages, and recompute provisional deadlines
        # when a holiday year is loaded.
        from tongban.cases import messages  # noqa: F401
        from tongban.cases.sweep import on_calendar_changed
        from tongban.worktime.calendar import calendar_changed

        calendar_changed.connect(on_calendar_changed, dispatch_uid="tongban.cases.provisional")

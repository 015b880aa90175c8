from django.apps import AppConfig


class WorktimeConfig(AppConfig):
    name = "tongban.worktime"
    verbose_name = "工作日与时限"

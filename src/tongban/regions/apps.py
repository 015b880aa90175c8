from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "tongban.regions"
    verbose_name = "行政区划与节点"

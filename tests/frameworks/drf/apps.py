from django.apps import AppConfig


class DrfAppConfig(AppConfig):
    name = "tests.frameworks.drf"
    label = "drfapp"

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "saas_platform.console"
    label = "platform_console"
    verbose_name = "运营后台"

    def ready(self):
        from wagtail.admin.search import admin_search_areas

        # The sidebar's search box searches Wagtail pages ("Search all pages…"); neither console
        # has pages. Wagtail's sidebar takes the first search area shown, with no hook to drop
        # them (``construct_search`` runs only on the search page), so none is offered.
        admin_search_areas.search_items_for_request = lambda request: []

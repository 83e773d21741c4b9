from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    # DRF's documented way to let clients choose the page size, with a ceiling.
    page_size_query_param = "page_size"
    max_page_size = 100

"""A paginator for lists whose number of rows the page has counted already."""

from django.core.paginator import Paginator


class CountedPaginator(Paginator):
    """A paginator told its count (from counts the page shows anyway) instead of counting the rows again.

    A COUNT over a large scope costs as much as the counts beside the list;
    the caller gives the number those counts already hold for the same rows.
    """

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count

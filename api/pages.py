"""One way every list paginates: `?page=1&page_size=20`, answered as a `Page` with the items, the total,
the page count and the link to the next page (null on the last). A page past the last is an empty page
(with the true total), never the first page again."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

T = TypeVar("T")
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(description="How many items the whole list has.")
    page: int = Field(description="This page's number, from 1.")
    page_size: int
    pages: int = Field(description="How many pages the list has (at least 1).")
    next: str | None = Field(description="The URL of the next page; null on the last page.")


@dataclass(frozen=True)
class Paging:
    """The page asked for, and how to answer it."""

    request: Request
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    def of(self, items: Sequence[T], total: int) -> dict:
        """The page's fields, for `items` already cut to this page out of `total`."""
        pages = max(1, math.ceil(total / self.page_size))
        more = self.page < pages and self.page < MAX_PAGE
        following = str(self.request.url.include_query_params(page=self.page + 1)) if more else None
        return {
            "items": list(items),
            "total": total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": pages,
            "next": following,
        }

    def cut(self, everything: Sequence[T]) -> dict:
        """The page's fields, cut out of the whole (short) list."""
        return self.of(everything[self.offset : self.offset + self.page_size], len(everything))


def paging(
    request: Request,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Which page, from 1.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")] = DEFAULT_PAGE_SIZE,
) -> Paging:
    return Paging(request, page, page_size)


PagingDep = Annotated[Paging, Depends(paging)]

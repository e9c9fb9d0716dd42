"""The FastAPI-style benchmark's app: one source, written as a FastAPI user writes it. The only
line that differs between the two frameworks is the import, chosen by FASTAPI_STYLE_FRAMEWORK
("fasterapi", the default, or "fastapi"), so both servers run exactly this code.

- POST /items?verbose=<bool>: a pydantic body of five typed fields plus a typed query
  parameter; returns the validated model (its tags only when verbose).
- GET /items: `response_model=list[Item]`, 20 items, filtered through the response model
  (the stored rows carry an extra field the model drops)."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

if os.environ.get("FASTAPI_STYLE_FRAMEWORK", "fasterapi") == "fastapi":
    from fastapi import FastAPI, Query
else:
    from fasterapi import FastAPI, Query  # type: ignore[assignment]


class Item(BaseModel):
    name: str
    price: float
    quantity: int
    in_stock: bool
    tags: list[str] = Field(default_factory=list)


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

# What a database would hand back: dicts with a column the response model does not declare.
ROWS = [
    {
        "name": f"item {i}",
        "price": 9.5 + i,
        "quantity": i,
        "in_stock": i % 3 != 0,
        "tags": ["tools", f"t{i % 4}"],
        "internal_cost": 3.25 * i,
    }
    for i in range(20)
]


@app.post("/items", response_model=Item)
async def create_item(item: Item, verbose: bool = Query(False)) -> Item:
    if not verbose:
        item.tags = []  # the short answer leaves the tags out
    return item


@app.get("/items", response_model=list[Item])
async def list_items() -> list[dict[str, object]]:
    return ROWS

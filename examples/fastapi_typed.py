"""FastAPI-style handlers: typed parameters, pydantic bodies, response_model, routers."""

from __future__ import annotations

from pydantic import BaseModel

from fasterapi import APIRouter, App, Depends, HTTPException, Query

app = App(title="Items")
router = APIRouter(prefix="/items", tags=["items"])


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str


DB: dict[int, Item] = {1: Item(name="Hammer", price=9.5)}


def pagination(skip: int = 0, limit: int = Query(10, le=100)) -> dict[str, int]:
    return {"skip": skip, "limit": limit}


@router.get("/")
def list_items(page: dict[str, int] = Depends(pagination)) -> list[dict[str, object]]:
    ids = sorted(DB)[page["skip"] : page["skip"] + page["limit"]]
    return [{"id": i, "name": DB[i].name} for i in ids]


@router.get("/{item_id}", response_model=ItemOut)
def get_item(item_id: int, q: str | None = None) -> dict[str, object]:
    if item_id not in DB:
        raise HTTPException(404, "Item not found")
    return {"id": item_id, "name": DB[item_id].name, "q": q}


@router.post("/", status_code=201)
def create_item(item: Item) -> dict[str, object]:
    new_id = max(DB) + 1
    DB[new_id] = item
    return {"id": new_id, **item.model_dump()}


app.include_router(router)

if __name__ == "__main__":
    app.run()

"""The seed README's "Coming from FastAPI?" example, FasterAPI side, verbatim."""
# ruff: noqa  -- the code below is kept exactly as the README shows it

from fasterapi import App
from pydantic import BaseModel

app = App()

class Item(BaseModel):
    name: str
    price: float

@app.get("/items/{item_id}")
def get_item(req, res):
    item_id = req.path_params["item_id"]
    return {"id": item_id}

@app.post("/items")
def create_item(req, res):
    item = Item(**req.json())
    return item

if __name__ == "__main__":
    app.run()

"""The response-model fast path (fasterapi/_model_json.py, bindings/json_encode.cpp
`write_planned`): for a plain model and a value made of exactly-typed dicts or instances it
writes the bytes pydantic's `dump_json(validate_python(value, from_attributes=True))` gives,
in one C++ pass; for anything else it declines (None) and the route runs pydantic. Pinned
here: byte equality with pydantic over random values, which values and models decline, that
the benchmark's shape takes the fast path, and route answers equal to FastAPI's where the
response_model_* options or a response class keep pydantic's path."""

from __future__ import annotations

import math
import random
import struct
from typing import Any

import pytest
from fastapi_parity import both
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    TypeAdapter,
    ValidationError,
    computed_field,
    field_serializer,
    field_validator,
    model_validator,
)

from fasterapi import _model_json
from fasterapi._jsonio import json_dumps_plan


class Item(BaseModel):
    name: str
    price: float
    quantity: int
    in_stock: bool
    tags: list[str] = Field(default_factory=list)


class Part(BaseModel):
    code: str
    weight: float | None = None


class Machine(BaseModel):
    model_config = ConfigDict(title="Machine", from_attributes=True)

    label: str = Field(alias="machineLabel")
    cost: float = Field(serialization_alias="costEUR")
    main: Part
    parts: list[Part] = []
    spare: Part | None = None
    grid: list[list[int]] = []
    note: str | None = None


class Empty(BaseModel):
    pass


def pydantic_json(adapter: TypeAdapter[Any], value: Any, by_alias: bool = True) -> bytes | None:
    """What the route sends without the fast path, None for a validation error."""
    try:
        validated = adapter.validate_python(value, from_attributes=True)
    except ValidationError:
        return None
    try:
        return adapter.dump_json(validated, by_alias=by_alias, warnings=False)
    except Exception:  # e.g. a lone surrogate: the route answers 500 either way
        return None


def check(adapter: TypeAdapter[Any], value: Any, by_alias: bool = True) -> bytes | None:
    plan = _model_json.plan(adapter, by_alias=by_alias)
    assert plan is not None
    fast = json_dumps_plan(value, plan)
    if fast is not None:
        assert fast == pydantic_json(adapter, value, by_alias), value
    return fast


# -- byte equality over random values ----------------------------------------------------------

STRINGS = ["", "pen", 'q"uote\\slash', "ítem ✓ 𝄞", "tab\tnl\ncr\r\x00\x1f\x7f", "\u2028\u2029",
           "\ud800", "<>&'"]  # fmt: skip


def random_float(rng: random.Random) -> float:
    pick = rng.randrange(6)
    if pick == 0:
        return struct.unpack("d", rng.getrandbits(64).to_bytes(8, "little"))[0]  # nan, inf too
    if pick == 1:
        return rng.uniform(0, 1) * 10.0 ** rng.randint(-9, 25) * rng.choice([1, -1])
    if pick == 2:
        return rng.choice([0.0, -0.0, 1e-4, 9.99e-5, 1e-5, 1e-7, 1e16, 1e15, 0.1, math.inf])
    return round(rng.uniform(-1e4, 1e4), rng.randint(0, 4))


def random_scalar(rng: random.Random) -> Any:
    pick = rng.randrange(12)
    if pick < 3:
        return rng.choice(STRINGS)
    if pick < 5:
        return rng.choice([0, 1, -7, 2**63, -(2**64) - 1, 10**30, 2**53 + 1])
    if pick < 8:
        return random_float(rng)
    if pick == 8:
        return rng.choice([True, False])
    if pick == 9:
        return None
    if pick == 10:
        return rng.choice(["3", "1.5", b"x", (1, 2), 2.0])
    return rng.choice([[], ["a", "b"], [1, 2], ("a",), [None]])


def random_part(rng: random.Random) -> Any:
    if rng.random() < 0.2:
        return Part(code="p", weight=rng.choice([None, 1.5, 2.0]))
    value = {"code": rng.choice([*STRINGS[:4], 5]), "weight": random_scalar(rng)}
    if rng.random() < 0.1:
        del value["weight"]
    return value


def random_item(rng: random.Random) -> Any:
    good = {"name": rng.choice(STRINGS[:5]), "price": random_float(rng),
            "quantity": rng.choice([0, 3, -1, 2**70]), "in_stock": rng.choice([True, False]),
            "tags": rng.sample(STRINGS[:5], rng.randint(0, 3)), "internal": object()}  # fmt: skip
    if rng.random() < 0.4:  # one field of an arbitrary type, or missing
        key = rng.choice(["name", "price", "quantity", "in_stock", "tags"])
        if rng.random() < 0.2:
            del good[key]
        else:
            good[key] = random_scalar(rng)
    return good


@pytest.mark.parametrize("seed", range(4))
def test_items_as_pydantic_writes_them(seed: int) -> None:
    rng = random.Random(seed)
    adapter: TypeAdapter[Any] = TypeAdapter(list[Item])
    taken = 0
    for _ in range(400):
        rows = [random_item(rng) for _ in range(rng.randint(0, 4))]
        taken += check(adapter, rows) is not None
    assert taken > 100  # most of these take the fast path


@pytest.mark.parametrize("by_alias", [True, False])
def test_nested_models_and_aliases_as_pydantic_writes_them(by_alias: bool) -> None:
    rng = random.Random(7)
    adapter: TypeAdapter[Any] = TypeAdapter(Machine)
    taken = 0
    for _ in range(600):
        value: dict[str, Any] = {
            "machineLabel": rng.choice(STRINGS[:4]),
            "cost": rng.choice([1, 2.5, 10**20, random_float(rng)]),
            "main": random_part(rng),
            "parts": [random_part(rng) for _ in range(rng.randint(0, 3))],
            "grid": rng.choice([[], [[1, 2], []], [[1.5]], [[True]]]),
        }
        if rng.random() < 0.5:
            value["spare"] = rng.choice([None, random_part(rng)])
        if rng.random() < 0.3:
            value["label"] = "by name"  # not read: the alias is
        taken += check(adapter, value, by_alias) is not None
    assert taken > 50  # the rest declined: a tiny float, a float in list[list[int]], ...


def test_instances_as_pydantic_writes_them() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(list[Item])
    item = Item(name="pen", price=1.5, quantity=2, in_stock=True)
    assert check(adapter, [item, item.model_dump()]) is not None
    mutated = item.model_copy()
    mutated.price = 3  # type: ignore[assignment]  # not revalidated: pydantic writes 3.0
    assert check(adapter, [mutated]) is None
    assert pydantic_json(adapter, [mutated]) == (
        b'[{"name":"pen","price":3.0,"quantity":2,"in_stock":true,"tags":[]}]'
    )

    class Sub(Item):
        extra: int = 0

    assert check(adapter, [Sub(name="s", price=1.0, quantity=1, in_stock=False)]) is None
    machine = Machine.model_validate({"machineLabel": "m", "cost": 2, "main": {"code": "c"}})
    assert check(TypeAdapter(Machine), machine) is not None
    machine.main = {"code": "c"}  # type: ignore[assignment]  # a dict in an instance: as is
    assert check(TypeAdapter(Machine), machine) is None


def test_values_that_decline() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(Item)
    plan = _model_json.plan(adapter)
    good = {"name": "a", "price": 1.0, "quantity": 1, "in_stock": True, "tags": []}
    assert json_dumps_plan(good, plan) == adapter.dump_json(adapter.validate_python(good))
    declined = [("name", 1), ("price", "1"), ("price", math.nan), ("price", 1e-5),
                ("price", True), ("quantity", 1.0), ("quantity", True), ("in_stock", 1),
                ("tags", ("a",)), ("tags", [1]), ("name", "\ud800")]  # fmt: skip
    for key, value in declined:
        assert json_dumps_plan({**good, key: value}, plan) is None, (key, value)
    assert json_dumps_plan({k: v for k, v in good.items() if k != "name"}, plan) is None
    assert json_dumps_plan(type("Row", (dict,), {})(good), plan) is None
    assert json_dumps_plan([good], plan) is None
    # an int where a float is declared is converted as validation converts it
    assert json_dumps_plan({**good, "price": 3}, plan) == adapter.dump_json(
        adapter.validate_python({**good, "price": 3})
    )


class Defaults(BaseModel):
    name: str = "anon"
    note: str | None = None
    tags: list[str] = Field(default_factory=list)
    size: float = 2  # an int default: pydantic writes 2.0 (not validated), left to pydantic
    made: list[int] = Field(default_factory=lambda: [1])  # a factory to run: pydantic's


def test_missing_keys_get_the_default() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(Defaults)
    plan = _model_json.plan(adapter)
    full = {"name": "n", "note": "x", "tags": ["t"], "size": 1.5, "made": [2]}
    for drop in ("name", "note", "tags"):
        value = {k: v for k, v in full.items() if k != drop}
        assert json_dumps_plan(value, plan) == pydantic_json(adapter, value), drop
    for drop in ("size", "made"):
        assert json_dumps_plan({k: v for k, v in full.items() if k != drop}, plan) is None
    assert pydantic_json(adapter, {}) == (
        b'{"name":"anon","note":null,"tags":[],"size":2.0,"made":[1]}'
    )


def test_top_level_shapes() -> None:
    for tp, value in [(int, 5), (list[float], [1, 2.5]), (Empty, {}), (list[Empty], [{}]),
                      (Part | None, None), (list[Part | None], [None, {"code": "x"}])]:  # fmt: skip
        adapter: TypeAdapter[Any] = TypeAdapter(tp)
        assert check(adapter, value) is not None, tp


# -- models the fast path leaves to pydantic ---------------------------------------------------


class WithValidator(BaseModel):
    name: str

    @field_validator("name")
    @classmethod
    def upper(cls, v: str) -> str:
        return v.upper()


class WithModelValidator(BaseModel):
    name: str

    @model_validator(mode="after")
    def check(self) -> WithModelValidator:
        return self


class WithSerializer(BaseModel):
    name: str

    @field_serializer("name")
    def shout(self, v: str) -> str:
        return v + "!"


class WithComputed(BaseModel):
    name: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def size(self) -> int:
        return len(self.name)


class WithConstraint(BaseModel):
    price: float = Field(gt=0)


class Stripped(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    name: str


class Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


class Allow(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class Choices(BaseModel):
    name: str = Field(validation_alias=AliasChoices("name", "title"))


class ByNameOrAlias(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: str = Field(alias="n")


class Excluded(BaseModel):
    name: str
    secret: str = Field(exclude=True)


class Tree(BaseModel):
    name: str
    children: list[Tree] = []


class Strict(BaseModel):
    model_config = ConfigDict(strict=True)
    price: float


class PostInit(BaseModel):
    name: str

    def model_post_init(self, context: Any) -> None:
        pass


class Rooted(RootModel[list[str]]):
    pass


DECLINED = [WithValidator, WithModelValidator, WithSerializer, WithComputed, WithConstraint,
            Stripped, Forbid, Allow, Choices, ByNameOrAlias, Excluded, Tree, Strict, PostInit,
            Rooted, dict[str, int], list[tuple[int, str]]]  # fmt: skip


@pytest.mark.parametrize("tp", DECLINED, ids=lambda t: getattr(t, "__name__", str(t)))
def test_models_left_to_pydantic(tp: Any) -> None:
    assert _model_json.plan(TypeAdapter(tp)) is None
    assert _model_json.plan(TypeAdapter(list[tp])) is None


def test_benchmark_shape_takes_the_fast_path() -> None:
    """benchmarks/fastapi_style/items_app.py's GET route: 20 rows with an extra column."""
    rows = [{"name": f"item {i}", "price": 9.5 + i, "quantity": i, "in_stock": i % 3 != 0,
             "tags": ["tools", f"t{i % 4}"], "internal_cost": 3.25 * i}
            for i in range(20)]  # fmt: skip
    adapter: TypeAdapter[Any] = TypeAdapter(list[Item])
    body = check(adapter, rows)
    assert body is not None and b"internal_cost" not in body


# -- routes: the fast path and pydantic's path answer as FastAPI does ---------------------------


ROWS = [{"name": "pen", "price": 2, "quantity": 1, "in_stock": True, "tags": ["a"], "x": 1},
        {"name": "ink ✓", "price": 1e-5, "quantity": 2, "in_stock": False}]  # fmt: skip


def make_app(fw: Any) -> Any:
    app = fw.FastAPI()

    @app.get("/rows", response_model=list[Item])
    def rows() -> Any:
        return ROWS[:1]

    @app.get("/rows-fallback", response_model=list[Item])
    def rows_fallback() -> Any:
        return ROWS  # 1e-5 and a default: pydantic's path

    @app.get("/machine", response_model=Machine)
    def machine() -> Any:
        return {"machineLabel": "m", "cost": 3, "main": Part(code="c"), "parts": [{"code": "d"}]}

    @app.get("/machine-by-name", response_model=Machine, response_model_by_alias=False)
    def machine_by_name() -> Any:
        return {"machineLabel": "m", "cost": 3.5, "main": {"code": "c", "weight": 1}}

    @app.get("/unset", response_model=Part, response_model_exclude_unset=True)
    def unset() -> Any:
        return Part(code="c")

    @app.get("/defaults", response_model=list[Part], response_model_exclude_defaults=True)
    def defaults() -> Any:
        return [{"code": "c", "weight": None}, {"code": "d", "weight": 2.0}]

    @app.get("/none", response_model=Machine, response_model_exclude_none=True)
    def none() -> Any:
        return {"machineLabel": "m", "cost": 1.0, "main": {"code": "c"}}

    @app.get("/include", response_model=Item, response_model_include={"name"})
    def include() -> Any:
        return ROWS[0]

    @app.get("/exclude", response_model=list[Item], response_model_exclude={"tags"})
    def exclude() -> Any:
        return ROWS[:1]

    @app.get("/include-nothing", response_model=Item, response_model_include=set())
    def include_nothing() -> Any:
        return ROWS[0]

    @app.get("/exclude-nothing", response_model=Item, response_model_exclude=set())
    def exclude_nothing() -> Any:
        return ROWS[0]

    @app.get("/class", response_model=list[Item], response_class=fw.responses.JSONResponse)
    def with_class() -> Any:
        return ROWS[:1]

    @app.get("/class-unset", response_model=Part, response_model_exclude_unset=True,
             response_class=fw.responses.JSONResponse)  # fmt: skip
    def with_class_unset() -> Any:
        return Part(code="c")

    @app.get("/validated", response_model=WithValidator)
    def validated() -> Any:
        return {"name": "pen"}

    @app.get("/instance", response_model=Item)
    async def instance() -> Any:
        return Item(name="pen", price=1.5, quantity=1, in_stock=True)

    return app


ROUTES = ["/rows", "/rows-fallback", "/machine", "/machine-by-name", "/unset", "/defaults",
          "/none", "/include", "/exclude", "/include-nothing", "/exclude-nothing", "/class",
          "/class-unset", "/validated", "/instance"]  # fmt: skip


@pytest.fixture(scope="module")
def clients() -> Any:
    with both(make_app) as pair:
        yield pair


@pytest.mark.parametrize("path", ROUTES)
def test_route_answers_as_fastapi(clients: Any, path: str) -> None:
    ref, ours = clients
    a, b = ref.get(path), ours.get(path)
    assert (b.status_code, b.headers.get("content-type"), b.content) == (
        a.status_code,
        a.headers.get("content-type"),
        a.content,
    )


def test_routes_without_parameters() -> None:
    """Nothing to solve: the endpoint is called directly (fasterapi/_endpoint.py), with the
    route's status code, response model and dependencies=[...] still applied."""
    import fasterapi
    from fasterapi.testing import TestClient

    calls: list[str] = []
    app = fasterapi.FastAPI()

    @app.get("/async", response_model=list[Item], status_code=201)
    async def bare_async() -> Any:
        return ROWS[:1]

    @app.get("/sync", response_model=Part)
    def bare_sync() -> Any:
        return {"code": "c", "weight": 1}

    @app.get("/guarded", dependencies=[fasterapi.Depends(lambda: calls.append("dep"))])
    async def guarded() -> Any:
        return {"ok": True}

    with TestClient(app) as c:
        r = c.get("/async")
        assert (r.status_code, r.content) == (201, TypeAdapter(list[Item]).dump_json(
            TypeAdapter(list[Item]).validate_python(ROWS[:1])))  # fmt: skip
        assert c.get("/sync").content == b'{"code":"c","weight":1.0}'
        assert c.get("/guarded").json() == {"ok": True} and calls == ["dep"]

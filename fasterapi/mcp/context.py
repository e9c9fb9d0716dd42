"""Context: what a tool, resource or prompt can do besides returning — report progress, send
log messages (server/utilities/progress.mdx, logging.mdx), and ask the client: elicitation,
sampling and roots (client/*.mdx). Declare a parameter annotated `Context` to receive one.

The asks work in both protocol eras: on 2025-11-25 they are requests sent to the client on the
request's own stream, answered later; on 2026-07-28 (stateless) an unanswered ask ends the call
with an InputRequiredResult and the client's retry replays the function with the answers
(fasterapi/mcp/input_required.py)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from fasterapi.mcp.errors import INVALID_PARAMS, McpError
from fasterapi.mcp.input_required import InputRequired
from fasterapi.mcp.results import ClientResult, wrap

if TYPE_CHECKING:
    from fasterapi.mcp.server import MCPServer
    from fasterapi.mcp.tasks import Experimental

LogLevel = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]

#: 2026-07-28 basic/index.mdx: a request needs a client capability it did not declare.
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
#: Seconds a server request waits for the client's answer (2025-11-25) unless told otherwise.
DEFAULT_ASK_TIMEOUT_S = 300.0

_CAPABILITY = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}
_META = "_meta"
_CLIENT_CAPS = "io.modelcontextprotocol/clientCapabilities"


class Context:
    """Per-request handle. Its methods are coroutines, as in the official SDK."""

    def __init__(self, reply: Any, server: MCPServer | None = None) -> None:
        self._reply = reply
        self._server = server
        self._round: _Round | None = None
        self._tool: Any = None  # the Tool being called (ctx.experimental.run_task shapes its value)

    def __class_getitem__(cls, _params: Any) -> type[Context]:
        return cls  # `Context[ServerSession, None]` annotations from SDK code keep working

    @property
    def request_id(self) -> str:
        """The request's JSON-RPC id as a string (`"7"` for the id 7, `"abc"` for "abc")."""
        raw = str(self._reply.request_id)
        return str(json.loads(raw)) if raw.startswith('"') else raw

    @property
    def cancelled(self) -> bool:
        """True once the client cancelled the request (or went away)."""
        return not self._reply.active

    @property
    def protocol_version(self) -> str | None:
        """"2026-07-28" for a stateless request, None for a 2025-11-25 session's."""
        return "2026-07-28" if self._reply.modern else None

    @property
    def client_capabilities(self) -> ClientResult | None:
        """The capabilities the client declared (initialize, or the 2026-07-28 request's
        _meta), e.g. `ctx.client_capabilities.sampling`; None when it declared none."""
        if self._reply.modern:
            caps = self._modern().meta.get(_CLIENT_CAPS)
        else:
            raw = self._reply.client_capabilities
            caps = json.loads(raw) if raw else None
        return ClientResult(caps) if isinstance(caps, dict) else None

    @property
    def input_responses(self) -> dict[str, Any] | None:
        """2026-07-28: the client's answers so far, by the key each input request had (this
        round's inputResponses and earlier rounds', kept in the sealed requestState)."""
        if not self._reply.modern:
            return None
        answers = self._modern().answers
        return {k: wrap(v) for k, v in answers.items()} if answers else None

    @property
    def request_state(self) -> str | None:
        """2026-07-28: the request_state your InputRequiredResult carried, verified; None on
        the first round."""
        return self._modern().state if self._reply.modern else None

    @property
    def claims(self) -> dict[str, Any] | None:
        """With `MCPServer(auth=BearerAuth(...))` on HTTP: the verified access token's claims
        (sub, scope, client_id, ...); None without authorization."""
        raw = self._reply.auth_claims
        return dict(json.loads(raw)) if raw else None

    @property
    def experimental(self) -> Experimental:
        """The official SDK's experimental calls: `run_task(work)`, `is_task` (tasks, SEP-2663)."""
        from fasterapi.mcp.tasks import Experimental

        return Experimental(self)

    @property
    def session(self) -> _Session:
        """The official SDK's `ctx.session` calls: create_message, elicit_form, list_roots."""
        return _Session(self)

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Sends notifications/progress if the client asked for progress (a progressToken)."""
        self._reply.progress(float(progress), None if total is None else float(total), message)

    async def log(
        self, level: LogLevel, message: Any, *, logger_name: str | None = None
    ) -> None:
        """Sends notifications/message at `level` (filtered by the client's logging/setLevel)."""
        self._reply.log(level, message, logger_name)

    async def debug(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("debug", message, logger_name=logger_name)

    async def info(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("info", message, logger_name=logger_name)

    async def warning(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("warning", message, logger_name=logger_name)

    async def error(self, message: Any, *, logger_name: str | None = None) -> None:
        await self.log("error", message, logger_name=logger_name)

    async def read_resource(self, uri: str) -> Any:
        """Reads one of this server's resources: the value its function returns."""
        if self._server is None:
            raise RuntimeError("Context.read_resource: no server")
        return await self._server._read_resource_value(uri)

    async def close_sse_stream(self) -> None:
        """Ends this request's SSE stream over HTTP (SEP-1699); the client reconnects with GET
        and Last-Event-ID and receives what was sent meanwhile. Elsewhere: nothing."""
        self._reply.close_stream()

    # -- asking the client (client/elicitation.mdx, client/sampling.mdx, client/roots.mdx) --
    async def elicit(
        self,
        message: str,
        schema: Any,
        *,
        key: str | None = None,
        timeout: float | None = None,
    ) -> ClientResult:
        """Asks the user for input (elicitation/create, form mode). `schema` is a JSON Schema
        object or a pydantic model class; with a model, an accepted answer is validated into
        `result.data`. Returns the ElicitResult: `.action` ("accept", "decline", "cancel"),
        `.content`."""
        is_model = isinstance(schema, type) and hasattr(schema, "model_json_schema")
        model = schema if is_model else None
        requested = model.model_json_schema() if model is not None else schema
        params = {"message": message, "requestedSchema": requested}
        result = await self._ask("elicitation/create", params, key, timeout)
        if model is not None and result.get("action") == "accept":
            result["data"] = model.model_validate(result.get("content") or {})
        return result

    async def sample(
        self,
        messages: str | list[Any],
        *,
        max_tokens: int,
        system_prompt: str | None = None,
        temperature: float | None = None,
        stop_sequences: list[str] | None = None,
        model_preferences: Any = None,
        include_context: str | None = None,
        metadata: dict[str, Any] | None = None,
        key: str | None = None,
        timeout: float | None = None,
    ) -> ClientResult:
        """Asks the client's LLM (sampling/createMessage). `messages` is a prompt string or a
        list of SamplingMessage objects. Returns the CreateMessageResult (`.content.text`,
        `.model`, `.role`, `.stopReason`)."""
        if isinstance(messages, str):
            messages = [{"role": "user", "content": {"type": "text", "text": messages}}]
        params: dict[str, Any] = {
            "messages": [_plain(m) for m in messages],
            "maxTokens": max_tokens,
        }
        optional = {
            "systemPrompt": system_prompt,
            "temperature": temperature,
            "stopSequences": stop_sequences,
            "modelPreferences": _plain(model_preferences),
            "includeContext": include_context,
            "metadata": metadata,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        return await self._ask("sampling/createMessage", params, key, timeout)

    async def list_roots(
        self, *, key: str | None = None, timeout: float | None = None
    ) -> ClientResult:
        """Asks the client for its roots (roots/list). Returns the ListRootsResult (`.roots`)."""
        return await self._ask("roots/list", None, key, timeout)

    create_message = sample  # the SDK's ServerSession name

    async def _ask(
        self, method: str, params: dict[str, Any] | None, key: str | None, timeout: float | None
    ) -> ClientResult:
        if self._server is None:
            raise RuntimeError("Context: no server")
        self._require(method)
        if self._reply.modern and not self._reply.in_task:
            return self._modern().answer(method, params, key)
        # 2025-11-25, or a task (SEP-2663: the ask waits in the task's inputRequests for
        # tasks/update): a request to the client, answered later.
        number = self._reply.request(method, params)
        if not number:
            raise McpError("the request was cancelled or its client is gone")
        value = await self._server._await_response(number, timeout or DEFAULT_ASK_TIMEOUT_S)
        return ClientResult(value) if isinstance(value, dict) else ClientResult()

    def _require(self, method: str) -> None:
        """client/*.mdx: servers send these requests only to clients that declared them."""
        need = _CAPABILITY[method]
        caps = self.client_capabilities
        if caps is None or caps.get(need) is None:
            raise McpError(
                f"the client did not declare the {need} capability",
                MISSING_REQUIRED_CLIENT_CAPABILITY,
                {"requiredCapabilities": {need: {}}},
            )

    # -- list changes and resource updates (server-wide; here for the SDK's ctx API) -----
    async def notify_tools_changed(self) -> None:
        self._srv().notify_tools_changed()

    async def notify_prompts_changed(self) -> None:
        self._srv().notify_prompts_changed()

    async def notify_resources_changed(self) -> None:
        self._srv().notify_resources_changed()

    async def notify_resource_updated(self, uri: str) -> None:
        self._srv().notify_resource_updated(str(uri))

    def _srv(self) -> MCPServer:
        if self._server is None:
            raise RuntimeError("Context: no server")
        return self._server

    def _modern(self) -> _Round:
        if self._round is None:
            self._round = _Round(self)
        return self._round


class _Round:
    """One 2026-07-28 call's inputs: its params, the verified requestState, the answers."""

    def __init__(self, ctx: Context) -> None:
        params = json.loads(ctx._reply.params or "{}")
        self.ctx = ctx
        self.meta: dict[str, Any] = params.get(_META) or {}
        self.bound_to = str(params.get("name", params.get("uri", "")))
        self.answers: dict[str, Any] = {}
        self.state: str | None = None
        token = params.get("requestState")
        if token is not None and ctx._server is not None:
            sealed = ctx._server._state_seal.open(self.bound_to, token)
            self.answers.update(sealed.get("a") or {})
            self.state = sealed.get("s")
        responses = params.get("inputResponses")
        if responses is not None:
            # mrtr.mdx: each response is the result object of the request it answers.
            if not isinstance(responses, dict) or not all(
                isinstance(v, dict) for v in responses.values()
            ):
                raise McpError(
                    "Invalid params: inputResponses must map keys to result objects",
                    INVALID_PARAMS,
                )
            self.answers.update(responses)
        self.asked = 0
        self.needed: dict[str, Any] = {}

    def answer(self, method: str, params: dict[str, Any] | None, key: str | None) -> ClientResult:
        if key is None:
            key = f"{method.split('/')[0]}-{self.asked}"
        self.asked += 1
        if key in self.answers:
            value = self.answers[key]
            return ClientResult(value) if isinstance(value, dict) else ClientResult()
        self.needed[key] = {"method": method, "params": params or {}}
        raise InputRequired(self.needed)

    def result(self, requests: dict[str, Any], state: str | None) -> dict[str, Any]:
        """The InputRequiredResult: what is still needed, the answers so far sealed."""
        assert self.ctx._server is not None
        sealed = self.ctx._server._state_seal.seal(self.bound_to, {"a": self.answers, "s": state})
        return {"resultType": "input_required", "inputRequests": requests, "requestState": sealed}


class _Session:
    """`ctx.session`: the official SDK's ServerSession calls, on this request."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    @property
    def client_params(self) -> Any:
        return ClientResult({"capabilities": self._ctx.client_capabilities or {}})

    async def create_message(
        self, messages: list[Any], *, max_tokens: int, **kw: Any
    ) -> ClientResult:
        return await self._ctx.sample(messages, max_tokens=max_tokens, **kw)

    async def elicit_form(self, message: str, requested_schema: Any, **_: Any) -> ClientResult:
        return await self._ctx.elicit(message, requested_schema)

    async def elicit(self, message: str, requested_schema: Any, **_: Any) -> ClientResult:
        return await self._ctx.elicit(message, requested_schema)

    async def list_roots(self) -> ClientResult:
        return await self._ctx.list_roots()


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    return value

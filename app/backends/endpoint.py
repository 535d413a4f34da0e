"""OpenAI-compatible /v1/chat/completions back-end, streamed over server-sent events with httpx."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence

from indexer.config import LLMConfig
from indexer.errors import GenerationError
from indexer.models import Hit

from . import build_messages


def parse_sse_line(line: str) -> str | None:
    """The content delta of one SSE line; "" for lines without content, None at [DONE].

    Raises GenerationError for a data line that is not the expected JSON.
    """
    line = line.strip()
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise GenerationError(f"生成服务返回了无法解析的数据：{data[:80]!r}") from exc
    if isinstance(obj, dict) and obj.get("error"):
        raise GenerationError(f"生成服务报错：{str(obj['error'])[:200]}")
    try:
        choice = obj["choices"][0]
    except (KeyError, IndexError, TypeError) as exc:
        raise GenerationError(f"生成服务返回的数据格式不符合 OpenAI 接口：{data[:80]!r}") from exc
    if not choice:
        return ""
    delta = choice.get("delta") or choice.get("message") or {}
    return delta.get("content") or ""


class EndpointGenerator:
    """Streams from any OpenAI-compatible server (llama.cpp server, Ollama, vLLM, a hosted API)."""

    def __init__(self, llm_cfg: LLMConfig):
        self.cfg = llm_cfg
        self.url = llm_cfg.base_url.rstrip("/") + "/chat/completions"
        self.name = f"endpoint:{llm_cfg.model}"

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        key = os.environ.get(self.cfg.api_key_env, "") if self.cfg.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def stream(self, question: str, passages: list[Hit], history: Sequence[tuple[str, str]] = ()) -> Iterator[str]:
        import httpx

        body = {
            "model": self.cfg.model,
            "messages": build_messages(question, passages, history),
            "stream": True,
            "temperature": self.cfg.temperature,
            "max_tokens": self.cfg.max_tokens,
        }
        timeout = httpx.Timeout(self.cfg.timeout_s, connect=min(10.0, float(self.cfg.timeout_s)))
        text = ""
        try:
            with httpx.Client(timeout=timeout, trust_env=False) as client:
                with client.stream("POST", self.url, json=body, headers=self._headers()) as resp:
                    if resp.status_code != 200:
                        detail = resp.read().decode("utf-8", "replace")[:200]
                        raise GenerationError(f"生成服务返回错误 HTTP {resp.status_code}：{detail}")
                    if "application/json" in resp.headers.get("content-type", ""):
                        # Some servers ignore stream=true and answer in one JSON body.
                        content = parse_sse_line("data: " + resp.read().decode("utf-8", "replace"))
                        if content:
                            yield content
                            text = content
                    else:
                        for line in resp.iter_lines():
                            delta = parse_sse_line(line)
                            if delta is None:
                                break
                            if delta:
                                text += delta
                                yield text
        except httpx.TimeoutException as exc:
            raise GenerationError(f"生成服务 {self.url} 在 {self.cfg.timeout_s} 秒内没有响应，请稍后再试或改用摘录式回答。") from exc
        except httpx.HTTPError as exc:
            raise GenerationError(f"无法连接生成服务 {self.url}：{exc.__class__.__name__}。请确认服务已启动，或改用摘录式回答。") from exc
        if not text.strip():
            raise GenerationError("生成服务没有返回任何回答内容。")

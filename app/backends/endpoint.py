"""OpenAI-compatible chat-completions back-end, streamed through the official `openai` client."""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from indexer.config import LLMConfig
from indexer.errors import GenerationError
from indexer.models import Hit

from . import build_messages

NO_KEY = "no-key-configured"
BROKEN = "回答生成到一半时与生成服务的连接中断了，已生成的部分不完整，请重试；上面列出的资料仍可查看。"


class EndpointGenerator:
    """Streams from any OpenAI-compatible server (llama.cpp server, Ollama, vLLM, a hosted API)."""

    def __init__(self, llm_cfg: LLMConfig):
        self.cfg = llm_cfg
        self.base_url = llm_cfg.base_url.rstrip("/")
        self.name = f"endpoint:{llm_cfg.model}"
        self._client = None

    def client(self):
        if self._client is None:
            import httpx
            import openai

            key = os.environ.get(self.cfg.api_key_env, "") if self.cfg.api_key_env else ""
            timeout = httpx.Timeout(self.cfg.timeout_s, connect=min(10.0, float(self.cfg.timeout_s)))
            # trust_env=False: an office proxy setting must not send report passages elsewhere.
            # The client insists on a key; local servers (llama.cpp, Ollama) ignore this placeholder.
            self._client = openai.OpenAI(base_url=self.base_url, api_key=key or NO_KEY, timeout=timeout, max_retries=0,
                                         http_client=httpx.Client(timeout=timeout, trust_env=False))
        return self._client

    def stream(self, question: str, passages: list[Hit], history: Sequence[tuple[str, str]] = (),
               signals=None) -> Iterator[str]:
        import openai

        text, finished = "", False
        try:
            stream = self.client().chat.completions.create(
                model=self.cfg.model, messages=build_messages(question, passages, history), stream=True,
                temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens)
            for event in stream:
                if getattr(event, "error", None):
                    raise GenerationError(f"生成服务报错：{str(event.error)[:200]}")
                choices = getattr(event, "choices", None)
                if choices is None:
                    raise GenerationError("生成服务返回的数据格式不符合 OpenAI 接口。")
                delta = choices[0].delta.content if choices and choices[0].delta else None
                finished = finished or bool(choices and choices[0].finish_reason)
                if delta:
                    text += delta
                    yield text
        except openai.APITimeoutError as exc:
            raise GenerationError(BROKEN if text else
                                  f"生成服务在 {self.cfg.timeout_s} 秒内没有响应，请稍后再试或改用摘录式回答。") from exc
        except openai.APIConnectionError as exc:
            raise GenerationError(BROKEN if text else "无法连接生成服务，请确认服务已启动，或改用摘录式回答。") from exc
        except openai.APIStatusError as exc:
            raise GenerationError(f"生成服务返回错误（HTTP {exc.status_code}），请检查服务的模型与设置。") from exc
        except (openai.APIError, ValueError, AttributeError, IndexError) as exc:
            raise GenerationError(BROKEN if text else "生成服务返回了无法解析的数据。") from exc
        if not text.strip():
            raise GenerationError("生成服务没有返回任何回答内容。")
        if not finished:  # every OpenAI-compatible server ends a complete answer with a finish_reason
            raise GenerationError(BROKEN)

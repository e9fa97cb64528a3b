"""Search the Hub by task, most downloaded first (lesson 4, step 2), through ``HfApi``."""

from __future__ import annotations

from dataclasses import dataclass

from demos import hub

#: Tasks offered in the search box (Hub ``pipeline_tag`` values).
SEARCH_TASKS: tuple[str, ...] = (
    "text-classification",
    "zero-shot-classification",
    "summarization",
    "text2text-generation",
    "text-generation",
    "token-classification",
    "question-answering",
    "sentence-similarity",
)
MAX_RESULTS = 50


class SearchError(ValueError):
    """The search could not run (bad task, or the Hub cannot be reached)."""


@dataclass(frozen=True)
class ModelFacts:
    model_id: str
    task: str
    downloads: int
    likes: int
    licence: str
    parameters: str

    @property
    def url(self) -> str:
        return f"{hub.hub_endpoint()}/{self.model_id}"


def _human_count(count: int | None) -> str:
    if not count:
        return "?"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)


def search_models(task: str, query: str = "", limit: int = 10, api=None) -> list[ModelFacts]:
    """The ``limit`` most downloaded models for ``task`` (optionally matching ``query``).

    Fails fast with :class:`SearchError` when offline or when the Hub cannot be reached.
    ``api`` is an ``HfApi``-like object (tests pass a fake).
    """
    if task not in SEARCH_TASKS:
        raise SearchError(f"Pick a task from the list ({', '.join(SEARCH_TASKS)}).")
    limit = max(1, min(int(limit), MAX_RESULTS))
    if api is None:
        try:
            hub.require_hub()
        except hub.HubUnavailable as error:
            raise SearchError(f"{error} Searching the Hub needs a connection.") from error
        from huggingface_hub import HfApi

        api = HfApi()
    try:
        found = api.list_models(
            pipeline_tag=task,
            search=query.strip() or None,
            sort="downloads",
            limit=limit,
            expand=["downloads", "likes", "pipeline_tag", "cardData", "safetensors", "tags"],
        )
        results = [_facts(info, task) for info in found]
    except SearchError:
        raise
    except Exception as error:  # network trouble mid-search: a sentence, not a traceback
        raise SearchError(f"The Hub search failed ({type(error).__name__}). Try again.") from error
    return results


def _facts(info, task: str) -> ModelFacts:
    card = getattr(info, "card_data", None) or getattr(info, "cardData", None) or {}
    licence = card.get("license") if isinstance(card, dict) else getattr(card, "license", None)
    if not licence:
        licence = next(
            (tag.split(":", 1)[1] for tag in (info.tags or []) if tag.startswith("license:")), "?"
        )
    safetensors = getattr(info, "safetensors", None)
    total = getattr(safetensors, "total", None) if safetensors is not None else None
    return ModelFacts(
        model_id=info.id,
        task=getattr(info, "pipeline_tag", None) or task,
        downloads=int(getattr(info, "downloads", 0) or 0),
        likes=int(getattr(info, "likes", 0) or 0),
        licence=str(licence),
        parameters=_human_count(total),
    )

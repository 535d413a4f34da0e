"""Domain errors of the report assistant; the CLI and UI turn them into messages."""


class AssistantError(Exception):
    """Base of every error a user should see as a message rather than a traceback."""


class ConfigError(AssistantError):
    """config.toml is missing, malformed or names an impossible setting."""


class InputFileError(AssistantError):
    """One input file cannot be read: empty, binary, unknown encoding, corrupt or too large."""


class CorpusError(AssistantError):
    """The corpus directory is missing or holds no readable report."""


class ModelUnavailableError(AssistantError):
    """The embedding model or LLM cannot be loaded here (offline, wrong platform, missing package)."""


class IndexMissingError(AssistantError):
    """No index exists at the given directory."""


class IndexMismatchError(AssistantError):
    """The index on disk was built with other settings (model, dimension, chunking, version)."""


class IndexDamagedError(AssistantError):
    """A file of the index is missing, truncated or garbled, or CURRENT names no generation inside the index."""


class QueryError(AssistantError):
    """A query is empty, too long or names an unknown filter."""


class GenerationError(AssistantError):
    """The answer back-end failed: server down, timeout, bad response."""


class StoreUnavailableError(AssistantError):
    """The configured index store (a Milvus server or cluster) cannot be reached or refused a request."""

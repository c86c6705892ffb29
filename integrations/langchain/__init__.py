"""guardrail for LangChain: guarded runnables, pipeable guards, a guarded chat model.

``pip install 'guardrail[langchain]'``. The agent middleware lives in
``guardrail.integrations.langchain.middleware`` (needs ``langchain>=1``).
"""

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover
    raise ImportError(
        "guardrail.integrations.langchain needs langchain-core: pip install 'guardrail[langchain]'"
    ) from exc

from ._chat_model import GuardedChatModel
from ._runnable import GuardedRunnable, guard_input, guard_output

__all__ = ["GuardedChatModel", "GuardedRunnable", "guard_input", "guard_output"]

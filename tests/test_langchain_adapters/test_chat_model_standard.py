"""langchain-tests' standard unit suite, the one LangChain partner packages pass."""

from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_tests.unit_tests import ChatModelUnitTests

from guardrail import Guard, LocalEngine
from guardrail.integrations.langchain import GuardedChatModel


class TestGuardedChatModelStandard(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[GuardedChatModel]:
        return GuardedChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        guard = Guard({"harm": {}}, backend=LocalEngine(":memory:"))
        return {"model": FakeListChatModel(responses=["Hello! How can I help?"]), "guard": guard}

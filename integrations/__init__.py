"""Adapters that put a Guard into other frameworks. Import each by name, e.g.
``guardrail.integrations.langchain``; the core never imports them."""

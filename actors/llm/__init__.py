"""The LLM plumbing both AI APIs use: settings, errors and the OpenAI stream reader."""

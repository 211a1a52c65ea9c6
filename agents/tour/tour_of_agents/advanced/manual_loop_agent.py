"""Advanced: the agent loop written by hand with the plain ``openai`` client.

    curl localhost:8080/ManualLoopAgent/run \\
      --json '{"message": "What is the weather like in New York and San Francisco?"}'

Every chat completion is a journaled ``llm-call`` step (at most 3 attempts, so a broken key does
not burn credits forever) and every tool call a ``Get weather`` step: a crash resumes the loop
where it stopped. The client reads the standard ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``.
"""

from __future__ import annotations

import functools

import restate
from openai import AsyncOpenAI, pydantic_function_tool
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolMessageParam,
    ChatCompletionUserMessageParam,
)
from restate import Context

from ..utils.models import MODEL, MultiWeatherPrompt, WeatherRequest
from ..utils.utils import as_chat_completion_param, fetch_weather


@functools.cache
def openai_client() -> AsyncOpenAI:
    """Created on first use, so the app loads (and the other chapters run) without a key."""
    return AsyncOpenAI()


# The one tool the model may call
TOOLS = [
    pydantic_function_tool(
        WeatherRequest,
        name="get_weather",
        description="Get the current weather in a given location",
    )
]


manual_loop_agent = restate.Service("ManualLoopAgent")


@manual_loop_agent.handler()
async def run(ctx: Context, prompt: MultiWeatherPrompt) -> str | None:
    """Main agent loop with tool calling."""
    messages: list[ChatCompletionMessageParam] = [ChatCompletionUserMessageParam(role="user", content=prompt.message)]

    while True:
        # One model call per turn, journaled as a step
        async def llm_call() -> ChatCompletion:
            return await openai_client().chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)

        response = await ctx.run_typed(
            "llm-call",
            llm_call,
            restate.RunOptions(max_attempts=3),  # avoid spending credits on endless retries during development
        )

        # Keep the assistant turn in the conversation for the next call
        assistant_message = response.choices[0].message
        messages.append(as_chat_completion_param(assistant_message))

        if not assistant_message.tool_calls:
            return assistant_message.content

        # Execute the requested tools, each as a durable step
        for tool_call in assistant_message.tool_calls:
            if (
                isinstance(tool_call, ChatCompletionMessageFunctionToolCall)
                and tool_call.function.name == "get_weather"
            ):
                req = WeatherRequest.model_validate_json(tool_call.function.arguments)
                tool_output = await ctx.run_typed("Get weather", fetch_weather, city=req.city)
                content = tool_output.model_dump_json()
            else:
                content = f"Unknown tool {getattr(tool_call, 'function', tool_call)!r}: only get_weather exists."

            # The tool's answer goes back to the model on the next turn
            messages.append(ChatCompletionToolMessageParam(role="tool", tool_call_id=tool_call.id, content=content))

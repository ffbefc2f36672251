"""Rows for users, tenants and conversations (LLM Traces & Logs), from rag-api's logs in Loki.

Users, tenants and conversations are unbounded, so no metric carries them (a label per user would
grow Prometheus by the number of users): every chat log line carries `user_id` (a pseudonym),
`tenant` and `conversation_id`, and `chat_answered` the request's `cost_usd`, tokens and
`latency_ms` (docs/telemetry.md § Logs). Structured metadata needs no parser: `| unwrap cost_usd`
reads the field directly; `| __error__=""` drops a line whose field is not a number instead of
failing the query. Top-N panels are bounded by `topk`; distributions by Loki's
`max_query_series` (500 by default), which the histograms respect with `topk(500, …)`.
"""

from __future__ import annotations

from genai_telemetry import semconv as sc

from . import common, core
from .core import loki

USER, TENANT, CONVERSATION = "user_id", "tenant", "conversation_id"
TOP = 10
MAX_SERIES = 500  # Loki's default limits_config.max_query_series
RANGE = "[$__range]"
USD = "currencyUSD"


def answered(key: str, unwrap: str = "") -> str:
    """chat_answered lines that carry `key`, optionally unwrapping a numeric field."""
    out = f'{common.log_stream()} |= "chat_answered" | {key} != ""'
    return out + (f' | unwrap {unwrap} | __error__=""' if unwrap else "")


def failed(key: str) -> str:
    return f'{common.log_stream()} |= "chat_failed" | {key} != ""'


def total(key: str, field: str) -> str:
    """Sum of a numeric field per `key` over the range."""
    return f"sum by ({key}) (sum_over_time({answered(key, field)} {RANGE}))"


def requests(key: str) -> str:
    return f"sum by ({key}) (count_over_time({answered(key)} {RANGE}))"


def tokens(key: str) -> str:
    return f"{total(key, 'input_tokens')} + {total(key, 'output_tokens')}"


def errors(key: str) -> str:
    return f"sum by ({key}) (count_over_time({failed(key)} {RANGE}))"


def p95_latency(key: str) -> str:
    return f"quantile_over_time(0.95, {answered(key, 'latency_ms')} {RANGE}) by ({key})"


def top(expr: str, n: int = TOP) -> str:
    return f"topk({n}, {expr})"


# What a top-N panel ranks: title, description, query per key, unit.
MEASURES = [
    ("cost", "USD spent on their answered chats", lambda k: total(k, "cost_usd"), USD),
    ("tokens", "input + output tokens of their answered chats", tokens, "short"),
    ("errors", "failed chats (chat_failed lines)", errors, "short"),
    ("p95 latency", "95th percentile of their chats' latency_ms", p95_latency, "ms"),
]


def open_user() -> list[core.Json]:
    """Data link: this dashboard with $user set to the clicked user."""
    return [
        {
            "title": "Traces and logs of this user",
            "url": f"/d/{common.current().uid(common.TRACES[0])}?var-user="
            "${__field.labels.user_id}&${__url_time_range}",
        }
    ]


def open_conversation() -> list[core.Json]:
    return [
        {
            "title": "Traces and logs of this conversation",
            "url": f"/d/{common.current().uid(common.TRACES[0])}?var-conversation="
            "${__field.labels.conversation_id}&${__url_time_range}",
        }
    ]


def top_panel(key: str, who: str, measure: tuple) -> core.Panel:
    name, what, query, unit = measure
    return core.bargauge(
        f"Top {TOP} {who}s by {name}",
        f"The {TOP} {who}s with the most {what} in the range (LogQL over chat log lines; "
        f"`{key}` is a log field, never a metric label, so any number of {who}s costs "
        "Prometheus nothing). Click a bar to open its traces and logs."
        if key == USER
        else f"The {TOP} {who}s with the most {what} in the range (LogQL; `{key}` is the API "
        "key's pseudonym, `anonymous` without a configured key).",
        [loki(top(query(key)), f"{{{{{key}}}}}", instant=True)],
        unit,
        w=6,
        decimals=4 if unit == USD else 0,
        data_links=open_user() if key == USER else None,
    )


def users_and_tenants(d: core.Dashboard) -> None:
    d.row("Users and tenants (logs)")
    d.add(*[top_panel(USER, "user", m) for m in MEASURES])
    d.add(*[top_panel(TENANT, "tenant", m) for m in MEASURES])


def per_conversation(field: str = "") -> str:
    """One value per conversation over the range: its turns, or the sum of a numeric field."""
    if not field:
        return requests(CONVERSATION)
    return total(CONVERSATION, field)


def conversation_stat(title: str, description: str, expr: str, unit: str) -> core.Panel:
    return core.stat(
        title,
        description,
        loki(expr, instant=True),
        unit,
        w=4,
        decimals=4 if unit == USD else 1,
        graph=False,
    )


def conversations(d: core.Dashboard) -> None:
    d.row("Conversations (logs)")
    turns, cost = per_conversation(), per_conversation("cost_usd")
    d.add(
        conversation_stat(
            "Conversations",
            "Conversations with at least one answered turn in the range (distinct "
            "conversation_id of chat_answered lines; requests without one are not counted).",
            f"count({turns})",
            "short",
        ),
        conversation_stat(
            "Turns per conversation (mean)",
            "Answered chats per conversation, averaged over the conversations in the range.",
            f"avg({turns})",
            "short",
        ),
        conversation_stat(
            "Turns, longest conversation",
            "The most turns of any one conversation.",
            f"max({turns})",
            "short",
        ),
        conversation_stat(
            "Tokens per conversation (mean)",
            "Input + output tokens per conversation, averaged.",
            f"avg({tokens(CONVERSATION)})",
            "short",
        ),
        conversation_stat(
            "Cost per conversation (mean)", "USD per conversation, averaged.", f"avg({cost})", USD
        ),
        conversation_stat(
            "Cost, costliest conversation",
            "USD of the costliest conversation.",
            f"max({cost})",
            USD,
        ),
    )
    d.add(*conversation_distributions(turns, cost))


def conversation_distributions(turns: str, cost: str) -> list[core.Panel]:
    limit = (
        f"Loki returns at most {MAX_SERIES} series per query (max_query_series), so with more "
        f"conversations in the range this is the distribution over the {MAX_SERIES} largest; "
        "the mean and maximum above cover all."
    )
    return [
        core.histogram(
            "Turns per conversation (distribution)",
            f"How many conversations had how many answered turns. {limit}",
            [loki(top(turns, MAX_SERIES), "{{conversation_id}}", instant=True)],
            "short",
            w=8,
        ),
        core.histogram(
            "Cost per conversation (distribution)",
            f"How many conversations cost how much (USD). {limit}",
            [loki(top(cost, MAX_SERIES), "{{conversation_id}}", instant=True)],
            USD,
            w=8,
        ),
        core.bargauge(
            f"Top {TOP} conversations by cost",
            "The costliest conversations in the range. Click a bar to open the conversation's "
            "traces and logs below.",
            [loki(top(cost), "{{conversation_id}}", instant=True)],
            USD,
            w=8,
            decimals=4,
            data_links=open_conversation(),
        ),
    ]


def variables() -> list[core.Json]:
    return [
        core.textbox_var(
            "user",
            "User (u-…)",
            "A user pseudonym: click one in the top-users panels, or compute it with "
            "`python -m demo_app.api.identity <user id>`.",
        ),
        core.textbox_var(
            "conversation",
            "Conversation",
            "A conversation id (the request's conversation_id): click one in the top "
            "conversations panel. Any text but a backtick (the queries quote it with backticks, "
            "so quotes and backslashes need no escaping).",
        ),
    ]


def only_set(label: str, variable: str) -> str:
    """Log lines whose `label` is the textbox's value: none while the textbox is empty (Loki
    reads a missing label as "", so `label = ""` alone would match every line without it).
    The value goes in a raw string: Grafana escapes no `"` or `\\` in a textbox's value."""
    return f'{common.log_stream()} | {label} != "" | {label} = `{variable}`'


def one_user_or_conversation(d: core.Dashboard) -> None:
    d.row("One user or conversation (set $user / $conversation)")
    service = common.trace_service()
    # raw strings, as in only_set()
    user = f"{service} && span.{sc.A_ENDUSER_PSEUDO_ID} = `$user`"
    conversation = f"{service} && span.{sc.A_CONVERSATION_ID} = `$conversation`"
    d.add(
        core.trace_table(
            "Traces of user $user",
            "Requests of the user in $user (the server span's enduser.pseudo.id). Empty until "
            "$user is set.",
            f"{{ {user} }}",
        ),
        core.logs(
            "Logs of user $user",
            "Every log line of the user's requests (user_id), with trace links. Empty until "
            "$user is set.",
            only_set(USER, "$user"),
            w=12,
            h=9,
        ),
    )
    d.add(
        core.trace_table(
            "Traces of conversation $conversation",
            "The conversation's turns, one trace per turn (gen_ai.conversation.id on the agent "
            "and chat spans). Empty until $conversation is set.",
            f"{{ {conversation} }}",
        ),
        core.logs(
            "Logs of conversation $conversation",
            "Every log line of the conversation's turns (conversation_id), with trace links. "
            "Empty until $conversation is set.",
            only_set(CONVERSATION, "$conversation"),
            w=12,
            h=9,
        ),
    )

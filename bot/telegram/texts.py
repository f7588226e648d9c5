"""User-facing texts in English and Russian. Russian for language_code "ru", English otherwise."""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "ru"]

TEXTS: dict[str, dict[Lang, str]] = {
    "start": {
        "en": (
            "Hi! I am a chatbot running on the Gonka decentralized inference network.\n\n"
            "Just write to me: I remember our conversation and answer as I type.\n"
            "/new or /reset: start a new conversation\n/usage: your tokens and their cost\n"
            "/model: the model of this chat\n/system: the system prompt of this chat\n"
            "/context: in a group, whether I read messages not addressed to me\n"
            "/help: this help"
        ),
        "ru": (
            "Привет! Я чат-бот на децентрализованной сети инференса Gonka.\n\n"
            "Просто напишите мне: я помню наш разговор и отвечаю по мере набора текста.\n"
            "/new или /reset: начать новый разговор\n/usage: ваши токены и их стоимость\n"
            "/model: модель этого чата\n/system: системный промпт этого чата\n"
            "/context: в группе — читаю ли я сообщения, адресованные не мне\n"
            "/help: эта справка"
        ),
    },
    "reset_done": {
        "en": "Done: I have forgotten our conversation. Let's start afresh.",
        "ru": "Готово: я забыл наш разговор. Начнём заново.",
    },
    "usage": {
        "en": (
            "Your usage\n\nToday: {today}\nThis month: {month}\nAll time: {all_time}\n\n"
            "Price: ${price} per 1M tokens"
        ),
        "ru": (
            "Ваше использование\n\nСегодня: {today}\nЗа месяц: {month}\nЗа всё время: {all_time}\n\n"
            "Цена: ${price} за 1 млн токенов"
        ),
    },
    "usage_line": {
        "en": "{total} tokens (prompt {prompt}, completion {completion}), ${cost}",
        "ru": "{total} токенов (запрос {prompt}, ответ {completion}), ${cost}",
    },
    "only_text": {
        "en": "Sorry, I understand only text messages for now. Please write your question in words.",
        "ru": "Извините, пока я понимаю только текстовые сообщения. Напишите вопрос словами.",
    },
    "ask_hint": {
        "en": "Ask me something: mention @{username} or write /ask followed by your question.",
        "ru": "Спросите меня: упомяните @{username} или напишите /ask и ваш вопрос.",
    },
    "usage_group": {
        "en": "\n\nThis group\nToday: {today}\nThis month: {month}\nAll time: {all_time}",
        "ru": "\n\nЭта группа\nСегодня: {today}\nЗа месяц: {month}\nЗа всё время: {all_time}",
    },
    "usage_quota": {
        "en": "\n\nQuota {period}: {remaining} of {limit} tokens left, renews {reset}",
        "ru": "\n\nКвота {period}: осталось {remaining} из {limit} токенов, обновится {reset}",
    },
    "period_day": {"en": "today", "ru": "на сегодня"},
    "period_month": {"en": "this month", "ru": "на месяц"},
    "admins_only": {
        "en": "Only the bot's admins can do that.",
        "ru": "Это могут делать только администраторы бота.",
    },
    "context_groups_only": {
        "en": "/context is for groups: it lets me read the conversation around a question.",
        "ru": "/context — для групп: так я читаю разговор вокруг вопроса.",
    },
    "context_is_on": {
        "en": (
            "Group context is on: I keep recent messages of this chat, even those not addressed "
            "to me, and read them when I am asked. /context off stops it."
        ),
        "ru": (
            "Контекст группы включён: я храню недавние сообщения этого чата, даже не адресованные "
            "мне, и читаю их, когда меня спрашивают. /context off выключает это."
        ),
    },
    "context_is_off": {
        "en": (
            "Group context is off: I see only messages addressed to me. Admins can turn it on "
            "with /context on (I must be able to read the group: privacy mode off, or admin)."
        ),
        "ru": (
            "Контекст группы выключен: я вижу только сообщения, адресованные мне. Администраторы "
            "могут включить его командой /context on (мне нужен доступ к сообщениям группы: "
            "режим приватности выключен или права администратора)."
        ),
    },
    "context_set_on": {
        "en": "Done: from now on I keep this chat's recent messages as context.",
        "ru": "Готово: теперь я храню недавние сообщения этого чата как контекст.",
    },
    "context_set_off": {
        "en": "Done: I no longer keep messages that are not addressed to me.",
        "ru": "Готово: я больше не храню сообщения, адресованные не мне.",
    },
    "group_admins_only": {
        "en": "Only this group's admins (or the bot's) can do that.",
        "ru": "Это могут делать только администраторы группы (или бота).",
    },
    "access_blocked": {
        "en": "Sorry, you are blocked from using this bot.",
        "ru": "Извините, вам закрыт доступ к этому боту.",
    },
    "access_chat_blocked": {
        "en": "Sorry, this bot is switched off for this group.",
        "ru": "Извините, в этой группе бот отключён.",
    },
    "access_denied": {
        "en": "Sorry, this bot is open only to invited users. Ask an admin to allow your id {user_id}.",
        "ru": "Извините, бот доступен только приглашённым. Попросите администратора открыть доступ "
        "для вашего id {user_id}.",
    },
    "slow_down": {
        "en": "Please slow down a little: try again in {seconds} s.",
        "ru": "Пожалуйста, чуть помедленнее: попробуйте снова через {seconds} с.",
    },
    "quota_day": {
        "en": "You have used your daily quota of {limit} tokens. It renews at {reset}.",
        "ru": "Вы израсходовали дневную квоту в {limit} токенов. Она обновится {reset}.",
    },
    "quota_month": {
        "en": "You have used your monthly quota of {limit} tokens. It renews at {reset}.",
        "ru": "Вы израсходовали месячную квоту в {limit} токенов. Она обновится {reset}.",
    },
    "model_fallback": {
        "en": "ℹ️ The model {wanted} is not available right now, so {model} answers instead.",
        "ru": "ℹ️ Модель {wanted} сейчас недоступна, поэтому отвечает {model}.",
    },
    "model_current": {
        "en": "Model in this chat: {model}\nDefault for all chats: {default}",
        "ru": "Модель в этом чате: {model}\nПо умолчанию для всех чатов: {default}",
    },
    "model_replaced": {
        "en": "\n{wanted} is not available now: {model} answers instead.",
        "ru": "\n{wanted} сейчас недоступна: вместо неё отвечает {model}.",
    },
    "model_pick_chat": {
        "en": "\n\nPick the model for this chat:",
        "ru": "\n\nВыберите модель для этого чата:",
    },
    "model_pick_default": {
        "en": "\n\nPick the default model for all chats:",
        "ru": "\n\nВыберите модель по умолчанию для всех чатов:",
    },
    "model_no_list": {
        "en": "\n\nThe list of models cannot be read right now.",
        "ru": "\n\nСписок моделей сейчас недоступен.",
    },
    "model_use_default": {"en": "↩️ Use the default", "ru": "↩️ По умолчанию"},
    "model_set_chat": {
        "en": "Done: {model} now answers in this chat.",
        "ru": "Готово: теперь в этом чате отвечает {model}.",
    },
    "model_set_default": {
        "en": "Done: {model} is now the default model for all chats.",
        "ru": "Готово: {model} теперь модель по умолчанию для всех чатов.",
    },
    "model_chat_reset": {
        "en": "Done: this chat uses the default model again.",
        "ru": "Готово: в этом чате снова модель по умолчанию.",
    },
    "model_gone": {
        "en": "That model is no longer available. Send /model for the current list.",
        "ru": "Этой модели больше нет. Отправьте /model, чтобы увидеть текущий список.",
    },
    "system_show": {
        "en": "System prompt of this chat:\n\n{prompt}",
        "ru": "Системный промпт этого чата:\n\n{prompt}",
    },
    "system_show_default": {
        "en": "This chat uses the default system prompt:\n\n{prompt}",
        "ru": "В этом чате системный промпт по умолчанию:\n\n{prompt}",
    },
    "system_set": {
        "en": "Done: the new system prompt applies from the next message.",
        "ru": "Готово: новый системный промпт действует со следующего сообщения.",
    },
    "system_reset": {
        "en": "Done: this chat uses the default system prompt again.",
        "ru": "Готово: в этом чате снова системный промпт по умолчанию.",
    },
    "system_too_long": {
        "en": "That system prompt is too long. Please shorten it.",
        "ru": "Этот системный промпт слишком длинный. Сократите его.",
    },
    "admin_usage_hint": {
        "en": "Usage: /{command} <user id or group id>, or send it in a group for that group.",
        "ru": "Формат: /{command} <id пользователя или группы>, или отправьте в группе для неё.",
    },
    "admin_done": {
        "en": "Done: {action} {kind} {id}.",
        "ru": "Готово: {action} {kind} {id}.",
    },
    "quota_usage_hint": {
        "en": "Usage: /quota <user id> <daily tokens> <monthly tokens> (0: none), or /quota <user id> reset.",
        "ru": "Формат: /quota <id> <токенов в день> <токенов в месяц> (0: без квоты) или /quota <id> reset.",
    },
    "quota_set": {
        "en": "Done: quotas of user {id}: daily {daily}, monthly {monthly}.",
        "ru": "Готово: квоты пользователя {id}: в день {daily}, в месяц {monthly}.",
    },
    "stats_period": {
        "en": "{name}: {usage}; {requests} requests, {active} active users",
        "ru": "{name}: {usage}; запросов {requests}, активных пользователей {active}",
    },
    "stats_today": {"en": "Today", "ru": "Сегодня"},
    "stats_month": {"en": "This month", "ru": "За месяц"},
    "stats_all": {"en": "All time", "ru": "За всё время"},
    "stats_models": {"en": "Models this month:", "ru": "Модели за месяц:"},
    "stats_top_users": {
        "en": "Top users this month:",
        "ru": "Самые активные пользователи за месяц:",
    },
    "stats_top_chats": {"en": "Top chats this month:", "ru": "Самые активные чаты за месяц:"},
    "stats_upstream": {
        "en": "Upstream: {health}; time to first token p50 {p50}, p95 {p95} ({samples} requests); errors: {errors}",
        "ru": "Апстрим: {health}; время до первого токена p50 {p50}, p95 {p95} (запросов {samples}); ошибки: {errors}",
    },
    "health_ok": {"en": "healthy", "ru": "в порядке"},
    "health_bad": {"en": "NOT healthy", "ru": "НЕ в порядке"},
    "none": {"en": "none", "ru": "нет"},
    "stop_button": {"en": "⏹ Stop", "ru": "⏹ Стоп"},
    "continue_button": {"en": "▶️ Continue", "ru": "▶️ Продолжить"},
    "stopped_note": {"en": "⏹ Stopped.", "ru": "⏹ Остановлено."},
    "interrupted_note": {
        "en": "⚠️ The answer was interrupted by a network error.",
        "ru": "⚠️ Ответ прервался из-за сетевой ошибки.",
    },
    "length_note": {
        "en": "✂️ The answer reached the length limit. Press Continue to go on.",
        "ru": "✂️ Ответ упёрся в ограничение длины. Нажмите «Продолжить».",
    },
    "nothing_to_continue": {
        "en": "There is nothing to continue.",
        "ru": "Продолжать нечего.",
    },
    "stopping": {"en": "Stopping…", "ru": "Останавливаю…"},
    "restarting": {
        "en": "⏳ I am restarting. Please send that again in a minute.",
        "ru": "⏳ Я перезапускаюсь. Пожалуйста, отправьте это ещё раз через минуту.",
    },
    "thinking_status": {"en": "Thinking…", "ru": "Думаю…"},
    "new_topic_name": {"en": "New chat", "ru": "Новый чат"},
    "new_topic_ready": {
        "en": "A new conversation: ask your question here.",
        "ru": "Новый разговор: задайте вопрос здесь.",
    },
    "reasoning_summary": {"en": "💭 Reasoning", "ru": "💭 Рассуждения"},
    "empty_answer": {
        "en": "The model returned an empty answer. Please try again.",
        "ru": "Модель вернула пустой ответ. Попробуйте ещё раз.",
    },
    "error_generic": {
        "en": "Something went wrong. Please try again.",
        "ru": "Что-то пошло не так. Попробуйте ещё раз.",
    },
    "error_too_long": {
        "en": "Your message is too long for me ({tokens} tokens, the limit is {limit}). "
        "Please shorten it or split it into parts.",
        "ru": "Сообщение слишком длинное ({tokens} токенов, предел {limit}). "
        "Сократите его или разбейте на части.",
    },
    "error_upstream": {
        "en": "The model service failed. Please try again in a moment.",
        "ru": "Сервис модели дал сбой. Попробуйте ещё раз чуть позже.",
    },
    "error_auth": {
        "en": "The bot cannot sign in to the model service. The owner has been notified.",
        "ru": "Бот не может авторизоваться в сервисе модели. Владелец уже оповещён.",
    },
    "error_balance": {
        "en": "The bot's balance with the model service has run out. Please try again later.",
        "ru": "У бота закончился баланс в сервисе модели. Попробуйте позже.",
    },
    "error_model": {
        "en": "The model is not available right now. Please try again later.",
        "ru": "Модель сейчас недоступна. Попробуйте позже.",
    },
    "error_busy": {
        "en": "The network is busy right now. Please try again in a minute.",
        "ru": "Сеть сейчас перегружена. Попробуйте через минуту.",
    },
    "error_timeout": {
        "en": "The model took too long to answer. Please try again.",
        "ru": "Модель отвечала слишком долго. Попробуйте ещё раз.",
    },
    "error_unavailable": {
        "en": "The model service is unavailable right now. Please try again in a moment.",
        "ru": "Сервис модели сейчас недоступен. Попробуйте чуть позже.",
    },
    "error_bad_request": {
        "en": "The model service rejected the request. Try /new to start a fresh conversation.",
        "ru": "Сервис модели отклонил запрос. Попробуйте /new, чтобы начать заново.",
    },
    "error_interrupted": {
        "en": "The answer was interrupted by a network error. Please try again.",
        "ru": "Ответ прервался из-за сетевой ошибки. Попробуйте ещё раз.",
    },
    "error_storage": {
        "en": "I am temporarily unavailable (storage is down). Please try again in a minute.",
        "ru": "Я временно недоступен (хранилище не отвечает). Попробуйте через минуту.",
    },
}


def lang_of(language_code: str | None) -> Lang:
    """Russian for users whose Telegram language is Russian, English for everyone else."""
    return "ru" if (language_code or "").lower().split("-")[0] == "ru" else "en"


def t(key: str, lang: Lang, **values: object) -> str:
    """The text `key` in `lang`, formatted with `values`."""
    text = TEXTS[key][lang]
    return text.format(**values) if values else text

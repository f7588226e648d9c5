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
            "/help: this help"
        ),
        "ru": (
            "Привет! Я чат-бот на децентрализованной сети инференса Gonka.\n\n"
            "Просто напишите мне: я помню наш разговор и отвечаю по мере набора текста.\n"
            "/new или /reset: начать новый разговор\n/usage: ваши токены и их стоимость\n"
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

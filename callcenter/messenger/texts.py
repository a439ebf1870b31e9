"""What the bot says (Persian) and its keyboards, as Bot API JSON (stored with the row).

Reply keyboards carry the choices (their text comes back as the citizen's message);
inline keyboards carry the survey (their ``callback_data`` comes back).
"""

from __future__ import annotations

from typing import Any

from callcenter.digits import persian_digits

NEW_REQUEST = "ثبت درخواست جدید"
FOLLOW_UP = "پیگیری درخواست"
STOP_PUSH = "توقف پیام‌های اطلاع‌رسانی"
START_PUSH = "دریافت پیام‌های اطلاع‌رسانی"
SKIP = "رد شدن"
CANCEL = "انصراف"
SHARE_CONTACT = "ارسال شماره تلفن من"
SHARE_LOCATION = "ارسال موقعیت مکانی"

TEXTS = {
    "welcome": "به بات سامانه ۱۳۷ شهرداری یزد خوش آمدید. برای ثبت درخواست دکمه «{new}» "
               "و برای پیگیری، کد رهگیری را بفرستید.",
    "ask_contact": "اگر مایلید درخواست‌هایتان به شماره تلفن شما هم پیوند بخورد (و پیامک "
                   "پیگیری بگیرید)، شماره تلفن خود را با دکمه زیر بفرستید؛ وگرنه «{skip}» "
                   "را بزنید.",
    "contact_linked": "شماره تلفن شما ثبت شد و درخواست‌هایتان به آن پیوند خورد.",
    "not_own_contact": "لطفاً شماره تلفن خودتان را با دکمه «{button}» بفرستید.",
    "ask_category": "موضوع درخواست را انتخاب کنید.",
    "ask_district": "محله را انتخاب کنید (یا «{skip}»).",
    "ask_location": "موقعیت مکانی را با دکمه زیر بفرستید (یا «{skip}»).",
    "ask_photo": "اگر عکسی دارید بفرستید (یا «{skip}»).",
    "ask_description": "توضیح کوتاهی از مشکل بنویسید.",
    "ask_code": "کد رهگیری ۸ رقمی درخواست را بفرستید.",
    "pick_from_keyboard": "لطفاً یکی از گزینه‌های صفحه‌کلید را انتخاب کنید.",
    "photo_too_large": "عکس بزرگ‌تر از حد مجاز ({limit} مگابایت) است. عکس کوچک‌تری "
                       "بفرستید یا «{skip}» را بزنید.",
    "photo_wrong_type": "فقط عکس (JPEG، PNG یا WebP) پذیرفته می‌شود. عکس بفرستید یا "
                        "«{skip}» را بزنید.",
    "filed": "درخواست شما ثبت شد. کد رهگیری: {code}",
    "repeat": "این موضوع پیش‌تر با کد {code} ثبت شده و در حال رسیدگی است؛ گزارش شما به "
              "آن افزوده شد.",
    "status": "وضعیت درخواست {code}: {status} — واحد: {department}",
    "code_unknown": "درخواستی با کد {code} پیدا نشد.",
    "status_changed": "درخواست {code}: {status}",
    "survey": "درخواست {code} رسیدگی شد. از ۱ تا ۵ چه نمره‌ای می‌دهید؟",
    "survey_fixed": "آیا مشکل برطرف شد؟",
    "survey_thanks": "از پاسخ شما سپاسگزاریم.",
    "survey_closed": "این نظرسنجی دیگر باز نیست.",
    "cancelled": "لغو شد.",
    "push_stopped": "دیگر پیام اطلاع‌رسانی برایتان فرستاده نمی‌شود. برای دریافت دوباره "
                    "«{start}» را بزنید.",
    "push_started": "پیام‌های اطلاع‌رسانی دوباره فرستاده می‌شوند.",
    "private_only": "این بات فقط در گفت‌وگوی خصوصی پاسخ می‌دهد.",
}

YES, NO = "بله", "خیر"


def say(key: str, **values: Any) -> str:
    """The text ``key``, values filled in, digits Persian."""
    defaults = {"new": NEW_REQUEST, "skip": SKIP, "button": SHARE_CONTACT, "start": START_PUSH}
    return persian_digits(TEXTS[key].format(**{**defaults, **values}))


def reply_keyboard(rows: list[list[str]]) -> dict[str, Any]:
    return {"keyboard": [[{"text": label} for label in row] for row in rows],
            "resize_keyboard": True, "one_time_keyboard": True}


def main_menu(*, opted_out: bool) -> dict[str, Any]:
    return reply_keyboard([[NEW_REQUEST], [FOLLOW_UP],
                           [START_PUSH if opted_out else STOP_PUSH]])


def contact_keyboard() -> dict[str, Any]:
    return {"keyboard": [[{"text": SHARE_CONTACT, "request_contact": True}],
                         [{"text": SKIP}, {"text": CANCEL}]],
            "resize_keyboard": True, "one_time_keyboard": True}


def location_keyboard() -> dict[str, Any]:
    return {"keyboard": [[{"text": SHARE_LOCATION, "request_location": True}],
                         [{"text": SKIP}, {"text": CANCEL}]],
            "resize_keyboard": True, "one_time_keyboard": True}


def choices_keyboard(labels: list[str], *, per_row: int = 2, skip: bool = False
                     ) -> dict[str, Any]:
    rows = [labels[i:i + per_row] for i in range(0, len(labels), per_row)]
    rows.append([SKIP, CANCEL] if skip else [CANCEL])
    return reply_keyboard(rows)


def rating_keyboard(request_id: int) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": persian_digits(str(n)),
                                  "callback_data": f"rate:{request_id}:{n}"}
                                 for n in range(1, 6)]]}


def fixed_keyboard(request_id: int) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": YES, "callback_data": f"fixed:{request_id}:1"},
                                 {"text": NO, "callback_data": f"fixed:{request_id}:0"}]]}
